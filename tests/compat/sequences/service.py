"""Service endpoints, redirects, unknown routes, 405s, content negotiation."""
from common import RECS, base, bucket, delete, get, head, patch, post, put, rec, seq, step

SEQUENCES = [
    seq("hello-anonymous", [get("/", as_=None), head("/", as_=None)]),
    seq("hello-basicauth", [get("/")]),
    seq("hello-wrong-account-falls-through", [get("/", as_="acct:nobody-{S}:x")]),
    seq("hello-bad-authorization", [get("/", as_="hdr:Basic !!!notbase64"), get("/", as_="hdr:Bearer abc"),
                                    get("/", as_="raw::nopassuser")]),
    seq("hello-with-group-principal", [
        bucket(),
        put("/buckets/{B}/groups/g", {"data": {"members": ["{bob}"]}}),
        get("/", as_="bob"),
    ]),
    seq("heartbeat", [get("/__heartbeat__", as_=None), get("/__lbheartbeat__", as_=None)]),
    seq("version", [get("/__version__", as_=None, quirk="QUIRK-VERSION-500")]),
    seq("openapi", [get("/__api__", as_=None)]),
    seq("contribute", [get("/contribute.json", as_=None)]),
    seq("redirect-root", [get("/", noprefix=True, as_=None)]),
    seq("redirect-no-version", [get("/buckets?x=1", noprefix=True, as_=None)]),
    seq("redirect-v1-no-slash", [get("/v1", noprefix=True, as_=None)]),
    seq("redirect-trailing-slash", [get("/buckets/", as_=None), get("/buckets/{B}/collections/?_limit=1")]),
    seq("options-no-version", [step("OPTIONS", "/buckets", noprefix=True, as_=None)]),
    seq("other-version-404", [get("/v2/buckets", noprefix=True, as_=None), get("/v0/", noprefix=True)]),
    seq("unknown-route-404", [get("/nothing/here", as_=None), get("/buckets/{B}/nope"),
                              post("/nothing", {"data": {}})]),
    seq("405-methods", [
        step("PUT", "/buckets", {"data": {}}),
        step("PATCH", "/buckets/{B}/collections", {"data": {}}),
        step("POST", "/buckets/{B}", {"data": {}}),
        step("DELETE", "/", as_=None),
        step("POST", "/__heartbeat__", {}, as_=None),
        step("GET", "/batch"),
    ]),
    seq("415-wrong-content-type", base() + [
        put(RECS + "/r1", raw="a=b", ct="application/x-www-form-urlencoded"),
        post(RECS, raw="{}", ct="text/plain"),
        patch(RECS + "/r1", raw="{}", ct="text/plain"),
        put("/buckets/{B}", raw="{}", ct="application/xml"),
    ]),
    seq("content-type-with-charset-ok", base() + [
        put(RECS + "/r1", raw='{"data": {"a": 1}}', ct="application/json; charset=utf-8"),
        put(RECS + "/r2", raw='{"data": {"a": 2}}', ct=None),
    ]),
    seq("406-accept", base() + [
        get(RECS, h={"Accept": "text/html"}),
        get(RECS, h={"Accept": "application/*"}),
        get(RECS, h={"Accept": "*/*"}),
        get("/buckets/{B}", h={"Accept": "text/plain, application/json;q=0.5"}),
    ]),
    seq("get-ignores-content-type-and-body", base() + [
        step("GET", RECS, raw="not json", ct="text/plain"),
        step("DELETE", RECS, raw="garbage", ct="application/xml"),
    ]),
    seq("unicode-and-big-numbers", base() + [
        rec("r1", {"t": "\u00e9t\u00e9 \u2603 /slash", "big": 12345678901234567890, "f": 1.5, "neg": -3,
                   "n": None, "nested": {"a": [1, {"b": "\u00fc"}]}}),
        get(RECS + "/r1"),
    ]),
    seq("unknown-underscore-params-ignored", base() + [
        rec("r1", {"a": 1}),
        get(RECS + "?_expected=123&_foo=bar"),
        get("/buckets/{B}/collections/c?_expected=1"),
    ]),
    seq("head-object-and-list", base() + [
        rec("r1", {"a": 1}),
        head(RECS + "/r1"),
        head(RECS),
        head("/buckets/{B}"),
        head("/buckets/{B}/collections"),
    ]),
]
