"""Sharing: permissions set, added and removed through the client's helpers."""

import pytest
from kinto_http import BucketNotFound, KintoException
from kinto_http.patch_type import BasicPatch, JSONPatch

from conftest import unique


def test_create_with_permissions_shares_read(make_client, client):
    bob = make_client("bob")
    bob_id = bob.server_info()["user"]["id"]
    bid = unique("shared")
    created = client.create_bucket(id=bid, permissions={"read": [bob_id]})
    assert created["permissions"]["read"] == [bob_id]
    assert bob.get_bucket(id=bid)["data"]["id"] == bid
    # Read is not write.
    with pytest.raises(KintoException) as excinfo:
        bob.patch_bucket(id=bid, data={"hacked": True})
    assert excinfo.value.response.status_code == 403


def test_json_patch_adds_and_removes_principals(make_client, client, bucket):
    bob = make_client("bob")
    bob_id = bob.server_info()["user"]["id"]
    with pytest.raises(BucketNotFound):
        bob.get_bucket(id=bucket)

    added = client.patch_bucket(
        id=bucket,
        changes=JSONPatch(
            [
                {"op": "add", "path": f"/permissions/read/{bob_id}", "value": bob_id},
                {"op": "add", "path": "/data/shared", "value": True},
            ]
        ),
    )
    assert added["data"]["shared"] is True
    assert added["permissions"]["read"] == [bob_id]
    assert bob.get_bucket(id=bucket)["data"]["shared"] is True

    removed = client.patch_bucket(
        id=bucket, changes=JSONPatch([{"op": "remove", "path": f"/permissions/read/{bob_id}"}])
    )
    assert "read" not in removed["permissions"]
    with pytest.raises(BucketNotFound):
        bob.get_bucket(id=bucket)


def test_basic_patch_grants_collection_create(make_client, client, bucket):
    bob = make_client("bob")
    with pytest.raises(KintoException) as excinfo:
        bob.create_collection(id="bobs", bucket=bucket)
    assert excinfo.value.response.status_code == 403

    granted = client.patch_bucket(
        id=bucket, changes=BasicPatch(permissions={"collection:create": ["system.Authenticated"]})
    )
    assert granted["permissions"]["collection:create"] == ["system.Authenticated"]
    bob.create_collection(id="bobs", bucket=bucket)
    # A creator may read the bucket's attributes, not its permissions.
    seen = bob.get_bucket(id=bucket)
    assert seen["data"]["id"] == bucket
    assert seen["permissions"] == {}
    assert "bobs" in {c["id"] for c in client.get_collections(bucket=bucket)}


def test_basic_patch_permissions_on_record(make_client, coll_client):
    bob = make_client("bob", bucket=coll_client.bucket_name, collection=coll_client.collection_name)
    bob_id = bob.server_info()["user"]["id"]
    coll_client.create_record(id="doc", data={"text": "hello"})
    with pytest.raises(KintoException):
        bob.get_record(id="doc")

    patched = coll_client.patch_record(
        id="doc", changes=BasicPatch(permissions={"write": [bob_id]})
    )
    assert bob_id in patched["permissions"]["write"]
    # The creator keeps its own write permission.
    assert coll_client.server_info()["user"]["id"] in patched["permissions"]["write"]
    # Write implies read; bob can now edit the record.
    assert bob.patch_record(id="doc", data={"text": "bob was here"})["data"]["text"] == (
        "bob was here"
    )


def test_update_replaces_permissions(make_client, coll_client):
    bob_id = make_client("bob").server_info()["user"]["id"]
    carol_id = make_client("carol").server_info()["user"]["id"]
    coll_client.create_record(id="r", data={"x": 1}, permissions={"read": [bob_id]})
    updated = coll_client.update_record(id="r", data={"x": 2}, permissions={"read": [carol_id]})
    assert updated["permissions"]["read"] == [carol_id]


def test_everyone_read_allows_anonymous(make_client, coll_client):
    coll_client.create_record(id="pub", data={"public": True})
    anonymous = make_client(
        None, bucket=coll_client.bucket_name, collection=coll_client.collection_name
    )
    with pytest.raises(KintoException) as excinfo:
        anonymous.get_record(id="pub")
    assert excinfo.value.response.status_code == 401

    coll_client.patch_collection(
        changes=JSONPatch([{"op": "add", "path": "/permissions/read/system.Everyone", "value": "system.Everyone"}])
    )
    assert anonymous.get_record(id="pub")["data"]["public"] is True
    assert [r["id"] for r in anonymous.get_records()] == ["pub"]


def test_record_create_permission_for_others(make_client, coll_client):
    bob = make_client("bob", bucket=coll_client.bucket_name, collection=coll_client.collection_name)
    bob_id = bob.server_info()["user"]["id"]
    with pytest.raises(KintoException) as excinfo:
        bob.create_record(data={"from": "bob"})
    assert excinfo.value.response.status_code == 403
    assert "Unauthorized" in excinfo.value.message  # kinto-http's hint on 403

    coll_client.patch_collection(permissions={"record:create": [bob_id]})
    mine = bob.create_record(data={"from": "bob"})
    assert mine["permissions"]["write"] == [bob_id]
    # bob only sees the records he can read.
    coll_client.create_record(id="alices", data={"from": "alice"})
    assert [r["id"] for r in bob.get_records()] == [mine["data"]["id"]]


def test_get_permissions_endpoint(make_client, client, bucket):
    bob = make_client("bob")
    bob_id = bob.server_info()["user"]["id"]
    client.create_collection(id="col", bucket=bucket, permissions={"read": [bob_id]})

    mine = client.get_permissions()
    uris = {entry["uri"] for entry in mine}
    assert f"/buckets/{bucket}" in uris
    assert f"/buckets/{bucket}/collections/col" in uris
    bucket_entry = next(e for e in mine if e["uri"] == f"/buckets/{bucket}")
    assert bucket_entry["resource_name"] == "bucket"
    assert bucket_entry["bucket_id"] == bucket
    assert "write" in bucket_entry["permissions"]

    no_buckets = client.get_permissions(exclude_resource_names=["bucket"])
    assert all(e["resource_name"] != "bucket" for e in no_buckets)

    theirs = bob.get_permissions()
    col = [e for e in theirs if e["uri"] == f"/buckets/{bucket}/collections/col"]
    assert len(col) == 1
    assert "read" in col[0]["permissions"]
    assert "write" not in col[0]["permissions"]
    assert not any(e["uri"] == f"/buckets/{bucket}" for e in theirs)
