"""What a syncing application does: poll with _since, page through Next-Page, use the
collection timestamp, and resolve 412 conflicts."""

import pytest
from kinto_http import KintoException


def test_since_polling(coll_client):
    c = coll_client
    for i in range(3):
        c.create_record(id=f"r{i}", data={"i": i})
    all_records = c.get_records()
    assert len(all_records) == 3
    ts = c.get_records_timestamp()
    assert int(ts) == max(r["last_modified"] for r in all_records)

    # Nothing new.
    assert c.get_records(_since=ts) == []

    c.patch_record(id="r1", data={"i": 10})
    c.delete_record(id="r2")
    c.create_record(id="r3", data={"i": 3})
    changes = c.get_records(_since=ts)
    by_id = {r["id"]: r for r in changes}
    assert set(by_id) == {"r1", "r2", "r3"}
    assert by_id["r1"]["i"] == 10
    assert by_id["r2"]["deleted"] is True
    assert "i" not in by_id["r2"]
    assert all(r["last_modified"] > int(ts) for r in changes)
    # Sorted newest first by default.
    assert [r["id"] for r in changes] == ["r3", "r2", "r1"]

    # A plain listing does not return tombstones.
    assert sorted(r["id"] for r in c.get_records()) == ["r0", "r1", "r3"]
    # _before is the mirror filter.
    assert sorted(r["id"] for r in c.get_records(_before=ts)) == ["r0"]


def test_records_timestamp(coll_client):
    c = coll_client
    empty_ts = c.get_records_timestamp()
    assert empty_ts.isdigit()

    created = c.create_record(id="a", data={})
    fresh = c.clone()  # a new client has no cached timestamp
    ts = fresh.get_records_timestamp()
    assert int(ts) == created["data"]["last_modified"]
    assert int(ts) > int(empty_ts)

    # The client caches the timestamp of the last listing of each collection.
    c.create_record(id="b", data={})
    records = c.get_records()
    assert int(c.get_records_timestamp()) == max(r["last_modified"] for r in records)


def test_if_none_match_returns_nothing_when_unchanged(coll_client):
    c = coll_client
    c.create_record(id="x", data={})
    c.get_records()
    ts = c.get_records_timestamp()
    assert c.get_records(if_none_match=ts) == []
    c.create_record(id="y", data={})
    assert len(c.get_records(if_none_match=ts)) == 2


def test_pagination_follows_next_page(coll_client):
    c = coll_client
    with c.batch() as b:
        for i in range(120):
            b.create_record(id=f"r{i:03d}", data={"i": i})

    assert len(c.get_records()) == 120
    # With _limit, the client fetches one page unless told to follow more.
    assert len(c.get_records(_limit=10)) == 10
    assert len(c.get_records(_limit=25, pages=2)) == 50
    every = c.get_records(_limit=7, _sort="i", pages=float("inf"))
    assert [r["i"] for r in every] == list(range(120))
    # Next-Page keeps the filters.
    evens = c.get_records(_limit=9, _sort="-i", min_i=60, pages=float("inf"))
    assert [r["i"] for r in evens] == list(range(119, 59, -1))


def test_get_paginated_records(coll_client):
    c = coll_client
    with c.batch() as b:
        for i in range(55):
            b.create_record(id=f"r{i:02d}", data={"i": i})
    pages = list(c.get_paginated_records(_limit=20, _sort="i"))
    assert [len(p["data"]) for p in pages] == [20, 20, 15]
    ids = [r["id"] for p in pages for r in p["data"]]
    assert ids == [f"r{i:02d}" for i in range(55)]


def test_safe_update_with_stale_last_modified_is_412(coll_client):
    c = coll_client
    original = c.create_record(id="doc", data={"v": 1})["data"]
    newer = c.update_record(data={**original, "v": 2})["data"]
    assert newer["last_modified"] > original["last_modified"]

    with pytest.raises(KintoException) as excinfo:
        c.update_record(data={**original, "v": 3})  # If-Match: original last_modified
    exc = excinfo.value
    assert exc.response.status_code == 412
    body = exc.response.json()
    assert body["errno"] == 114
    assert body["details"]["existing"]["v"] == 2
    assert "412" in str(exc)

    # An application resolves the conflict by retrying on the current version...
    current = c.get_record(id="doc")["data"]
    resolved = c.update_record(data={**current, "v": 3})
    assert resolved["data"]["v"] == 3
    # ... or by forcing it.
    assert c.update_record(data={**original, "v": 4}, safe=False)["data"]["v"] == 4


def test_safe_patch_and_delete_with_stale_timestamp(coll_client):
    c = coll_client
    original = c.create_record(id="doc", data={"v": 1})["data"]
    c.patch_record(id="doc", data={"v": 2})
    with pytest.raises(KintoException) as excinfo:
        c.patch_record(original=original, data={"v": 3})
    assert excinfo.value.response.status_code == 412
    with pytest.raises(KintoException) as excinfo:
        c.delete_record(id="doc", if_match=original["last_modified"])
    assert excinfo.value.response.status_code == 412
    assert c.get_record(id="doc")["data"]["v"] == 2

    # Collection-level: delete_records with a stale collection timestamp.
    with pytest.raises(KintoException) as excinfo:
        c.delete_records(if_match=original["last_modified"])
    assert excinfo.value.response.status_code == 412


def test_safe_bucket_and_collection_updates(client, bucket):
    original = client.get_bucket(id=bucket)["data"]
    client.patch_bucket(id=bucket, data={"step": 1})
    with pytest.raises(KintoException) as excinfo:
        client.update_bucket(data={**original, "step": 2})
    assert excinfo.value.response.status_code == 412

    col = client.create_collection(id="c", bucket=bucket)["data"]
    client.patch_collection(id="c", bucket=bucket, data={"x": 1})
    with pytest.raises(KintoException) as excinfo:
        client.update_collection(id="c", bucket=bucket, data={"x": 2}, if_match=col["last_modified"])
    assert excinfo.value.response.status_code == 412
