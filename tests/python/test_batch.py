"""`client.batch()`: many operations sent as POST /batch, chunked by batch_max_requests (25)."""

import pytest
from kinto_http import Client, KintoBatchException

from conftest import unique


class CountingSession:
    """Wraps the client's session to count the POST /batch requests actually sent."""

    def __init__(self, session):
        self._session = session
        self.batch_posts = []

    def __getattr__(self, name):
        return getattr(self._session, name)

    def request(self, method, endpoint, **kwargs):
        if method.upper() == "POST" and endpoint.rstrip("/").endswith("batch"):
            self.batch_posts.append(len(kwargs["payload"]["requests"]))
        return self._session.request(method, endpoint, **kwargs)


def test_batch_creates_a_tree(client):
    bid = unique("tree")  # NB: Kinto refuses sub-request paths containing "/batch"
    with client.batch(bucket=bid, collection="todo") as b:
        b.create_bucket(id=bid)
        b.create_collection(id="todo")
        b.create_group(id="team", data={"members": []})
        for i in range(3):
            b.create_record(id=f"t{i}", data={"n": i})
    results = b.results()
    assert len(results) == 6
    assert results[0]["data"]["id"] == bid
    assert results[1]["data"]["id"] == "todo"
    assert results[2]["data"]["id"] == "team"
    assert [r["data"]["n"] for r in results[3:]] == [0, 1, 2]

    records = client.get_records(bucket=bid, collection="todo", _sort="n")
    assert [r["id"] for r in records] == ["t0", "t1", "t2"]


def test_batch_is_chunked_beyond_max_requests(client, coll_client):
    counting = CountingSession(coll_client.session)
    c = Client(
        session=counting, bucket=coll_client.bucket_name, collection=coll_client.collection_name
    )
    with c.batch() as b:
        for i in range(60):
            b.create_record(id=f"r{i:02d}", data={"i": i})
    assert counting.batch_posts == [25, 25, 10]
    results = b.results()
    assert len(results) == 60
    assert [r["data"]["i"] for r in results] == list(range(60))
    assert len(coll_client.get_records()) == 60


def test_batch_reads_and_deletes(coll_client):
    c = coll_client
    for i in range(3):
        c.create_record(id=f"r{i}", data={"i": i})
    with c.batch() as b:
        b.update_record(id="r0", data={"i": 100})
        b.delete_record(id="r1")
        b.patch_record(id="r2", data={"i": 20})
    updated, deleted, patched = b.results()
    assert updated["data"] == {"id": "r0", "i": 100, "last_modified": updated["data"]["last_modified"]}
    assert deleted["data"]["id"] == "r1"
    assert deleted["data"]["deleted"] is True
    assert patched["data"]["i"] == 20
    assert sorted(r["id"] for r in c.get_records()) == ["r0", "r2"]


def test_batch_errors_raise_kinto_batch_exception(coll_client):
    c = coll_client
    c.create_record(id="exists", data={})
    with pytest.raises(KintoBatchException) as excinfo:
        with c.batch() as b:
            b.create_record(id="exists", data={"again": True})  # 412: safe create
            b.create_record(id="fresh", data={})
            b.delete_record(id="missing")  # 404
    statuses = sorted(e.response.status_code for e in excinfo.value.exceptions)
    assert statuses == [404, 412]
    # The other sub-requests went through.
    assert c.get_record(id="fresh")["data"]["id"] == "fresh"


def test_batch_ignore_4xx(coll_client):
    ignoring = Client(
        session=coll_client.session,
        bucket=coll_client.bucket_name,
        collection=coll_client.collection_name,
        ignore_batch_4xx=True,
    )
    with ignoring.batch() as b:
        b.delete_record(id="missing")
        b.create_record(id="ok", data={})
    missing, ok = b.results()
    assert missing["code"] == 404
    assert missing["errno"] == 110
    assert ok["data"]["id"] == "ok"


def test_batch_conflicts_are_reported(coll_client):
    c = coll_client
    stale = c.create_record(id="doc", data={"v": 1})["data"]
    c.update_record(data={**stale, "v": 2})
    with pytest.raises(KintoBatchException) as excinfo:
        with c.batch() as b:
            b.update_record(data={**stale, "v": 3})  # If-Match: stale timestamp
    (exc,) = excinfo.value.exceptions
    assert exc.response.status_code == 412
    assert exc.response["body"]["details"]["existing"]["v"] == 2
    assert c.get_record(id="doc")["data"]["v"] == 2
