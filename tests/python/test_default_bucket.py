"""The default_bucket plugin: kinto-http's Client uses bucket="default" unless told otherwise."""

import pytest
from kinto_http import BucketNotFound, KintoException

from conftest import unique


def test_default_bucket_is_created_implicitly(make_client):
    user = unique("dflt")
    c = make_client(user, collection="notes")
    assert c.bucket_name == "default"
    c.create_collection(id="notes", if_not_exists=True)
    created = c.create_record(id="n1", data={"text": "hi"})
    assert created["data"]["text"] == "hi"
    assert [r["id"] for r in c.get_records()] == ["n1"]

    bucket = c.get_bucket()  # GET /buckets/default
    real_id = bucket["data"]["id"]
    assert real_id != "default"
    assert len(real_id) == 36  # a UUID derived from the user id
    assert c.server_info()["user"]["bucket"] == real_id
    # The same data, addressed by the real id.
    assert [r["id"] for r in c.get_records(bucket=real_id)] == ["n1"]


def test_default_bucket_collections_created_on_the_fly(make_client):
    c = make_client(unique("dflt"), collection="auto")
    # No explicit collection creation: the plugin creates it on first write.
    c.create_record(id="r", data={"x": 1})
    assert c.get_record(id="r")["data"]["x"] == 1
    assert [col["id"] for col in c.get_collections()] == ["auto"]


def test_default_buckets_are_per_user(make_client):
    alice = make_client(unique("dflt-a"), collection="c")
    bob = make_client(unique("dflt-b"), collection="c")
    alice.create_record(id="secret", data={"owner": "alice"})
    bob.create_record(id="mine", data={"owner": "bob"})
    assert [r["id"] for r in alice.get_records()] == ["secret"]
    assert [r["id"] for r in bob.get_records()] == ["mine"]
    alice_bucket = alice.server_info()["user"]["bucket"]
    assert bob.server_info()["user"]["bucket"] != alice_bucket
    with pytest.raises(BucketNotFound):
        bob.get_bucket(id=alice_bucket)


def test_default_bucket_needs_authentication(make_client):
    anonymous = make_client(None, collection="c")
    with pytest.raises(KintoException) as excinfo:
        anonymous.get_records()
    assert excinfo.value.response.status_code in (401, 403)


def test_default_bucket_in_batch(make_client):
    c = make_client(unique("dflt"), collection="inbox")
    with c.batch() as b:
        for i in range(30):  # two chunks, the first one creating bucket and collection
            b.create_record(id=f"m{i:02d}", data={"i": i})
    assert len(b.results()) == 30
    assert len(c.get_records()) == 30
    assert c.get_bucket()["data"]["id"] == c.server_info()["user"]["bucket"]


def test_default_bucket_history(make_client):
    c = make_client(unique("dflt"), collection="log")
    c.create_record(id="e1", data={})
    real_id = c.server_info()["user"]["bucket"]
    entries = c.get_history(bucket=real_id)
    assert ("record", "create") in {(e["resource_name"], e["action"]) for e in entries}
    assert all(e["uri"].startswith(f"/buckets/{real_id}") for e in entries)
