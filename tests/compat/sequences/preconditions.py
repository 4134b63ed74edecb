"""If-Match / If-None-Match matrix on objects and lists, 304, 412 bodies, header format."""
from common import RECS, base, delete, get, head, patch, post, put, rec, seq

OBJ = RECS + "/r1"

# (header name, value template): "{t}" is the record's current ETag, "{old}" a stale one
HEADERS = [
    ("If-Match", '"{t}"'), ("If-Match", '"{old}"'), ("If-Match", "*"),
    ("If-None-Match", "*"), ("If-None-Match", '"{t}"'), ("If-None-Match", '"{old}"'),
]
NAMES = {'"{t}"': "current", '"{old}"': "stale", "*": "star"}


def method_steps(meth, h, exists):
    hdr = {h[0]: h[1]}
    target = OBJ if exists else RECS + "/missing"
    if meth == "GET":
        return [get(target, h=hdr)]
    if meth == "HEAD":
        return [head(target, h=hdr)]
    if meth == "PUT":
        return [put(target, {"data": {"v": 2}}, h=hdr)]
    if meth == "PATCH":
        return [patch(target, {"data": {"v": 3}}, h=hdr)]
    if meth == "DELETE":
        return [delete(target, h=hdr)]
    if meth == "POST":
        return [post(RECS, {"data": {"id": "r1" if exists else "newid", "v": 4}}, h=hdr)]
    if meth == "POST-noid":
        return [post(RECS, {"data": {"v": 5}}, h=hdr, genid=True)]


SEQUENCES = []
for meth in ["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"]:
    for h in HEADERS:
        for exists in (True, False):
            name = "%s-%s-%s-%s" % (meth, h[0], NAMES[h[1]], "exists" if exists else "missing")
            steps = base() + [
                rec("r1", {"v": 0}, cap={"old": "etag"}),
                rec("r1", {"v": 1}, cap={"t": "etag"}),
            ] + method_steps(meth, h, exists) + [get(OBJ)]
            SEQUENCES.append(seq(name, steps))

for h in HEADERS:
    SEQUENCES.append(seq("POST-noid-%s-%s" % (h[0], NAMES[h[1]]), base() + [
        rec("r1", {"v": 0}, cap={"old": "etag"}),
        rec("r1", {"v": 1}, cap={"t": "etag"}),
        get(RECS, cap={"lt": "etag"}),
    ] + method_steps("POST-noid", h, True)))

for meth in ["GET", "HEAD", "DELETE"]:
    SEQUENCES.append(seq("list-%s-preconditions" % meth, base() + [
        rec("r1", {"v": 0}, cap={"old": "etag"}),
        rec("r2", {"v": 1}),
        get(RECS, cap={"lt": "etag"}),
    ] + [{"m": meth, "p": RECS + "?v=5", "h": hd} for hd in (
        {"If-Match": '"{old}"'}, {"If-None-Match": "*"}, {"If-None-Match": '"{lt}"'},
        {"If-Match": "*"}, {"If-None-Match": '"{old}"'}, {"If-Match": '"{lt}"'})]))

SEQUENCES.append(seq("header-format-errors", base() + [
    rec("r1", {"v": 0}, cap={"t": "etag"}),
] + [get(OBJ, h={n: v}) for n in ("If-Match", "If-None-Match")
     for v in ("123", 'W/"123"', '"abc"', '"*"', '"1", "2"', "")] + [
    put(OBJ, {"data": {}}, h={"If-Match": "{t}"}),
    get(OBJ, h={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}),
    get(OBJ, h={"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}),
]))

SEQUENCES.append(seq("precondition-on-bucket-and-collection", base() + [
    get("/buckets/{B}", cap={"bt": "etag"}),
    get("/buckets/{B}", h={"If-None-Match": '"{bt}"'}),
    put("/buckets/{B}", {"data": {"x": 1}}, h={"If-Match": '"{bt}"'}),
    put("/buckets/{B}", {"data": {"x": 2}}, h={"If-Match": '"{bt}"'}),
    put("/buckets/{B}", {"data": {}}, h={"If-None-Match": "*"}),
    put("/buckets/{B}/collections/c", {"data": {}}, h={"If-None-Match": "*"}),
    put("/buckets/{B}/collections/c2", {"data": {}}, h={"If-None-Match": "*"}),
    put("/buckets/{B}/collections/c3", {"data": {}}, h={"If-Match": "*"}),
    get("/buckets/{B}/collections", cap={"ct": "etag"}),
    get("/buckets/{B}/collections", h={"If-None-Match": '"{ct}"'}),
]))

SEQUENCES.append(seq("inm-star-create-permission", [
    put("/buckets/{B}", {"data": {}, "permissions": {"read": ["{bob}"]}}),
    put("/buckets/{B}/collections/c", {"data": {}, "permissions": {"write": ["{bob}"]}}),
    put("/buckets/{B}/collections/c", {"data": {}}, h={"If-None-Match": "*"}, as_="bob"),
    put("/buckets/{B}/collections/c", {"data": {}}, h={"If-None-Match": "*"}),
]))
