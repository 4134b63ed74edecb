"""PATCH flavours: merge, merge-patch, JSON-Patch, Response-Behavior full (not light/diff)."""
from common import RECS, base, get, patch, put, rec, seq

OBJ = RECS + "/r1"
START = {"a": {"b": "c", "x": 1}, "c": "keep", "l": [1, 2], "n": None}
MP = "application/merge-patch+json"
JP = "application/json-patch+json"


def s(name, *steps, start=START):
    return seq(name, base() + [rec("r1", start)] + list(steps) + [get(OBJ)])


SEQUENCES = [
    s("merge-shallow", patch(OBJ, {"data": {"a": {"d": "e"}, "c": None, "z": 1}})),
    s("merge-empty-body", patch(OBJ, {})),
    s("merge-data-empty", patch(OBJ, {"data": {}})),
    s("merge-perms-only", patch(OBJ, {"permissions": {"read": ["{bob}"]}})),
    s("merge-perms-null-ignored", patch(OBJ, {"permissions": {"read": ["{bob}"]}}),
      patch(OBJ, {"permissions": {"read": None, "write": ["{carol}"]}})),
    s("merge-perms-clear", patch(OBJ, {"permissions": {"read": ["{bob}"]}}), patch(OBJ, {"permissions": {"read": []}})),
    s("merge-bad-perm-name", patch(OBJ, {"permissions": {"record:create": ["x"]}})),
    s("merge-no-content-type", patch(OBJ, raw='{"data": {"q": 1}}', ct=None)),
    s("merge-unknown-key", patch(OBJ, {"data": {}, "foo": 1})),
    s("merge-data-array", patch(OBJ, {"data": [1]})),
    s("mergepatch-recursive", patch(OBJ, {"data": {"a": {"d": "e", "x": None}, "c": None}}, ct=MP)),
    s("mergepatch-null-removes", patch(OBJ, {"data": {"a": None, "n": None, "l": [3]}}, ct=MP)),
    s("mergepatch-perms", patch(OBJ, {"permissions": {"read": ["{bob}"]}}, ct=MP),
      patch(OBJ, {"permissions": {"read": None}}, ct=MP)),
    s("mergepatch-empty", patch(OBJ, {}, ct=MP)),
    s("mergepatch-bad-json", patch(OBJ, raw="{x", ct=MP)),
    s("jsonpatch-add-replace-remove", patch(OBJ, [
        {"op": "add", "path": "/data/z", "value": 3},
        {"op": "replace", "path": "/data/c", "value": "changed"},
        {"op": "remove", "path": "/data/n"},
        {"op": "add", "path": "/data/l/-", "value": 9},
        {"op": "add", "path": "/data/a/y", "value": {"deep": True}},
    ], ct=JP)),
    s("jsonpatch-move-copy-test", patch(OBJ, [
        {"op": "test", "path": "/data/c", "value": "keep"},
        {"op": "copy", "from": "/data/c", "path": "/data/c2"},
        {"op": "move", "from": "/data/a/b", "path": "/data/b"},
    ], ct=JP)),
    s("jsonpatch-test-fails", patch(OBJ, [{"op": "test", "path": "/data/c", "value": "other"}], ct=JP)),
    s("jsonpatch-remove-missing", patch(OBJ, [{"op": "remove", "path": "/data/nope"}], ct=JP)),
    s("jsonpatch-replace-missing", patch(OBJ, [{"op": "replace", "path": "/data/nope", "value": 1}], ct=JP)),
    s("jsonpatch-bad-op", patch(OBJ, [{"op": "frobnicate", "path": "/data/c"}], ct=JP)),
    s("jsonpatch-extra-key", patch(OBJ, [{"op": "add", "path": "/data/c", "value": 1, "extra": 2}], ct=JP)),
    s("jsonpatch-object-body", patch(OBJ, {"data": {"c": 1}}, ct=JP)),
    s("jsonpatch-empty-list", patch(OBJ, [], ct=JP)),
    s("jsonpatch-change-id", patch(OBJ, [{"op": "replace", "path": "/data/id", "value": "other"}], ct=JP)),
    s("jsonpatch-perms-add-remove", patch(OBJ, [
        {"op": "add", "path": "/permissions/read/{bob}"},
        {"op": "add", "path": "/permissions/write/{carol}"},
    ], ct=JP), patch(OBJ, [{"op": "remove", "path": "/permissions/read/{bob}"}], ct=JP)),
    s("jsonpatch-perms-group-escaped", patch(OBJ, [
        {"op": "add", "path": "/permissions/read/~1buckets~1{B}~1groups~1g"}], ct=JP)),
    s("jsonpatch-perms-other-key", patch(OBJ, [{"op": "add", "path": "/permissions/record:create/x", "value": "x"}],
                                         ct=JP)),
    s("jsonpatch-whole-data", patch(OBJ, [{"op": "replace", "path": "/data", "value": {"only": 1}}], ct=JP)),
    s("jsonpatch-bad-path", patch(OBJ, [{"op": "add", "path": "data/x", "value": 1}], ct=JP)),
    s("response-behavior-full", patch(OBJ, {"data": {"a": 2}}, h={"Response-Behavior": "full"}),
      put(OBJ, {"data": {"a": 3}}, h={"Response-Behavior": "full"})),
    s("response-behavior-bogus", patch(OBJ, {"data": {"a": 2}}, h={"Response-Behavior": "bogus"})),
    s("patch-missing-object", patch(RECS + "/nope", {"data": {"a": 1}})),
    s("patch-bucket-and-collection", patch("/buckets/{B}", {"data": {"x": 1}}),
      patch("/buckets/{B}/collections/c", {"data": {"y": [1]}}, ct=MP),
      patch("/buckets/{B}/collections/c", [{"op": "add", "path": "/data/z", "value": 1}], ct=JP),
      get("/buckets/{B}/collections/c")),
    s("patch-group-members", put("/buckets/{B}/groups/g", {"data": {"members": ["{bob}"]}}),
      patch("/buckets/{B}/groups/g", [{"op": "add", "path": "/data/members/-", "value": "{carol}"}], ct=JP),
      patch("/buckets/{B}/groups/g", {"data": {"members": "nope"}}),
      get("/buckets/{B}/groups/g")),
]
