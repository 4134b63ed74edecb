"""Helpers shared by the sequence modules.

A sequence is {"name": str, "steps": [step, ...], "env"?: {var: value}}.
A step is a dict:
  m        HTTP method (default GET)
  p        path; "/v1" is prefixed unless it already starts with /v1 or "noprefix" is true
  body     JSON body (sent with Content-Type: application/json unless "ct" says otherwise)
  raw      raw body string (instead of body)
  ct       Content-Type header (None = no header)
  h        extra headers {name: value}
  as       who: "alice" (default), "bob", "carol", "dave" (basicauth users, suffixed with the
           sequence tag), None (anonymous), "acct:NAME[:PW]", "raw:user:pw", "hdr:<Authorization>"
  cap      {var: source} captures from the response, per server: "etag" (int), "next"
           (Next-Page path+query), "hdr.Name", "body.data.id" ...
  genid    true: the response data.id is a generated id (normalised as <GENn>)
  quirk    id of an allowlisted Kinto quirk (a difference on this step is expected)
  compare  "status" to compare only the status
  nocompare true: setup step, not compared
  note     free text shown in failure output
Strings may use {B} (the sequence's bucket id), {S} (sequence tag), {alice}/{bob}/{carol}/{dave}
(their principals), {PW} and any captured variable.  A string that is exactly "{var}" is replaced by
the captured value with its JSON type (e.g. an integer timestamp).
"""

RECS = "/buckets/{B}/collections/c/records"


def step(m, p, body=None, **kw):
    s = {"m": m, "p": p}
    if body is not None:
        s["body"] = body
    if "as_" in kw:
        s["as"] = kw.pop("as_")
    s.update(kw)
    return s


def get(p, **kw):
    return step("GET", p, **kw)


def head(p, **kw):
    return step("HEAD", p, **kw)


def put(p, body=None, **kw):
    return step("PUT", p, body, **kw)


def post(p, body=None, **kw):
    return step("POST", p, body, **kw)


def patch(p, body=None, **kw):
    return step("PATCH", p, body, **kw)


def delete(p, **kw):
    return step("DELETE", p, **kw)


def bucket(perms=None, **kw):
    body = {"data": {}}
    if perms:
        body["permissions"] = perms
    return put("/buckets/{B}", body, **kw)


def coll(cid="c", data=None, perms=None, **kw):
    body = {"data": data or {}}
    if perms:
        body["permissions"] = perms
    return put("/buckets/{B}/collections/" + cid, body, **kw)


def rec(rid, data, cid="c", **kw):
    return put("/buckets/{B}/collections/%s/records/%s" % (cid, rid), {"data": data}, **kw)


def base(cid="c"):
    """Bucket + collection owned by alice."""
    return [bucket(), coll(cid)]


def seq(name, steps, **kw):
    d = {"name": name, "steps": steps}
    d.update(kw)
    return d
