"""Buckets, collections, groups and records: the CRUD an application does with kinto-http."""

import uuid

import pytest
from kinto_http import BucketNotFound, KintoException
from kinto_http.patch_type import JSONPatch, MergePatch

from conftest import unique


def status(exc: KintoException) -> int:
    return exc.response.status_code


def test_server_info(client):
    info = client.server_info()
    assert info["project_name"] == "kinto"
    assert info["project_version"] == "26.5.0"
    assert info["http_api_version"].startswith("1.")
    assert info["settings"]["batch_max_requests"] == 25
    for capability in ("default_bucket", "accounts", "history", "permissions_endpoint", "schema"):
        assert capability in info["capabilities"], capability
    assert info["user"]["id"].startswith("basicauth:")


def test_admin_capability(client):
    admin = client.server_info()["capabilities"]["admin"]
    assert admin["description"] == "Serves the admin console."
    assert admin["url"] == "https://github.com/Kinto/kinto-admin/"


def test_anonymous_server_info_has_no_user(make_client):
    info = make_client(None).server_info()
    assert "user" not in info


def test_bucket_lifecycle(client):
    bid = unique("b")
    created = client.create_bucket(id=bid, data={"title": "Mine"})
    assert created["data"]["id"] == bid
    assert created["data"]["title"] == "Mine"
    assert client.server_info()["user"]["id"] in created["permissions"]["write"]

    fetched = client.get_bucket(id=bid)
    assert fetched["data"] == created["data"]

    updated = client.update_bucket(id=bid, data={"title": "Renamed"})
    assert updated["data"]["title"] == "Renamed"
    assert updated["data"]["last_modified"] > created["data"]["last_modified"]

    patched = client.patch_bucket(id=bid, data={"color": "blue"})
    assert patched["data"]["title"] == "Renamed"
    assert patched["data"]["color"] == "blue"

    assert bid in {b["id"] for b in client.get_buckets()}

    deleted = client.delete_bucket(id=bid)
    assert deleted["id"] == bid
    assert deleted["deleted"] is True
    with pytest.raises(BucketNotFound):
        client.get_bucket(id=bid)


def test_bucket_create_twice_is_412_unless_if_not_exists(client, bucket):
    with pytest.raises(KintoException) as excinfo:
        client.create_bucket(id=bucket)
    assert status(excinfo.value) == 412

    again = client.create_bucket(id=bucket, if_not_exists=True)
    assert again["data"]["id"] == bucket
    assert "permissions" in again


def test_delete_missing_bucket_if_exists(client):
    assert client.delete_bucket(id=unique("gone"), if_exists=True) is None
    with pytest.raises(KintoException) as excinfo:
        client.delete_bucket(id=unique("gone"))
    # Kinto does not reveal whether a bucket the user cannot see exists.
    assert status(excinfo.value) in (403, 404)


def test_collection_lifecycle(client, bucket):
    c = client.clone(bucket=bucket)
    created = c.create_collection(id="tasks", data={"title": "Tasks"})
    assert created["data"]["id"] == "tasks"

    assert c.get_collection(id="tasks")["data"]["title"] == "Tasks"
    c.update_collection(id="tasks", data={"title": "Todo"})
    patched = c.patch_collection(id="tasks", data={"sort": "-last_modified"})
    assert patched["data"]["title"] == "Todo"
    assert patched["data"]["sort"] == "-last_modified"

    c.create_collection(id="notes")
    assert sorted(col["id"] for col in c.get_collections()) == ["notes", "tasks"]

    assert c.delete_collection(id="notes")["deleted"] is True
    assert [col["id"] for col in c.get_collections()] == ["tasks"]

    deleted = c.delete_collections()
    assert [col["id"] for col in deleted] == ["tasks"]
    assert c.get_collections() == []


def test_collection_in_missing_bucket(client):
    with pytest.raises(KintoException) as excinfo:
        client.create_collection(id="c", bucket=unique("missing"))
    assert status(excinfo.value) in (403, 404)


def test_group_lifecycle(client, bucket):
    c = client.clone(bucket=bucket)
    group = c.create_group(id="editors", data={"members": ["basicauth:x"]})
    assert group["data"]["members"] == ["basicauth:x"]

    assert c.get_group(id="editors")["data"]["members"] == ["basicauth:x"]
    patched = c.patch_group(id="editors", data={"members": ["basicauth:x", "basicauth:y"]})
    assert patched["data"]["members"] == ["basicauth:x", "basicauth:y"]
    c.update_group(id="editors", data={"members": []})
    assert c.get_group(id="editors")["data"]["members"] == []

    c.create_group(id="readers", data={"members": []})
    assert sorted(g["id"] for g in c.get_groups()) == ["editors", "readers"]

    assert c.delete_group(id="readers")["deleted"] is True
    assert c.delete_group(id="readers", if_exists=True) is None
    assert [g["id"] for g in c.delete_groups()] == ["editors"]
    assert c.get_groups() == []


def test_group_membership_grants_access(make_client, client, bucket):
    bob = make_client("bob")
    bob_id = bob.server_info()["user"]["id"]
    with pytest.raises(BucketNotFound):
        bob.get_bucket(id=bucket)

    client.create_group(id="friends", bucket=bucket, data={"members": [bob_id]})
    client.patch_bucket(id=bucket, permissions={"read": [f"/buckets/{bucket}/groups/friends"]})
    assert bob.get_bucket(id=bucket)["data"]["id"] == bucket
    # server_info() is cached per client: ask with a fresh one.
    principals = make_client("bob").server_info()["user"]["principals"]
    assert f"/buckets/{bucket}/groups/friends" in principals


def test_record_lifecycle(coll_client):
    c = coll_client
    created = c.create_record(data={"title": "first", "done": False})
    rid = created["data"]["id"]
    uuid.UUID(rid)  # the client generates UUIDs
    assert created["data"]["title"] == "first"

    fetched = c.get_record(id=rid)
    assert fetched["data"] == created["data"]
    assert "write" in fetched["permissions"]

    updated = c.update_record(id=rid, data={"title": "replaced"})
    assert updated["data"] == {
        "id": rid,
        "title": "replaced",
        "last_modified": updated["data"]["last_modified"],
    }

    patched = c.patch_record(id=rid, data={"done": True})
    assert patched["data"]["title"] == "replaced"
    assert patched["data"]["done"] is True

    named = c.create_record(id="named", data={"title": "second"})
    assert named["data"]["id"] == "named"
    assert sorted(r["id"] for r in c.get_records()) == sorted([rid, "named"])

    deleted = c.delete_record(id=rid)
    assert deleted == {"id": rid, "deleted": True, "last_modified": deleted["last_modified"]}
    with pytest.raises(KintoException) as excinfo:
        c.get_record(id=rid)
    assert status(excinfo.value) == 404
    assert c.delete_record(id=rid, if_exists=True) is None

    remaining = c.delete_records()
    assert [r["id"] for r in remaining] == ["named"]
    assert c.get_records() == []


def test_record_create_existing_and_if_not_exists(coll_client):
    c = coll_client
    c.create_record(id="r1", data={"v": 1})
    with pytest.raises(KintoException) as excinfo:
        c.create_record(id="r1", data={"v": 2})
    assert status(excinfo.value) == 412
    assert excinfo.value.response.json()["details"]["existing"]["v"] == 1

    existing = c.create_record(id="r1", data={"v": 3}, if_not_exists=True)
    assert existing["data"]["v"] == 1
    assert "permissions" in existing

    # safe=False overwrites.
    assert c.create_record(id="r1", data={"v": 4}, safe=False)["data"]["v"] == 4


def test_patch_types(coll_client):
    c = coll_client
    c.create_record(id="p", data={"a": 1, "nested": {"x": 1, "y": 2}})

    merged = c.patch_record(id="p", changes=MergePatch(data={"a": None, "nested": {"y": None}}))
    assert "a" not in merged["data"]
    assert merged["data"]["nested"] == {"x": 1}

    ops = [
        {"op": "add", "path": "/data/tags", "value": ["t1"]},
        {"op": "add", "path": "/data/tags/-", "value": "t2"},
        {"op": "replace", "path": "/data/nested/x", "value": 42},
    ]
    patched = c.patch_record(id="p", changes=JSONPatch(ops))
    assert patched["data"]["tags"] == ["t1", "t2"]
    assert patched["data"]["nested"] == {"x": 42}

    with pytest.raises(KintoException) as excinfo:
        c.patch_record(id="p", changes=JSONPatch([{"op": "test", "path": "/data/a", "value": 1}]))
    assert status(excinfo.value) == 400


def test_record_filters_and_sorting(coll_client):
    c = coll_client
    with c.batch() as b:
        for i in range(10):
            b.create_record(id=f"r{i}", data={"age": i, "name": f"n{i % 3}"})
    assert [r["id"] for r in c.get_records(_sort="-age", _limit=3)] == ["r9", "r8", "r7"]
    assert sorted(r["id"] for r in c.get_records(min_age=8)) == ["r8", "r9"]
    assert sorted(r["id"] for r in c.get_records(in_id=["r1", "r2"])) == ["r1", "r2"]
    assert sorted(r["id"] for r in c.get_records(name="n1")) == ["r1", "r4", "r7"]
    assert len(c.get_records(exclude_name=["n0", "n1"])) == 3
    fields = c.get_records(_fields="age", _sort="age", _limit=1)
    assert set(fields[0]) == {"id", "last_modified", "age"}


def test_record_in_missing_collection(client, bucket):
    with pytest.raises(KintoException) as excinfo:
        client.create_record(bucket=bucket, collection="nope", data={"a": 1})
    # kinto-http rewraps 403 with a hint; 404 comes straight through.
    assert excinfo.value.response.status_code in (403, 404)


def test_client_slugifies_ids(client, bucket):
    c = client.clone(bucket=bucket, collection="Mes Notes")
    created = c.create_collection(id="Mes Notes")
    assert created["data"]["id"] == "mes-notes"
    record = c.create_record(id="Été 2024!", data={"summer": True})
    assert record["data"]["id"] == "ete-2024"
    assert c.get_record(id="ete-2024")["data"]["summer"] is True


def test_delete_all_own_buckets(make_client, client, bucket):
    zed = make_client(unique("zed"))
    mine = {unique("zb"), unique("zb")}
    for bid in mine:
        zed.create_bucket(id=bid)
    deleted = zed.delete_buckets()
    assert {b["id"] for b in deleted} == mine
    assert all(b["deleted"] for b in deleted)
    # (Buckets other tests opened to system.Authenticated may still be listed.)
    assert not mine & {b["id"] for b in zed.get_buckets()}
    # Other users' buckets are untouched.
    assert client.get_bucket(id=bucket)["data"]["id"] == bucket
