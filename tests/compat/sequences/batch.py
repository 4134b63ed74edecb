"""Batch endpoint."""
from common import RECS, base, get, post, put, rec, seq

B = "/batch"
SEQUENCES = [
    seq("batch-basic", base() + [
        post(B, {"requests": [
            {"method": "PUT", "path": RECS + "/r1", "body": {"data": {"a": 1}}},
            {"method": "POST", "path": RECS, "body": {"data": {"id": "r2", "a": 2}}},
            {"path": RECS + "/r1"},
            {"method": "GET", "path": RECS + "?_sort=id&_limit=1"},
            {"method": "HEAD", "path": RECS},
            {"method": "DELETE", "path": RECS + "/r2"},
            {"method": "GET", "path": RECS + "/r2"},
            {"method": "PATCH", "path": RECS + "/r1", "body": {"data": {"b": 2}}},
        ]}),
    ]),
    seq("batch-defaults", base() + [
        post(B, {"defaults": {"method": "PUT", "path": RECS + "/d1", "headers": {"If-None-Match": "*"},
                              "body": {"data": {"def": True}}},
                 "requests": [{}, {"path": RECS + "/d2", "body": {"data": {"x": 1}}}, {}]}),
        get(RECS + "?_sort=id"),
    ]),
    seq("batch-no-prefix-and-redirects", base() + [
        post(B, {"requests": [
            {"method": "PUT", "path": "/buckets/{B}/collections/c/records/r1", "body": {"data": {}}},
            {"path": "/v1/buckets/{B}/collections/c/records/"},
            {"path": "/v1/buckets/{B}/collections/c/records/r1?_fields=id"},
        ]}),
    ]),
    seq("batch-errors-inside", base() + [
        rec("r1", {"a": 1}, cap={"t": "etag"}),
        post(B, {"requests": [
            {"method": "PUT", "path": RECS + "/r1", "body": {"data": {}}, "headers": {"If-Match": '"1"'}},
            {"method": "GET", "path": RECS + "/nope"},
            {"method": "PUT", "path": RECS + "/bad id", "body": {"data": {}}},
            {"method": "GET", "path": "/buckets/other-{S}", "headers": {}},
            {"method": "PUT", "path": RECS + "/r3", "body": {"data": {"x": 1}}},
            {"method": "GET", "path": "/unknown"},
        ]}),
        get(RECS + "?_sort=id"),
    ]),
    seq("batch-anonymous-subrequests", base() + [
        post(B, {"requests": [{"path": RECS}, {"path": "/"}]}, as_=None),
        post(B, {"requests": [{"path": RECS}, {"path": RECS, "headers": {"Authorization": "Basic Ym9iOnNlY3JldA=="}}]},
             as_=None),
    ]),
    seq("batch-validation", base() + [
        post(B, {}),
        post(B, {"requests": []}),
        post(B, {"requests": "x"}),
        post(B, {"requests": [{"method": "get", "path": "/"}]}),
        post(B, {"requests": [{"method": "FOO", "path": "/"}]}),
        post(B, {"requests": [{"path": "buckets"}]}),
        post(B, {"requests": [{}]}),
        post(B, {"requests": [{"path": "/batch"}]}),
        post(B, {"requests": [{"path": "/", "extra": 1}]}),
        post(B, {"requests": [{"path": "/", "headers": {"X": 1}}]}),
        post(B, {"requests": [{"path": "/", "body": [1]}]}, quirk="QUIRK-BATCH-BODY"),
        post(B, {"requests": [{"path": "/"}], "other": 1}),
        post(B, {"requests": [{"path": "/"}] * 26}),
        post(B, {"requests": [{"path": "/"}] * 25}),
        post(B, raw="{nope"),
        post(B, raw="{}", ct="text/plain"),
    ]),
    seq("batch-default-bucket", [
        post(B, {"requests": [
            {"method": "PUT", "path": "/buckets/default/collections/tasks/records/t1", "body": {"data": {"a": 1}}},
            {"path": "/buckets/default/collections/tasks/records"},
        ]}, as_="dave"),
    ]),
    seq("batch-subrequest-headers", base() + [
        rec("r1", {"a": 1}),
        post(B, {"requests": [
            {"path": RECS + "?_limit=1&_sort=id"},
            {"path": RECS + "?_to=1"},
            {"method": "HEAD", "path": RECS},
        ]}),
    ]),
]
