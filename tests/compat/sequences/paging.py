"""Sorting, pagination (Next-Page, _token), _fields, _since/_before/_to, counts."""
from common import RECS, delete, get, head, post, put, seq
from filters import dataset_steps


def scalar_dataset():
    """The filters dataset without array/object values in n and tags (Kinto's memory backend
    cannot sort mixed lists, and rejects its own pagination tokens holding arrays/objects)."""
    steps = dataset_steps()
    reqs = steps[-1]["body"]["requests"]
    keep = []
    for r in reqs:
        d = dict(r["body"]["data"])
        if isinstance(d.get("n"), (list, dict)):
            d["n"] = "x-" + r["path"][-3:]
        d.pop("tags", None)
        keep.append({"method": "PUT", "path": r["path"], "body": {"data": d}})
    steps[-1] = dict(steps[-1], body={"requests": keep})
    return steps

SEQUENCES = []

for s in ["n", "-n", "title", "-title", "id", "-id", "author.name", "-author.name", "n,title", "-n,-id",
          "+n", "@@", "", "last_modified", "-last_modified", "tags", "n,,id", "unknown", "-unknown,id"]:
    SEQUENCES.append(seq("sort-%s" % (s or "<empty>"), dataset_steps() + [
        get(RECS + "?_sort=" + s, quirk="QUIRK-SORT-MIXED-500" if s == "tags" else None)]))

for s, lim in [("n", 3), ("-n", 4), ("id", 5), ("-title", 2), ("author.name", 3), ("-last_modified", 4),
               ("n,-id", 5), ("title,n", 6)]:
    steps = scalar_dataset() + [get(RECS + "?_sort=%s&_limit=%d" % (s, lim), cap={"next": "next"})]
    for _ in range(14 // lim + 1):
        steps.append(get("{next}", cap={"next": "next"}))
    SEQUENCES.append(seq("paginate-sort-%s-limit-%d" % (s, lim), steps))

SEQUENCES += [
    seq("paginate-token-with-array-value", dataset_steps() + [
        get(RECS + "?_sort=n&_limit=1&in_id=r09,r10,r04", cap={"next": "next"}),
        get("{next}", quirk="QUIRK-TOKEN-ARRAY", cap={"next": "next"}),
    ]),
    seq("paginate-with-filter", dataset_steps() + [
        get(RECS + "?has_n=true&_sort=id&_limit=4", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
    ]),
    seq("paginate-default-sort", dataset_steps() + [
        get(RECS + "?_limit=5", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
    ]),
    seq("paginate-writes-during-iteration", dataset_steps() + [
        get(RECS + "?_sort=id&_limit=5", cap={"next": "next"}),
        put(RECS + "/r00", {"data": {"n": 0}}),
        delete(RECS + "/r07"),
        get("{next}", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
    ]),
    seq("paginate-exact-multiple", dataset_steps() + [
        get(RECS + "?_sort=id&_limit=7", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
        get(RECS + "?_sort=id&_limit=14"),
        get(RECS + "?_sort=id&_limit=15"),
        get(RECS + "?_limit=0"),
    ]),
    seq("paginate-limit-invalid", dataset_steps() + [
        get(RECS + "?_limit=abc"), get(RECS + "?_limit=-1"), get(RECS + "?_limit=1.5"),
        head(RECS + "?_limit=2"),
    ]),
    seq("paginate-bad-tokens", dataset_steps() + [
        get(RECS + "?_token=garbage"),
        get(RECS + "?_token=eyJhIjogMX0%3D"),
        get(RECS + "?_token="),
        get(RECS + "?_token=e30%3D"),
        get(RECS + "?_token=eyJsYXN0X29iamVjdCI6IHt9LCAib2Zmc2V0IjogLTF9"),
    ]),
    seq("paginate-plural-delete", dataset_steps() + [
        delete(RECS + "?_sort=id&_limit=5", cap={"next": "next"}),
        delete("{next}", cap={"next": "next"}),
        get(RECS + "?_sort=id"),
        delete("{next}"),
    ]),
    seq("paginate-collections-list", [
        put("/buckets/{B}", {"data": {}}),
        put("/buckets/{B}/collections/c1", {"data": {"n": 1}}),
        put("/buckets/{B}/collections/c2", {"data": {"n": 2}}),
        put("/buckets/{B}/collections/c3", {"data": {"n": 3}}),
        get("/buckets/{B}/collections?_limit=2", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
        head("/buckets/{B}/collections?_limit=2"),
    ]),
    seq("fields-projection", dataset_steps() + [
        get(RECS + "?_fields=title&_sort=id"),
        get(RECS + "?_fields=author.name,n&_sort=id"),
        get(RECS + "/r01?_fields=title"),
        get(RECS + "/r01?_fields=nope"),
        get(RECS + "?_fields=id"),
        get("/buckets/{B}?_fields=x"),
    ]),
    seq("fields-on-tombstones", dataset_steps() + [
        delete(RECS + "/r01"),
        get(RECS + "?_since=0&_fields=title&_sort=id", quirk="QUIRK-FIELDS-TOMBSTONE"),
    ]),
    seq("since-before-to", dataset_steps() + [
        get(RECS + "?_sort=id", cap={"t5": "body.data.4.last_modified", "t9": "body.data.8.last_modified"}),
        delete(RECS + "/r02"),
        get(RECS + "?_since={t5}&_sort=id"),
        get(RECS + "?_since=%22{t5}%22&_sort=id"),
        get(RECS + "?_before={t5}&_sort=id"),
        get(RECS + "?_to={t5}&_sort=id"),
        get(RECS + "?_since={t5}&_before={t9}&_sort=id"),
        head(RECS + "?_since={t5}"),
        get(RECS + "?gt_last_modified={t5}&_sort=id"),
        get(RECS + "?min_last_modified={t5}&lt_last_modified={t9}&_sort=id"),
        get(RECS + "?last_modified={t5}"),
        get(RECS + "?not_last_modified={t5}&_sort=id&_limit=3"),
        get(RECS + "?_since=0&n=2"),
        get(RECS + "?_since=0&not_n=2&_sort=id"),
        get(RECS + "?_since=0&has_n=false&_sort=id"),
    ]),
    seq("since-tombstones-pagination", dataset_steps() + [
        delete(RECS + "?in_id=r01,r02,r03"),
        get(RECS + "?_since=0&_limit=4", cap={"next": "next"}),
        get("{next}", cap={"next": "next"}),
        head(RECS + "?_since=0"),
    ]),
    seq("count-head", dataset_steps() + [
        head(RECS), head(RECS + "?has_n=true"), head(RECS + "?_limit=2"), head(RECS + "?n=99"),
    ]),
]
