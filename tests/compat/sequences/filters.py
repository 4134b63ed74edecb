"""Filters: every operator x several values x value types, nested fields, reserved fields."""
import urllib.parse

from common import RECS, bucket, coll, get, head, post, seq

# One record per JSON type / edge case for field n; `title` is always a string; `tags` is an
# array on some records; `author.name` nested on some.
DATASET = [
    ("r01", {"n": 1, "title": "one", "tags": ["a", "b"], "author": {"name": "Ben"}}),
    ("r02", {"n": 2, "title": "two", "tags": ["b"], "author": {"name": "ann"}}),
    ("r03", {"n": "3", "title": "Three", "tags": [], "author": {}}),
    ("r04", {"title": "four (no n)", "tags": ["c", 1]}),
    ("r05", {"n": 10, "title": "ten", "tags": [{"x": 1}], "author": {"name": "Benjamin"}}),
    ("r06", {"n": None, "title": "null", "tags": ["a"]}),
    ("r07", {"n": True, "title": "true"}),
    ("r08", {"n": False, "title": "false", "author": "plain"}),
    ("r09", {"n": [1, 2], "title": "list", "tags": ["a", "c"]}),
    ("r10", {"n": {"k": "v"}, "title": "object"}),
    ("r11", {"n": "abc", "title": "abc"}),
    ("r12", {"n": 2.5, "title": "two and a half"}),
    ("r13", {"n": "Hello World", "title": "Hello World"}),
    ("r14", {"n": "", "title": "empty string"}),
]


def dataset_steps(no_bool=False):
    """no_bool: booleans in n become strings (Kinto's memory backend compares in_/exclude_ values
    with Python ==, where 1 == true; see QUIRK-MEMORY-PY-EQUALITY)."""
    def fix(d):
        if no_bool and isinstance(d.get("n"), bool):
            d = dict(d, n=str(d["n"]).lower() + "-str")
        return d
    reqs = [{"method": "PUT", "path": "/buckets/{B}/collections/c/records/%s" % rid, "body": {"data": fix(data)}}
            for rid, data in DATASET]
    return [
        bucket(),
        coll(),
        post("/batch", {"requests": reqs}, nocompare=True),
    ]


def q(params):
    return urllib.parse.quote(params, safe="=&,_*")


def query_steps(qs, **kw):
    return [get(RECS + "?" + qs + "&_sort=id", **kw), head(RECS + "?" + qs, **kw)]


VALUES = ["1", "2", "10", "2.5", "true", "false", "null", "abc", '"3"', "3", '""', "[1,2]",
          '{"k":"v"}', "Hello World", ""]
SEQUENCES = []

for op in ["", "eq_", "not_", "min_", "max_", "lt_", "gt_"]:
    for v in VALUES:
        qs = "%sn=%s" % (op, urllib.parse.quote(v, safe=""))
        SEQUENCES.append(seq("op-%s%s" % (op or "eq-plain_", v or "<empty>"), dataset_steps() + query_steps(qs)))

for op in ["in_", "exclude_"]:
    for v in ["1,2", '1,"3"', "abc,true", "1,", ",", "null", "", '["a","b"]', "2.5,10,false", "Hello World,abc"]:
        qs = "%sn=%s" % (op, urllib.parse.quote(v, safe=","))
        SEQUENCES.append(seq("op-%s%s" % (op, v or "<empty>"), dataset_steps(no_bool=True) + query_steps(
            qs, quirk="QUIRK-MEMORY-PY-EQUALITY" if ("true" in v or "false" in v) else None)))
    SEQUENCES.append(seq("op-%sbooleans" % op, dataset_steps() + query_steps(
        "%sn=1,false" % op, quirk="QUIRK-MEMORY-PY-EQUALITY")))

for v in ["true", "false", "1", "0", "yes", "", "null", "no"]:
    SEQUENCES.append(seq("op-has_n=%s" % (v or "<empty>"), dataset_steps() + query_steps("has_n=" + v)))
SEQUENCES.append(seq("op-has_author.name", dataset_steps() + query_steps("has_author.name=true")))

for v in ["hello", "Hel*", "*World", "h*o", "*o*e*", "x", "HELLO WORLD", "two", "t*", "*", "e", "a.c", "(", "%", "_"]:
    SEQUENCES.append(seq("op-like_title=%s" % v, dataset_steps() + query_steps(
        "like_title=" + urllib.parse.quote(v, safe="*"),
        quirk="QUIRK-LIKE-WILDCARDS" if v in ("a.c", "(", "%", "_") else None)))
SEQUENCES.append(seq("op-like_n-missing-and-nonstring", dataset_steps() + query_steps(
    "like_n=abc", quirk="QUIRK-LIKE-MEMORY")))
SEQUENCES.append(seq("op-like-non-string-value", dataset_steps() + query_steps("like_title=1")))
SEQUENCES.append(seq("op-like_author.name", dataset_steps() + query_steps("like_author.name=ben",
                                                                          quirk="QUIRK-LIKE-MEMORY")))

for op in ["contains_", "contains_any_"]:
    for v in ["a", '"a"', '["a","b"]', '["a","c"]', "[]", "1", "[1]", '{"x":1}', '[{"x":1}]', "b,c"]:
        SEQUENCES.append(seq("op-%stags=%s" % (op, v), dataset_steps() + query_steps(
            "%stags=%s" % (op, urllib.parse.quote(v, safe="")))))
    SEQUENCES.append(seq("op-%sn-on-non-arrays" % op, dataset_steps() + query_steps(
        "%sn=%s" % (op, urllib.parse.quote('["a","b","c"]')), quirk="QUIRK-CONTAINS-STRING")))

# nested fields
for qs in ["author.name=Ben", "author.name=ann", "not_author.name=Ben", "gt_author.name=B",
           "in_author.name=Ben,ann", "exclude_author.name=Ben", "author=plain", "author.name.x=1"]:
    SEQUENCES.append(seq("nested-" + qs, dataset_steps() + query_steps(urllib.parse.quote(qs, safe="=,"))))

# combinations (AND)
for qs in ["min_n=1&max_n=2", "gt_n=1&lt_n=10", "title=one&n=1", "title=one&n=2",
           "in_title=one,two&min_n=2", "has_tags=true&contains_tags=%22a%22"]:
    SEQUENCES.append(seq("combo-" + qs, dataset_steps() + query_steps(qs)))

# reserved fields and invalid values
RESERVED = ["id=r01", "id=10", "id=%2210%22", "in_id=r01,r02", "in_id=a,10", "exclude_id=r01,r02,r03",
            "not_id=r01", "like_id=r1", "gt_id=r10", "contains_id=a", "contains_any_id=a",
            "last_modified=abc", "gt_last_modified=0", "last_modified=-1", "in_last_modified=1,2",
            "exclude_last_modified=1", "contains_last_modified=1", "lt_last_modified=99999999999999",
            "n=%00", "_since=abc", "_since=-5", "_before=abc", "_since=%221%22", "_since=null",
            "_before=0", "_to=0", "_since=99999999999999", "like_n=1", "has_id=false", "has_id=true",
            "min_id=r05&max_id=r07"]
for qs in RESERVED:
    SEQUENCES.append(seq("reserved-" + qs, dataset_steps() + query_steps(qs)))

SEQUENCES.append(seq("combo-repeated-not", dataset_steps() + query_steps("not_n=1&not_n=2", quirk="GEN-QS-REPEAT")))
