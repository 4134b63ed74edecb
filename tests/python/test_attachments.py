"""kinto-attachment through the client's add_attachment / download_attachment /
remove_attachment, against a second server started with the plugin on."""

import hashlib

import pytest
from kinto_http import Client, KintoException

from conftest import unique

CONTENT = b"Kintoun attachment test\n" * 100


@pytest.fixture
def att_client(attachments_url):
    c = Client(server_url=attachments_url, auth=("alice", "secret"))
    bid = unique("att")
    c.create_bucket(id=bid)
    c.create_collection(id="files", bucket=bid)
    return c.clone(bucket=bid, collection="files")


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(CONTENT)
    return path


def test_capability(att_client):
    capability = att_client.server_info()["capabilities"]["attachments"]
    assert capability["base_url"].endswith("/")


def test_add_download_remove(att_client, sample, tmp_path):
    c = att_client
    resp = c.add_attachment(id="doc", filepath=str(sample), data={"kind": "note"})
    attachment = resp  # the upload answers with the attachment's metadata
    assert attachment["filename"] == "notes.txt"
    assert attachment["mimetype"] == "text/plain"
    assert attachment["size"] == len(CONTENT)
    assert attachment["hash"] == hashlib.sha256(CONTENT).hexdigest()

    record = c.get_record(id="doc")["data"]
    assert record["kind"] == "note"
    assert record["attachment"]["location"] == attachment["location"]

    target = tmp_path / "downloaded"
    path = c.download_attachment(record, filepath=str(target))
    with open(path, "rb") as f:
        assert f.read() == CONTENT

    c.remove_attachment(id="doc")
    after = c.get_record(id="doc")["data"]
    assert after.get("attachment") is None
    assert after["kind"] == "note"
    with pytest.raises(ValueError):
        c.download_attachment({k: v for k, v in after.items() if k != "attachment"})


def test_replace_attachment_with_explicit_name(att_client, sample):
    c = att_client
    c.add_attachment(id="doc", filepath=str(sample))
    second = sample.with_name("data.json")
    second.write_bytes(b'{"a": 1}')
    c.add_attachment(id="doc", filepath=str(second), filename="renamed.json")
    attachment = c.get_record(id="doc")["data"]["attachment"]
    assert attachment["filename"] == "renamed.json"
    assert attachment["mimetype"] == "application/json"
    assert attachment["size"] == 8


def test_attachment_permissions(att_client, sample, attachments_url):
    bob = Client(
        server_url=attachments_url,
        auth=("bob", "secret"),
        bucket=att_client.bucket_name,
        collection="files",
    )
    bob_id = bob.server_info()["user"]["id"]
    att_client.add_attachment(id="shared", filepath=str(sample), permissions={"read": [bob_id]})
    shared = bob.get_record(id="shared")
    assert shared["data"]["attachment"]["size"] == len(CONTENT)
    assert shared["permissions"] == {}  # readers do not see the permissions
    assert att_client.get_record(id="shared")["permissions"]["read"] == [bob_id]
    with pytest.raises(KintoException) as excinfo:
        bob.add_attachment(id="shared", filepath=str(sample))
    assert excinfo.value.response.status_code == 403


def test_remove_attachment_is_idempotent(att_client):
    att_client.create_record(id="plain", data={"x": 1})
    assert att_client.remove_attachment(id="plain") is None  # 204
    assert att_client.get_record(id="plain")["data"]["x"] == 1
    assert att_client.remove_attachment(id="never-created") is None


def test_attachments_in_record_listing(att_client, sample):
    att_client.add_attachment(id="a1", filepath=str(sample))
    att_client.add_attachment(id="a2", filepath=str(sample), data={"n": 2})
    records = att_client.get_records(_sort="id")
    assert [r["id"] for r in records] == ["a1", "a2"]
    assert all(r["attachment"]["hash"] == hashlib.sha256(CONTENT).hexdigest() for r in records)
    assert records[1]["n"] == 2
