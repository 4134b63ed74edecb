//! JSON-schema validation (KINTO_API.md §10.3 SCHEMA-SYNTAX, SCHEMA-RECORD, SCHEMA-STAMP, SCHEMA-META,
//! SCHEMA-ERRORS). Every expected value was checked against the reference Kinto 26.5.0 server
//! (`experimental_collection_schema_validation = true`).

mod common;

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

const ALICE: Option<&str> = Some("alice:secret");
const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";

async fn call(s: &TestServer, method: Method, path: &str, body: Option<Value>) -> Reply {
    s.call(method, path, ALICE, body).await
}

async fn put(s: &TestServer, path: &str, body: Value) -> Reply {
    call(s, Method::PUT, path, Some(body)).await
}

async fn post(s: &TestServer, path: &str, body: Value) -> Reply {
    call(s, Method::POST, path, Some(body)).await
}

async fn patch(s: &TestServer, path: &str, body: Value) -> Reply {
    call(s, Method::PATCH, path, Some(body)).await
}

async fn get(s: &TestServer, path: &str) -> Reply {
    call(s, Method::GET, path, None).await
}

fn ts_of(r: &Reply) -> i64 {
    r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("data.last_modified: {}", r.text))
}

/// Asserts a 2xx status and returns the reply.
#[track_caller]
fn ok(r: Reply) -> Reply {
    assert!((200..300).contains(&r.status), "expected success, got {} {}", r.status, r.text);
    r
}

/// Status, exact body with `last_modified` from the reply, owner-only permissions, ETag.
#[track_caller]
fn expect_object(r: &Reply, status: u16, mut data: Value) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    let ts = ts_of(r);
    data["last_modified"] = json!(ts);
    assert_eq!(r.json, json!({"data": data, "permissions": {"write": [ALICE_ID]}}), "body");
    assert_eq!(r.etag(), ts, "ETag");
}

/// 400 errno 107 with one body detail.
#[track_caller]
fn expect_invalid(r: &Reply, name: &str, message: &str, description: &str) {
    assert_eq!(r.status, 400, "status; body was {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": message,
               "details": [{"location": "body", "name": name, "description": description}]})
    );
}

fn task_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer", "minimum": 0}},
        "required": ["title"],
        "additionalProperties": false
    })
}

/// Bucket s1 and collection c1 with [`task_schema`]; returns the collection reply.
async fn setup(s: &TestServer) -> Reply {
    ok(put(s, "/v1/buckets/s1", json!({})).await);
    ok(put(s, "/v1/buckets/s1/collections/c1", json!({"data": {"schema": task_schema()}})).await)
}

const RECORDS: &str = "/v1/buckets/s1/collections/c1/records";

// ------------------------------------------------------------------------------------------------
// SCHEMA-SYNTAX

/// SCHEMA-SYNTAX: invalid collection schemas → 400 with the exact messages.
#[tokio::test]
async fn invalid_collection_schemas() {
    let s = common::start().await;
    ok(put(&s, "/v1/buckets/s1", json!({})).await);
    let path = "/v1/buckets/s1/collections/c1";
    let cases = [
        (json!({"type": "blah"}), "type'blah' is not valid under any of the given schemas"),
        (json!([1]), "\"[1]\" is not a mapping type: Does not implement dict-like functionality."),
        (json!("x"), "\"x\" is not a mapping type: Does not implement dict-like functionality."),
        (json!({"properties": 5}), "properties5 is not of type 'object'"),
        (json!({"minimum": "x"}), "minimum'x' is not of type 'number'"),
    ];
    for (schema, description) in cases {
        let r = put(&s, path, json!({"data": {"schema": schema}})).await;
        expect_invalid(&r, "data.schema", &format!("data.schema in body: {description}"), description);
    }
    // Nothing was created.
    let r = get(&s, "/v1/buckets/s1/collections").await;
    assert_eq!(r.json, json!({"data": []}));
}

/// SCHEMA-SYNTAX: bucket `record:schema` and `collection:schema` are checked too.
#[tokio::test]
async fn invalid_bucket_schemas() {
    let s = common::start().await;
    for field in ["record:schema", "collection:schema"] {
        let r = put(&s, "/v1/buckets/s2", json!({"data": {field: {"type": "blah"}}})).await;
        let description = "type'blah' is not valid under any of the given schemas";
        expect_invalid(&r, &format!("data.{field}"), &format!("data.{field} in body: {description}"), description);
    }
}

/// SCHEMA-SYNTAX: checked even when record validation is off (capability absent then).
#[tokio::test]
async fn syntax_checked_without_the_flag() {
    let s = common::start_with("experimental_collection_schema_validation = false").await;
    let hello = s.call(Method::GET, "/v1/", None, None).await;
    assert!(hello.json["capabilities"].get("schema").is_none(), "{}", hello.text);
    ok(put(&s, "/v1/buckets/s1", json!({})).await);
    let r = put(&s, "/v1/buckets/s1/collections/c1", json!({"data": {"schema": {"type": "blah"}}})).await;
    let description = "type'blah' is not valid under any of the given schemas";
    expect_invalid(&r, "data.schema", &format!("data.schema in body: {description}"), description);
    // A valid schema is stored but records are not validated nor stamped.
    ok(put(&s, "/v1/buckets/s1/collections/c1", json!({"data": {"schema": task_schema()}})).await);
    let r = put(&s, &format!("{RECORDS}/r1"), json!({"data": {"n": -1}})).await;
    expect_object(&r, 201, json!({"n": -1, "id": "r1"}));
}

// ------------------------------------------------------------------------------------------------
// SCHEMA-RECORD / SCHEMA-ERRORS

/// SCHEMA-RECORD, SCHEMA-ERRORS: required, minimum, additionalProperties, type.
#[tokio::test]
async fn record_validation_errors() {
    let s = common::start().await;
    setup(&s).await;
    let r = post(&s, RECORDS, json!({"data": {"n": 1}})).await;
    expect_invalid(&r, "title", "'title' is a required property", "'title' is a required property");
    let r = post(&s, RECORDS, json!({"data": {"title": "a", "n": -1}})).await;
    expect_invalid(&r, "n", "-1 is less than the minimum of 0", "-1 is less than the minimum of 0");
    let r = post(&s, RECORDS, json!({"data": {"title": "a", "zzz": 1}})).await;
    expect_invalid(
        &r,
        "additionalProperties",
        "additionalProperties in body: Additional properties are not allowed ('zzz' was unexpected)",
        "Additional properties are not allowed ('zzz' was unexpected)",
    );
    let r = post(&s, RECORDS, json!({"data": {"title": 5}})).await;
    expect_invalid(&r, "title", "title in body: 5 is not of type 'string'", "5 is not of type 'string'");
    // Nothing was created.
    assert_eq!(get(&s, RECORDS).await.json, json!({"data": []}));
}

/// SCHEMA-RECORD: PATCH validates the merged record; a rejected PATCH leaves the record unchanged.
#[tokio::test]
async fn patch_is_validated() {
    let s = common::start().await;
    setup(&s).await;
    let created = ok(put(&s, &format!("{RECORDS}/ok"), json!({"data": {"title": "a", "n": 3}})).await);
    let r = patch(&s, &format!("{RECORDS}/ok"), json!({"data": {"n": -5}})).await;
    expect_invalid(&r, "n", "-5 is less than the minimum of 0", "-5 is less than the minimum of 0");
    assert_eq!(get(&s, &format!("{RECORDS}/ok")).await.json["data"], created.json["data"]);
}

// ------------------------------------------------------------------------------------------------
// SCHEMA-STAMP

/// SCHEMA-STAMP: valid records get `schema: <collection last_modified>`; `min_schema`/`max_schema`
/// filter on it; records of a collection without schema get no stamp.
#[tokio::test]
async fn records_are_stamped() {
    let s = common::start().await;
    let collection = setup(&s).await;
    let v1 = ts_of(&collection);
    let r = put(&s, &format!("{RECORDS}/ok"), json!({"data": {"title": "a", "n": 3}})).await;
    expect_object(&r, 201, json!({"title": "a", "n": 3, "id": "ok", "schema": v1}));
    let old = r.json["data"].clone();

    let updated = ok(patch(
        &s,
        "/v1/buckets/s1/collections/c1",
        json!({"data": {"schema": {"type": "object", "properties": {"title": {"type": "string"}}}}}),
    )
    .await);
    let v2 = ts_of(&updated);
    assert!(v2 > v1);
    let r = put(&s, &format!("{RECORDS}/new"), json!({"data": {"title": "b"}})).await;
    expect_object(&r, 201, json!({"title": "b", "id": "new", "schema": v2}));
    let new = r.json["data"].clone();

    assert_eq!(get(&s, &format!("{RECORDS}?min_schema={}", v1 + 1)).await.json, json!({"data": [new]}));
    assert_eq!(get(&s, &format!("{RECORDS}?max_schema={v1}")).await.json, json!({"data": [old]}));
    assert_eq!(get(&s, &format!("{RECORDS}?schema={v2}")).await.json, json!({"data": [new]}));

    ok(put(&s, "/v1/buckets/s1/collections/c2", json!({"data": {}})).await);
    let r = put(&s, "/v1/buckets/s1/collections/c2/records/x", json!({"data": {"title": 5}})).await;
    expect_object(&r, 201, json!({"title": 5, "id": "x"}));
}

/// SCHEMA-STAMP: a `{}` schema disables validation (records are still stamped).
#[tokio::test]
async fn empty_schema_disables_validation() {
    let s = common::start().await;
    setup(&s).await;
    let collection = ok(put(&s, "/v1/buckets/s1/collections/c1", json!({"data": {"schema": {}}})).await);
    assert_eq!(collection.json["data"]["schema"], json!({}));
    let r = put(&s, &format!("{RECORDS}/any"), json!({"data": {"title": 5}})).await;
    expect_object(&r, 201, json!({"title": 5, "id": "any", "schema": ts_of(&collection)}));
}

// ------------------------------------------------------------------------------------------------
// SCHEMA-META and bucket record:schema

/// SCHEMA-META: the bucket's `collection:schema` validates collections; `record:schema` validates every
/// record of the bucket after the collection schema (no stamp from the bucket schema alone).
#[tokio::test]
async fn bucket_level_schemas() {
    let s = common::start().await;
    ok(put(
        &s,
        "/v1/buckets/s3",
        json!({"data": {
            "record:schema": {"type": "object", "required": ["owner"]},
            "collection:schema": {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
        }}),
    )
    .await);
    let r = put(&s, "/v1/buckets/s3/collections/c1", json!({"data": {}})).await;
    expect_invalid(&r, "title", "'title' is a required property", "'title' is a required property");
    let r = put(&s, "/v1/buckets/s3/collections/c1", json!({"data": {"title": 3}})).await;
    expect_invalid(&r, "title", "title in body: 3 is not of type 'string'", "3 is not of type 'string'");
    let r = put(&s, "/v1/buckets/s3/collections/c1", json!({"data": {"title": "ok"}})).await;
    expect_object(&r, 201, json!({"title": "ok", "id": "c1"}));

    let r = put(&s, "/v1/buckets/s3/collections/c1/records/r1", json!({"data": {"x": 1}})).await;
    expect_invalid(&r, "owner", "'owner' is a required property", "'owner' is a required property");
    let r = put(&s, "/v1/buckets/s3/collections/c1/records/r1", json!({"data": {"owner": "me"}})).await;
    expect_object(&r, 201, json!({"owner": "me", "id": "r1"}));

    // Collection schema first, then the bucket's.
    let c2 = ok(put(
        &s,
        "/v1/buckets/s3/collections/c2",
        json!({"data": {"title": "t2", "schema": {"type": "object", "required": ["name"]}}}),
    )
    .await);
    let r = put(&s, "/v1/buckets/s3/collections/c2/records/r1", json!({"data": {"owner": "me"}})).await;
    expect_invalid(&r, "name", "'name' is a required property", "'name' is a required property");
    let r = put(&s, "/v1/buckets/s3/collections/c2/records/r2", json!({"data": {"name": "n"}})).await;
    expect_invalid(&r, "owner", "'owner' is a required property", "'owner' is a required property");
    let r = put(&s, "/v1/buckets/s3/collections/c2/records/r3", json!({"data": {"name": "n", "owner": "o"}})).await;
    expect_object(&r, 201, json!({"name": "n", "owner": "o", "id": "r3", "schema": ts_of(&c2)}));
}
