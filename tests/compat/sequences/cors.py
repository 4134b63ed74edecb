"""CORS preflights and CORS headers on normal and error responses."""
from common import RECS, base, get, put, rec, seq

O = "http://app.example"


def pre(path, method="GET", headers=None, origin=O, **kw):
    h = {"Access-Control-Request-Method": method}
    if origin:
        h["Origin"] = origin
    if headers:
        h["Access-Control-Request-Headers"] = headers
    s = {"m": "OPTIONS", "p": path, "as": None, "h": h}
    s.update(kw)
    return s


SEQUENCES = []
for path in ["/", "/buckets", "/buckets/{B}", "/buckets/{B}/collections", RECS, RECS + "/r1", "/batch",
             "/accounts", "/accounts/x", "/permissions", "/buckets/{B}/history", "/__heartbeat__",
             "/buckets/{B}/groups/g", "/buckets/default/collections/c/records"]:
    for method, hdrs in [("GET", None), ("PUT", "Authorization, Content-Type, If-Match"),
                         ("DELETE", "If-None-Match"), ("POST", "content-type,x-custom")]:
        SEQUENCES.append(seq("preflight-%s-%s" % (path.replace("{B}", "B"), method), [pre(path, method, hdrs)]))

SEQUENCES += [
    seq("preflight-errors", [
        pre(RECS, origin=None),
        {"m": "OPTIONS", "p": RECS, "as": None, "h": {"Origin": O}},
        pre("/buckets/{B}", "POST"),
        pre("/nothing/here"),
        pre("/buckets/"),
        pre("/buckets", noprefix=True),
    ]),
    seq("cors-on-responses", base() + [
        rec("r1", {"a": 1}),
        get(RECS, h={"Origin": O}),
        get(RECS + "/r1", h={"Origin": O}),
        {"m": "HEAD", "p": RECS, "h": {"Origin": O}},
        put(RECS + "/r2", {"data": {}}, h={"Origin": O}),
        get(RECS + "/nope", h={"Origin": O}),
        get(RECS, as_=None, h={"Origin": O}),
        get("/", as_=None, h={"Origin": O}),
        get("/nothing", h={"Origin": O}),
        {"m": "POST", "p": "/batch", "body": {"requests": [{"path": "/"}]}, "h": {"Origin": O}},
    ]),
]
