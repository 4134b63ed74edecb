"""JSON schema validation on collections: invalid records surface as KintoException (400)."""

import pytest
from kinto_http import KintoBatchException, KintoException

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5},
    },
    "required": ["title"],
}


@pytest.fixture
def schema_client(coll_client):
    coll_client.patch_collection(data={"schema": SCHEMA})
    return coll_client


def test_valid_record_accepted(schema_client):
    record = schema_client.create_record(id="ok", data={"title": "Write tests", "priority": 2})
    assert record["data"]["priority"] == 2


def test_invalid_record_raises(schema_client):
    with pytest.raises(KintoException) as excinfo:
        schema_client.create_record(data={"priority": 9})
    exc = excinfo.value
    assert exc.response.status_code == 400
    body = exc.response.json()
    assert body["errno"] == 107
    assert body["error"] == "Invalid parameters"
    assert body["details"][0]["location"] == "body"
    assert "400" in str(exc)
    assert schema_client.get_records() == []


def test_invalid_field_type_names_the_field(schema_client):
    schema_client.create_record(id="r", data={"title": "fine"})
    with pytest.raises(KintoException) as excinfo:
        schema_client.patch_record(id="r", data={"priority": "high"})
    body = excinfo.value.response.json()
    assert excinfo.value.response.status_code == 400
    assert body["details"][0]["name"] == "priority"
    assert "priority" in body["message"]
    unchanged = schema_client.get_record(id="r")["data"]
    assert unchanged["title"] == "fine"
    assert "priority" not in unchanged
    # Kinto stamps validated records with the schema's timestamp.
    assert isinstance(unchanged["schema"], int)


def test_invalid_records_in_batch(schema_client):
    with pytest.raises(KintoBatchException) as excinfo:
        with schema_client.batch() as b:
            b.create_record(id="good", data={"title": "good"})
            b.create_record(id="bad", data={"title": ""})
    assert [e.response.status_code for e in excinfo.value.exceptions] == [400]
    assert [r["id"] for r in schema_client.get_records()] == ["good"]


def test_invalid_schema_rejected(coll_client):
    with pytest.raises(KintoException) as excinfo:
        coll_client.patch_collection(data={"schema": {"type": "not-a-type"}})
    assert excinfo.value.response.status_code == 400
