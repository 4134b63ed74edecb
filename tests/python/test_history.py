"""History plugin through `get_history` / `purge_history`."""

from conftest import unique


def make_activity(client):
    bid = unique("hist")
    client.create_bucket(id=bid)
    c = client.clone(bucket=bid, collection="col")
    c.create_collection(id="col")
    c.create_record(id="r1", data={"v": 1})
    c.patch_record(id="r1", data={"v": 2})
    c.create_record(id="r2", data={"v": 1})
    c.delete_record(id="r2")
    return c


def test_history_entries(client):
    c = make_activity(client)
    bid = c.bucket_name
    entries = c.get_history()
    # Newest first.
    actions = [(e["resource_name"], e["action"]) for e in entries]
    assert actions == [
        ("record", "delete"),
        ("record", "create"),
        ("record", "update"),
        ("record", "create"),
        ("collection", "create"),
        ("bucket", "create"),
    ]
    timestamps = [e["last_modified"] for e in entries]
    assert timestamps == sorted(timestamps, reverse=True)

    assert entries[-1]["bucket_id"] == bid
    user_id = client.server_info()["user"]["id"]
    update = entries[2]
    assert update["uri"] == f"/buckets/{bid}/collections/col/records/r1"
    assert update["date"]
    assert update["collection_id"] == "col"
    assert update["record_id"] == "r1"
    assert update["user_id"] == user_id
    assert update["target"]["data"]["v"] == 2
    assert update["target"]["data"]["id"] == "r1"
    assert user_id in update["target"]["permissions"]["write"]


def test_history_filters(client):
    c = make_activity(client)
    records = c.get_history(resource_name="record")
    assert len(records) == 4
    deletes = c.get_history(action="delete")
    assert [e["record_id"] for e in deletes] == ["r2"]
    r1 = c.get_history(record_id="r1", _sort="last_modified")
    assert [e["action"] for e in r1] == ["create", "update"]
    assert len(c.get_history(in_action=["create", "delete"])) == 5
    assert len(c.get_history(exclude_resource_name=["record"])) == 2

    since = r1[0]["last_modified"]
    newer = c.get_history(_since=since)
    assert [e["action"] for e in newer] == ["delete", "create", "update"]
    assert all(e["last_modified"] > since for e in newer)

    first_page = c.get_history(_limit=2)
    assert len(first_page) == 2
    everything = c.get_history(_limit=2, pages=float("inf"))
    assert len(everything) == 6


def test_history_only_shows_what_the_user_can_read(make_client, client):
    c = make_activity(client)
    bob = make_client("bob")
    bob_id = bob.server_info()["user"]["id"]
    # bob reads the bucket's history once he can read the bucket.
    c.patch_bucket(id=c.bucket_name, permissions={"read": [bob_id]})
    assert len(bob.get_history(bucket=c.bucket_name)) == 7  # + the bucket update


def test_purge_history(client):
    c = make_activity(client)
    assert len(c.get_history()) == 6
    purged = c.purge_history()
    assert len(purged) == 6
    assert all(e["deleted"] is True for e in purged)
    assert c.get_history() == []
    c.create_record(id="after", data={})
    assert [e["record_id"] for e in c.get_history()] == ["after"]
