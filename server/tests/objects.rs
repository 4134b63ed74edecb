//! Object model, timestamps, CRUD operations and basic concurrency-control headers
//! (KINTO_API.md §3, §4, §6: OBJ-*, TS-*, OP-*, CC-ETAG, CC-LAST-MODIFIED, CC-CACHE, basic If-Match /
//! If-None-Match). Every expected value was checked against the reference Kinto 26.5.0 server.

mod common;

use common::helpers::{call, delete, get, patch, post, put};

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");
const ANON: Option<&str> = None;

/// `basicauth:` user ids of the users above under the reference HMAC secret (copied from the reference).
const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";

const RECORDS: &str = "/v1/buckets/b1/collections/c1/records";

/// A client-supplied timestamp far in the future (year 2096), so that the following writes of the same
/// list get deterministic timestamps (`list ts + 1`).
const FUTURE: i64 = 4_000_000_000_000;

fn record(id: &str) -> String {
    format!("{RECORDS}/{id}")
}

fn alice_owned() -> Value {
    json!({"write": [ALICE_ID]})
}

/// `Last-Modified` value for a millisecond timestamp (second precision, floor).
fn http_date(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).expect("non-negative timestamp");
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Sorts every ACE of a `permissions` member (ACEs have set semantics, their order is not significant).
fn normalize(mut body: Value) -> Value {
    if let Some(perms) = body.get_mut("permissions").and_then(Value::as_object_mut) {
        for ace in perms.values_mut() {
            if let Some(list) = ace.as_array_mut() {
                list.sort_by_key(|a| a.to_string());
            }
        }
    }
    body
}

/// A request with extra headers (e.g. `If-Match`).
async fn call_with(
    s: &TestServer,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut builder = s.req(method, path);
    if let Some(auth) = auth {
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        builder = builder.basic_auth(user, Some(password));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(body) = body {
        builder = builder.header("Content-Type", "application/json").body(body.to_string());
    }
    Reply::from(builder.send().await.expect("request")).await
}

async fn head(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    call(s, Method::HEAD, path, auth, None).await
}

/// PUT without any request body (treated as `{}`).
async fn put_empty(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    call(s, Method::PUT, path, auth, None).await
}

/// Asserts the status and the exact JSON body.
#[track_caller]
fn expect(r: &Reply, status: u16, body: Value) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(normalize(r.json.clone()), normalize(body), "body");
}

/// Asserts `ETag: "<ts>"` and the matching `Last-Modified`.
#[track_caller]
fn expect_ts_headers(r: &Reply, ts: i64) {
    assert_eq!(r.header("etag"), Some(format!("\"{ts}\"").as_str()), "ETag; body was {}", r.text);
    assert_eq!(r.header("last-modified"), Some(http_date(ts).as_str()), "Last-Modified");
}

/// Asserts an object response `{"data": data + last_modified, "permissions": perms}` with ETag and
/// Last-Modified equal to `data.last_modified`; returns that timestamp.
#[track_caller]
fn expect_object(r: &Reply, status: u16, data: Value, perms: Value) -> i64 {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    let ts = r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text));
    let mut data = data;
    data["last_modified"] = json!(ts);
    assert_eq!(normalize(r.json.clone()), normalize(json!({"data": data, "permissions": perms})), "body");
    expect_ts_headers(r, ts);
    ts
}

/// Asserts a `{"data": tombstone}` response with ETag/Last-Modified of the tombstone; returns its timestamp.
#[track_caller]
fn expect_tombstone(r: &Reply, id: &str) -> i64 {
    assert_eq!(r.status, 200, "status; body was {}", r.text);
    let ts = r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text));
    assert_eq!(r.json, json!({"data": {"id": id, "last_modified": ts, "deleted": true}}));
    expect_ts_headers(r, ts);
    ts
}

/// Asserts the default `Cache-Control` of read responses.
#[track_caller]
fn expect_no_cache(r: &Reply) {
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"), "Cache-Control");
}

/// Asserts the absence of `Cache-Control` (writes, errors).
#[track_caller]
fn expect_no_cache_header(r: &Reply) {
    assert_eq!(r.header("cache-control"), None, "no Cache-Control expected");
}

/// The timestamp carried by the ETag.
fn etag(r: &Reply) -> i64 {
    r.etag()
}

fn ts_of(r: &Reply) -> i64 {
    r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text))
}

fn ids(r: &Reply) -> Vec<String> {
    r.json["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data list: {}", r.text))
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

fn unauthorized() -> Value {
    json!({"code": 401, "errno": 104, "error": "Unauthorized",
           "message": "Please authenticate yourself to use this endpoint."})
}

fn forbidden() -> Value {
    json!({"code": 403, "errno": 121, "error": "Forbidden", "message": "This user cannot access this resource."})
}

#[track_caller]
fn expect_401(r: &Reply) {
    expect(r, 401, unauthorized());
    assert_eq!(r.header_all("www-authenticate"), vec!["Basic realm=\"Realm\"", "Basic realm=\"Realm\""]);
}

#[track_caller]
fn expect_403(r: &Reply) {
    expect(r, 403, forbidden());
}

fn not_found(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 110, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

fn missing_parent(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 111, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

fn invalid_object_id() -> Value {
    json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": "path: Invalid object id",
           "details": [{"location": "path", "name": null, "description": "Invalid object id"}]})
}

/// A 400 errno 107 body with a single detail.
fn invalid(location: &str, name: &str, description: &str, message: &str) -> Value {
    json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": message,
           "details": [{"location": location, "name": name, "description": description}]})
}

fn id_mismatch() -> Value {
    invalid("body", "id", "Object id does not match existing object", "Object id does not match existing object")
}

fn precondition_failed(existing: Option<Value>) -> Value {
    let mut body = json!({"code": 412, "errno": 114, "error": "Precondition Failed",
                          "message": "Resource was modified meanwhile"});
    if let Some(existing) = existing {
        body["details"] = json!({"existing": existing});
    }
    body
}

/// Creates bucket `b1` and collection `c1` as alice; returns the collection timestamp.
async fn setup(s: &TestServer) -> i64 {
    let r = put_empty(s, "/v1/buckets/b1", ALICE).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = put_empty(s, "/v1/buckets/b1/collections/c1", ALICE).await;
    assert_eq!(r.status, 201, "{}", r.text);
    ts_of(&r)
}

// ------------------------------------------------------------------------------------------------
// OBJ-TREE / OBJ-ENVELOPE / OBJ-RESERVED

#[tokio::test]
async fn obj_tree_every_level_can_be_created_and_read_back() {
    let s = common::start().await;

    let r = put_empty(&s, "/v1/buckets/b1", ALICE).await;
    let bucket_ts = expect_object(&r, 201, json!({"id": "b1"}), alice_owned());
    expect_no_cache_header(&r);

    let r = put(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"data": {"a": 1}})).await;
    let coll_ts = expect_object(&r, 201, json!({"a": 1, "id": "c1"}), alice_owned());

    let r = put(&s, "/v1/buckets/b1/groups/g1", ALICE, json!({"data": {"members": [BOB_ID]}})).await;
    let group_ts = expect_object(&r, 201, json!({"members": [BOB_ID], "id": "g1"}), alice_owned());

    let r = put(&s, &record("r1"), ALICE, json!({"data": {"title": "x", "n": [1, {"k": null}]}})).await;
    let rec_ts = expect_object(&r, 201, json!({"title": "x", "n": [1, {"k": null}], "id": "r1"}), alice_owned());

    // Read every object back.
    let r = get(&s, "/v1/buckets/b1", ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "b1"}), alice_owned()), bucket_ts);
    expect_no_cache(&r);
    let r = get(&s, "/v1/buckets/b1/collections/c1", ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"a": 1, "id": "c1"}), alice_owned()), coll_ts);
    let r = get(&s, "/v1/buckets/b1/groups/g1", ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"members": [BOB_ID], "id": "g1"}), alice_owned()), group_ts);
    let r = get(&s, &record("r1"), ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"title": "x", "n": [1, {"k": null}], "id": "r1"}), alice_owned()), rec_ts);

    // And every list.
    let r = get(&s, "/v1/buckets", ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "b1", "last_modified": bucket_ts}]}));
    let r = get(&s, "/v1/buckets/b1/collections", ALICE).await;
    expect(&r, 200, json!({"data": [{"a": 1, "id": "c1", "last_modified": coll_ts}]}));
    let r = get(&s, "/v1/buckets/b1/groups", ALICE).await;
    expect(&r, 200, json!({"data": [{"members": [BOB_ID], "id": "g1", "last_modified": group_ts}]}));
    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": [{"title": "x", "n": [1, {"k": null}], "id": "r1", "last_modified": rec_ts}]}));
}

#[tokio::test]
async fn obj_tree_same_ids_in_different_parents_are_distinct() {
    let s = common::start().await;
    setup(&s).await;
    assert_eq!(put_empty(&s, "/v1/buckets/b1/collections/c2", ALICE).await.status, 201);
    assert_eq!(put_empty(&s, "/v1/buckets/b2", ALICE).await.status, 201);
    assert_eq!(put_empty(&s, "/v1/buckets/b2/collections/c1", ALICE).await.status, 201);

    let r = put(&s, &record("same"), ALICE, json!({"data": {"where": "b1/c1"}})).await;
    expect_object(&r, 201, json!({"where": "b1/c1", "id": "same"}), alice_owned());
    let r = put(&s, "/v1/buckets/b1/collections/c2/records/same", ALICE, json!({"data": {"where": "b1/c2"}})).await;
    expect_object(&r, 201, json!({"where": "b1/c2", "id": "same"}), alice_owned());
    let r = put(&s, "/v1/buckets/b2/collections/c1/records/same", ALICE, json!({"data": {"where": "b2/c1"}})).await;
    expect_object(&r, 201, json!({"where": "b2/c1", "id": "same"}), alice_owned());

    let r = get(&s, &record("same"), ALICE).await;
    expect_object(&r, 200, json!({"where": "b1/c1", "id": "same"}), alice_owned());
    let r = get(&s, "/v1/buckets/b2/collections/c1/records/same", ALICE).await;
    expect_object(&r, 200, json!({"where": "b2/c1", "id": "same"}), alice_owned());

    // A collection id shared with a record id of another list does not clash either.
    let r = get(&s, "/v1/buckets/b1/collections/c2/records", ALICE).await;
    assert_eq!(ids(&r), vec!["same"]);
}

#[tokio::test]
async fn obj_envelope_object_responses_have_data_and_permissions_lists_only_data() {
    let s = common::start().await;
    setup(&s).await;
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}, "permissions": {"read": [BOB_ID]}})).await;
    let ts = expect_object(&r, 201, json!({"a": 1, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    // The plural endpoint never includes permissions.
    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": [{"a": 1, "id": "r1", "last_modified": ts}]}));
    assert!(r.json.get("permissions").is_none());

    // DELETE answers only `data`.
    let r = delete(&s, &record("r1"), ALICE).await;
    expect_tombstone(&r, "r1");
    assert!(r.json.get("permissions").is_none());
}

#[tokio::test]
async fn obj_envelope_rejects_unknown_top_level_keys_and_non_object_members() {
    let s = common::start().await;
    setup(&s).await;

    let r = put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}, "foo": 1})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["code"], 400);
    assert_eq!(r.json["errno"], 107);
    assert_eq!(r.json["error"], "Invalid parameters");
    assert!(
        r.json["message"].as_str().is_some_and(|m| m.starts_with("Unrecognized keys in mapping")),
        "message: {}",
        r.text
    );
    assert_eq!(r.json["details"][0]["location"], "body");

    let r = put(&s, &record("r1"), ALICE, json!({"data": [1, 2]})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errno"], 107);
    assert_eq!(r.json["error"], "Invalid parameters");
    assert!(r.json["message"].as_str().is_some_and(|m| m.starts_with("data in body: ")), "message: {}", r.text);
    assert_eq!(r.json["details"][0]["location"], "body");
    assert_eq!(r.json["details"][0]["name"], "data");

    let r = put(&s, &record("r1"), ALICE, json!({"permissions": []})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errno"], 107);
    assert_eq!(r.json["details"][0]["name"], "permissions");

    // Nothing was created.
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));
}

#[tokio::test]
async fn obj_reserved_id_and_last_modified_are_set_by_the_server() {
    let s = common::start().await;
    setup(&s).await;

    // A non-integer last_modified is silently dropped and replaced by the server timestamp.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"id": "r1", "last_modified": "123", "x": 1}})).await;
    let ts = expect_object(&r, 201, json!({"id": "r1", "x": 1}), alice_owned());
    assert!(ts > 1_000_000_000_000, "server timestamp expected, got {ts}");

    // Posted ids are kept.
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "chosen", "y": 2}})).await;
    expect_object(&r, 201, json!({"id": "chosen", "y": 2}), alice_owned());

    // Group `members` defaults to [] when data is given without it.
    let r = put(&s, "/v1/buckets/b1/groups/g1", ALICE, json!({"data": {}})).await;
    expect_object(&r, 201, json!({"members": [], "id": "g1"}), alice_owned());
    let r = get(&s, "/v1/buckets/b1/groups/g1", ALICE).await;
    expect_object(&r, 200, json!({"members": [], "id": "g1"}), alice_owned());
}

// ------------------------------------------------------------------------------------------------
// OBJ-ID-REGEX / OBJ-ID-ERRORS

#[tokio::test]
async fn obj_id_generated_ids_have_the_kind_format() {
    let s = common::start().await;
    setup(&s).await;
    let short = regex::Regex::new("^[a-zA-Z0-9][a-zA-Z0-9_-]{7}$").expect("regex");
    let uuid4 =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$").expect("regex");

    for path in ["/v1/buckets", "/v1/buckets/b1/collections", "/v1/buckets/b1/groups"] {
        let r = post(&s, path, ALICE, json!({"data": {"k": path}})).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text);
        let id = r.json["data"]["id"].as_str().expect("id").to_owned();
        assert!(short.is_match(&id), "{path}: generated id {id:?}");
        let mut data = json!({"k": path, "id": id});
        if path.ends_with("groups") {
            data["members"] = json!([]);
        }
        expect_object(&r, 201, data.clone(), alice_owned());
        let r = get(&s, &format!("{path}/{id}"), ALICE).await;
        expect_object(&r, 200, data, alice_owned());
    }

    let r = post(&s, RECORDS, ALICE, json!({"data": {"t": 1}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["data"]["id"].as_str().expect("id").to_owned();
    assert!(uuid4.is_match(&id), "record id {id:?}");
    expect_object(&r, 201, json!({"t": 1, "id": id}), alice_owned());
    let r = get(&s, &record(&id), ALICE).await;
    expect_object(&r, 200, json!({"t": 1, "id": id}), alice_owned());

    // Without any body.
    let r = call(&s, Method::POST, RECORDS, ALICE, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id2 = r.json["data"]["id"].as_str().expect("id").to_owned();
    assert!(uuid4.is_match(&id2), "record id {id2:?}");
    assert_ne!(id, id2);
    expect_object(&r, 201, json!({"id": id2}), alice_owned());
}

#[tokio::test]
async fn obj_id_regex_accepts_generic_ids_and_rejects_others() {
    let s = common::start().await;
    setup(&s).await;

    // Records accept any id of the generic form, not only UUIDs.
    let r = put_empty(&s, &record("abc_DEF-1"), ALICE).await;
    expect_object(&r, 201, json!({"id": "abc_DEF-1"}), alice_owned());
    let r = put_empty(&s, "/v1/buckets/b1/collections/Z9_-x", ALICE).await;
    expect_object(&r, 201, json!({"id": "Z9_-x"}), alice_owned());

    for path in [
        "/v1/buckets/_x".to_owned(),
        "/v1/buckets/a.b".to_owned(),
        "/v1/buckets/b1/collections/a.b".to_owned(),
        "/v1/buckets/b1/collections/-ab".to_owned(),
        "/v1/buckets/b1/groups/a.b".to_owned(),
        record("a.b"),
        record("-ab"),
        record("r%201"),
    ] {
        let r = put_empty(&s, &path, ALICE).await;
        expect(&r, 400, invalid_object_id());
        expect_no_cache_header(&r);
    }

    // POST with an invalid data.id: same error, location `path`.
    let r = post(&s, "/v1/buckets/b1/collections", ALICE, json!({"data": {"id": "a b"}})).await;
    expect(&r, 400, invalid_object_id());
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "a b"}})).await;
    expect(&r, 400, invalid_object_id());
    let r = post(&s, "/v1/buckets", ALICE, json!({"data": {"id": "_x"}})).await;
    expect(&r, 400, invalid_object_id());
}

#[tokio::test]
async fn obj_id_invalid_object_id_is_checked_after_authorization() {
    let s = common::start().await;
    setup(&s).await;

    // Nobody may read a bucket that does not exist: 403/401 before the id check.
    expect_403(&get(&s, "/v1/buckets/b%201", ALICE).await);
    expect_401(&get(&s, "/v1/buckets/b%201", ANON).await);
    // Alice may create buckets, so she reaches the id validation.
    expect(&put_empty(&s, "/v1/buckets/b%201", ALICE).await, 400, invalid_object_id());
    expect_401(&put_empty(&s, "/v1/buckets/b%201", ANON).await);

    // Collections in alice's bucket.
    expect(&put_empty(&s, "/v1/buckets/b1/collections/c%201", ALICE).await, 400, invalid_object_id());
    expect(&get(&s, "/v1/buckets/b1/collections/c%201", ALICE).await, 400, invalid_object_id());
    expect_403(&put_empty(&s, "/v1/buckets/b1/collections/c%201", BOB).await);
    expect_401(&put_empty(&s, "/v1/buckets/b1/collections/c%201", ANON).await);

    // Records.
    expect(&get(&s, &record("r%201"), ALICE).await, 400, invalid_object_id());
    expect_403(&get(&s, &record("r%201"), BOB).await);
    expect_401(&get(&s, &record("r%201"), ANON).await);
    expect_403(&put_empty(&s, &record("a.b"), BOB).await);
}

#[tokio::test]
async fn obj_id_invalid_parent_id_is_a_404_of_the_parent() {
    let s = common::start().await;
    setup(&s).await;

    // Reads: after authorization.
    let r = get(&s, "/v1/buckets/b1/collections/c%201/records", ALICE).await;
    expect(&r, 404, missing_parent("c 1", "collection"));
    expect_no_cache_header(&r);
    expect(
        &get(&s, "/v1/buckets/b1/collections/c%201/records/r1", ALICE).await,
        404,
        missing_parent("c 1", "collection"),
    );
    expect_403(&get(&s, "/v1/buckets/b1/collections/c%201/records", BOB).await);
    expect_401(&get(&s, "/v1/buckets/b1/collections/c%201/records", ANON).await);
    expect_403(&get(&s, "/v1/buckets/b%201/collections/c1", ALICE).await);
    expect_403(&get(&s, "/v1/buckets/b%201/collections", ALICE).await);
    expect_403(&get(&s, "/v1/buckets/b%201/collections/c1/records", ALICE).await);

    // Writes: the parent is checked first, like OBJ-PARENT-EXISTS.
    expect(
        &put_empty(&s, "/v1/buckets/b1/collections/c%201/records/r1", ALICE).await,
        404,
        missing_parent("c 1", "collection"),
    );
    expect(
        &put_empty(&s, "/v1/buckets/b1/collections/c%201/records/r1", ANON).await,
        404,
        missing_parent("c 1", "collection"),
    );
    expect(
        &post(&s, "/v1/buckets/b1/collections/c%201/records", ANON, json!({})).await,
        404,
        missing_parent("c 1", "collection"),
    );
    expect(&put_empty(&s, "/v1/buckets/b%201/collections/c1", ALICE).await, 404, missing_parent("b 1", "bucket"));
    expect(&put_empty(&s, "/v1/buckets/b%201/collections/c1", BOB).await, 404, missing_parent("b 1", "bucket"));
    expect(&put_empty(&s, "/v1/buckets/b%201/collections/c1", ANON).await, 404, missing_parent("b 1", "bucket"));
    expect(&put_empty(&s, "/v1/buckets/b%201/groups/g1", ANON).await, 404, missing_parent("b 1", "bucket"));
    expect(
        &patch(&s, "/v1/buckets/b%201/collections/c1", ANON, json!({"data": {}})).await,
        404,
        missing_parent("b 1", "bucket"),
    );
    expect(&delete(&s, "/v1/buckets/b%201/collections/c1", BOB).await, 404, missing_parent("b 1", "bucket"));
    expect(
        &put_empty(&s, "/v1/buckets/b%201/collections/c1/records/r1", ANON).await,
        404,
        missing_parent("b 1", "bucket"),
    );
}

#[tokio::test]
async fn obj_id_body_id_must_match_url_id() {
    let s = common::start().await;
    setup(&s).await;

    expect(&put(&s, &record("r1"), ALICE, json!({"data": {"id": "r2"}})).await, 400, id_mismatch());
    expect(&put(&s, &record("r1"), ALICE, json!({"data": {"id": 5}})).await, 400, id_mismatch());
    // Nothing was created.
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));

    // Matching ids are fine.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"id": "r1", "v": 1}})).await;
    expect_object(&r, 201, json!({"id": "r1", "v": 1}), alice_owned());

    expect(&patch(&s, &record("r1"), ALICE, json!({"data": {"id": "r2"}})).await, 400, id_mismatch());
    let r = patch(&s, &record("r1"), ALICE, json!({"data": {"id": "r1", "w": 2}})).await;
    expect_object(&r, 200, json!({"id": "r1", "v": 1, "w": 2}), alice_owned());

    expect(&put(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"data": {"id": "c2"}})).await, 400, id_mismatch());
    expect(&put(&s, "/v1/buckets/b1", ALICE, json!({"data": {"id": "b2"}})).await, 400, id_mismatch());
}

// ------------------------------------------------------------------------------------------------
// OBJ-TOMBSTONE / OBJ-CASCADE / OBJ-PARENT-EXISTS

#[tokio::test]
async fn obj_tombstone_replaces_deleted_objects() {
    let s = common::start().await;
    setup(&s).await;
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}, "permissions": {"read": [BOB_ID]}})).await;
    let created = expect_object(&r, 201, json!({"a": 1, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    let r = delete(&s, &record("r1"), ALICE).await;
    let deleted = expect_tombstone(&r, "r1");
    assert!(deleted > created);

    // Invisible to GET/PATCH/DELETE by id.
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));
    expect(&delete(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));
    expect(&patch(&s, &record("r1"), ALICE, json!({"data": {}})).await, 404, not_found("r1", "record"));

    // Visible in lists filtered by timestamp only.
    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect_ts_headers(&r, deleted);
    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "r1", "last_modified": deleted, "deleted": true}]}));
    expect_ts_headers(&r, deleted);

    // Re-creating the id creates a fresh object (the old ACL is gone too) and removes the tombstone.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"z": 1}})).await;
    let recreated = expect_object(&r, 201, json!({"z": 1, "id": "r1"}), alice_owned());
    assert!(recreated > deleted);
    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    expect(&r, 200, json!({"data": [{"z": 1, "id": "r1", "last_modified": recreated}]}));

    // Same through POST.
    expect_tombstone(&delete(&s, &record("r1"), ALICE).await, "r1");
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "r1", "v": 3}})).await;
    expect_object(&r, 201, json!({"id": "r1", "v": 3}), alice_owned());
}

#[tokio::test]
async fn obj_tombstone_for_every_kind() {
    let s = common::start().await;
    setup(&s).await;
    assert_eq!(put_empty(&s, "/v1/buckets/b1/groups/g1", ALICE).await.status, 201);
    assert_eq!(put_empty(&s, &record("r1"), ALICE).await.status, 201);

    let t = expect_tombstone(&delete(&s, &record("r1"), ALICE).await, "r1");
    expect_no_cache_header(&delete(&s, "/v1/buckets/b1/groups/g1", ALICE).await);
    expect(&get(&s, "/v1/buckets/b1/groups/g1", ALICE).await, 404, not_found("g1", "group"));
    let r = get(&s, "/v1/buckets/b1/groups?_since=0", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"][0]["id"], "g1");
    assert_eq!(r.json["data"][0]["deleted"], true);
    assert!(t > 0);

    let c = expect_tombstone(&delete(&s, "/v1/buckets/b1/collections/c1", ALICE).await, "c1");
    expect(&get(&s, "/v1/buckets/b1/collections/c1", ALICE).await, 404, not_found("c1", "collection"));
    let r = get(&s, "/v1/buckets/b1/collections?_since=0", ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "c1", "last_modified": c, "deleted": true}]}));

    expect_tombstone(&delete(&s, "/v1/buckets/b1", ALICE).await, "b1");
    // The bucket's ACL went with it: alice can no longer even see that it is missing.
    expect_403(&get(&s, "/v1/buckets/b1", ALICE).await);
    expect_403(&delete(&s, "/v1/buckets/b1", ALICE).await);
    // Re-creating it works.
    let r = put_empty(&s, "/v1/buckets/b1", ALICE).await;
    expect_object(&r, 201, json!({"id": "b1"}), alice_owned());
}

#[tokio::test]
async fn obj_cascade_collection_delete_purges_records_without_tombstones() {
    let s = common::start().await;
    setup(&s).await;
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"n": 1}, "permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(put(&s, &record("r2"), ALICE, json!({"data": {"n": 2}})).await.status, 201);
    expect_tombstone(&delete(&s, &record("r2"), ALICE).await, "r2");
    assert_eq!(get(&s, &record("r1"), BOB).await.status, 200);

    expect_tombstone(&delete(&s, "/v1/buckets/b1/collections/c1", ALICE).await, "c1");
    expect(&get(&s, RECORDS, ALICE).await, 404, missing_parent("c1", "collection"));
    expect(&get(&s, &record("r1"), ALICE).await, 404, missing_parent("c1", "collection"));

    let r = put_empty(&s, "/v1/buckets/b1/collections/c1", ALICE).await;
    let coll_ts = expect_object(&r, 201, json!({"id": "c1"}), alice_owned());

    // Empty list, no tombstones, fresh timestamp.
    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    expect(&r, 200, json!({"data": []}));
    assert!(etag(&r) >= coll_ts, "records list restarts from now: {} < {coll_ts}", etag(&r));
    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));

    // The re-created collection replaced its own tombstone.
    let r = get(&s, "/v1/buckets/b1/collections?_since=0", ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "c1", "last_modified": coll_ts}]}));

    // The records' ACLs went away with them.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"n": 1}})).await;
    expect_object(&r, 201, json!({"n": 1, "id": "r1"}), alice_owned());
    expect_403(&get(&s, &record("r1"), BOB).await);
}

#[tokio::test]
async fn obj_cascade_bucket_delete_purges_everything_below() {
    let s = common::start().await;
    setup(&s).await;
    assert_eq!(put_empty(&s, "/v1/buckets/b1/collections/c2", ALICE).await.status, 201);
    assert_eq!(put(&s, "/v1/buckets/b1/groups/g1", ALICE, json!({"data": {"members": [BOB_ID]}})).await.status, 201);
    assert_eq!(put_empty(&s, &record("r1"), ALICE).await.status, 201);
    expect_tombstone(&delete(&s, "/v1/buckets/b1/collections/c2", ALICE).await, "c2");
    // An ACE below the bucket.
    let r = patch(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(get(&s, RECORDS, BOB).await.status, 200);

    expect_tombstone(&delete(&s, "/v1/buckets/b1", ALICE).await, "b1");
    expect_403(&get(&s, "/v1/buckets/b1/collections", ALICE).await);

    let r = put_empty(&s, "/v1/buckets/b1", ALICE).await;
    let bucket_ts = expect_object(&r, 201, json!({"id": "b1"}), alice_owned());

    let r = get(&s, "/v1/buckets/b1/collections?_since=0", ALICE).await;
    expect(&r, 200, json!({"data": []}));
    assert!(etag(&r) >= bucket_ts);
    let r = get(&s, "/v1/buckets/b1/groups?_since=0", ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect(&get(&s, "/v1/buckets/b1/collections/c1", ALICE).await, 404, not_found("c1", "collection"));
    expect(&get(&s, "/v1/buckets/b1/groups/g1", ALICE).await, 404, not_found("g1", "group"));
    expect(&get(&s, RECORDS, ALICE).await, 404, missing_parent("c1", "collection"));

    // Re-creating the collection gives an empty records list and a fresh ACL.
    let r = put_empty(&s, "/v1/buckets/b1/collections/c1", ALICE).await;
    expect_object(&r, 201, json!({"id": "c1"}), alice_owned());
    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));
    expect_403(&get(&s, RECORDS, BOB).await);
}

#[tokio::test]
async fn obj_parent_exists_for_record_endpoints() {
    let s = common::start().await;
    setup(&s).await;
    let missing = "/v1/buckets/b1/collections/missing/records";
    let gone = || missing_parent("missing", "collection");

    // GET/HEAD/DELETE on the list: authorization first.
    let r = get(&s, missing, ALICE).await;
    expect(&r, 404, gone());
    expect_no_cache_header(&r);
    expect_403(&get(&s, missing, BOB).await);
    expect_401(&get(&s, missing, ANON).await);
    let r = head(&s, missing, ALICE).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, "");
    expect(&delete(&s, missing, ALICE).await, 404, gone());
    expect_403(&delete(&s, missing, BOB).await);

    // POST on the list and PUT/PATCH/DELETE on a record: existence first, even for anonymous callers.
    expect(&post(&s, missing, ANON, json!({"data": {}})).await, 404, gone());
    expect(&post(&s, missing, BOB, json!({"data": {}})).await, 404, gone());
    expect(&put_empty(&s, &format!("{missing}/r"), ANON).await, 404, gone());
    expect(&patch(&s, &format!("{missing}/r"), ANON, json!({"data": {}})).await, 404, gone());
    expect(&delete(&s, &format!("{missing}/r"), ANON).await, 404, gone());
    expect(&put_empty(&s, &format!("{missing}/r"), ALICE).await, 404, gone());

    // GET of a record: authorization first.
    expect(&get(&s, &format!("{missing}/r"), ALICE).await, 404, gone());
    expect_401(&get(&s, &format!("{missing}/r"), ANON).await);
    expect_403(&get(&s, &format!("{missing}/r"), BOB).await);

    // A missing bucket yields the same collection 404.
    expect_401(&get(&s, "/v1/buckets/nob/collections/missing/records/r", ANON).await);
    expect(&put_empty(&s, "/v1/buckets/nob/collections/missing/records/r", ANON).await, 404, gone());
    expect(&put_empty(&s, "/v1/buckets/nob/collections/missing/records/r", ALICE).await, 404, gone());
}

// ------------------------------------------------------------------------------------------------
// OBJ-KINDS

#[tokio::test]
async fn obj_kinds_permission_names_per_kind() {
    let s = common::start().await;
    setup(&s).await;
    assert_eq!(put_empty(&s, "/v1/buckets/b1/groups/g1", ALICE).await.status, 201);

    let cases = [
        ("/v1/buckets/b1".to_owned(), "read, write, collection:create, group:create"),
        ("/v1/buckets/b1/collections/c1".to_owned(), "read, write, record:create"),
        ("/v1/buckets/b1/groups/g1".to_owned(), "read, write"),
        (record("r1"), "read, write"),
    ];
    for (path, allowed) in cases {
        let description = format!("\"admin\" is not one of {allowed}");
        let r = put(&s, &path, ALICE, json!({"permissions": {"admin": ["x"]}})).await;
        expect(&r, 400, invalid("body", "permissions", &description, &format!("permissions in body: {description}")));
    }
    // A permission of another kind is rejected too.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"record:create": ["x"]}})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            "permissions",
            "\"record:create\" is not one of read, write",
            "permissions in body: \"record:create\" is not one of read, write",
        ),
    );
    // ACEs must be lists.
    let r = put(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"read": "x"}})).await;
    expect(
        &r,
        400,
        invalid("body", "permissions.read", "\"x\" is not iterable", "permissions.read in body: \"x\" is not iterable"),
    );

    // Each kind accepts its own names.
    let r = put(
        &s,
        "/v1/buckets/b1",
        ALICE,
        json!({"permissions": {"collection:create": [BOB_ID], "group:create": [BOB_ID]}}),
    )
    .await;
    expect_object(
        &r,
        200,
        json!({"id": "b1"}),
        json!({"collection:create": [BOB_ID], "group:create": [BOB_ID], "write": [ALICE_ID]}),
    );
    let r = put(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"record:create": [BOB_ID]}})).await;
    expect_object(&r, 200, json!({"id": "c1"}), json!({"record:create": [BOB_ID], "write": [ALICE_ID]}));
}

#[tokio::test]
async fn obj_kinds_group_members_validation() {
    let s = common::start().await;
    setup(&s).await;
    let g = "/v1/buckets/b1/groups/g1";

    let r = put(&s, g, ALICE, json!({"data": {"members": ["system.Everyone"]}})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            "data.members.0",
            "'system.Everyone' is not a valid user ID.",
            "data.members.0 in body: 'system.Everyone' is not a valid user ID.",
        ),
    );
    let r = put(&s, g, ALICE, json!({"data": {"members": ["a", "/buckets/b1/groups/g2"]}})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            "data.members.1",
            "'/buckets/b1/groups/g2' is not a valid user ID.",
            "data.members.1 in body: '/buckets/b1/groups/g2' is not a valid user ID.",
        ),
    );
    let r = put(&s, g, ALICE, json!({"data": {"members": "abc"}})).await;
    expect(
        &r,
        400,
        invalid("body", "data.members", "\"abc\" is not iterable", "data.members in body: \"abc\" is not iterable"),
    );
    let r = put(&s, g, ALICE, json!({"data": {"members": [1]}})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errno"], 107);
    assert_eq!(r.json["details"][0]["name"], "data.members.0");
    expect(&get(&s, g, ALICE).await, 404, not_found("g1", "group"));

    // system.Authenticated and arbitrary (even unknown-prefix) user ids are fine.
    let r = put(&s, g, ALICE, json!({"data": {"members": ["system.Authenticated", "fxa:123", BOB_ID]}})).await;
    expect_object(&r, 201, json!({"members": ["system.Authenticated", "fxa:123", BOB_ID], "id": "g1"}), alice_owned());
}

#[tokio::test]
async fn obj_kinds_collection_cache_expires_must_be_an_integer() {
    let s = common::start().await;
    setup(&s).await;
    let r = put(&s, "/v1/buckets/b1/collections/c2", ALICE, json!({"data": {"cache_expires": "abc"}})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            "data.cache_expires",
            "\"abc\" is not a number",
            "data.cache_expires in body: \"abc\" is not a number",
        ),
    );
    expect(&get(&s, "/v1/buckets/b1/collections/c2", ALICE).await, 404, not_found("c2", "collection"));

    let r = put(&s, "/v1/buckets/b1/collections/c2", ALICE, json!({"data": {"cache_expires": 10}})).await;
    expect_object(&r, 201, json!({"cache_expires": 10, "id": "c2"}), alice_owned());
}

// ------------------------------------------------------------------------------------------------
// TS-*

#[tokio::test]
async fn ts_format_is_integer_milliseconds_in_etag_and_last_modified() {
    let s = common::start().await;
    setup(&s).await;
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis();
    let r = put_empty(&s, &record("r1"), ALICE).await;
    let ts = expect_object(&r, 201, json!({"id": "r1"}), alice_owned());
    assert!(r.json["data"]["last_modified"].is_i64() || r.json["data"]["last_modified"].is_u64());
    // Milliseconds since the epoch (not seconds, not microseconds).
    let before = i64::try_from(before).expect("ms");
    assert!(ts >= before - 60_000 && ts < before + 3_600_000, "ts {ts} vs now {before}");
    let etag = r.header("etag").expect("ETag");
    assert_eq!(etag, format!("\"{ts}\""));
    // e.g. "Sun, 22 Nov 2026 06:54:40 GMT"
    let lm = r.header("last-modified").expect("Last-Modified");
    assert!(lm.ends_with(" GMT") && lm.len() == 29, "{lm}");
}

#[tokio::test]
async fn ts_monotonic_per_list_and_lists_are_independent() {
    let s = common::start().await;
    let r = put_empty(&s, "/v1/buckets/b1", ALICE).await;
    let bucket_ts = ts_of(&r);
    let coll_ts = ts_of(&put_empty(&s, "/v1/buckets/b1/collections/c1", ALICE).await);
    assert_eq!(put_empty(&s, "/v1/buckets/b1/groups/g1", ALICE).await.status, 201);

    let mut last = 0;
    for i in 0..8 {
        let id = format!("r{i}");
        let r = put(&s, &record(&id), ALICE, json!({"data": {"i": i}})).await;
        let ts = expect_object(&r, 201, json!({"i": i, "id": id}), alice_owned());
        assert!(ts > last, "timestamps must strictly increase: {ts} <= {last}");
        last = ts;
    }
    // Updates and deletions too.
    let ts = ts_of(&patch(&s, &record("r0"), ALICE, json!({"data": {"x": 1}})).await);
    assert!(ts > last);
    let del = ts_of(&delete(&s, &record("r1"), ALICE).await);
    assert!(del > ts);

    // Writing records did not touch the collection nor the bucket.
    let r = get(&s, "/v1/buckets/b1/collections/c1", ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "c1"}), alice_owned()), coll_ts);
    let r = get(&s, "/v1/buckets/b1", ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "b1"}), alice_owned()), bucket_ts);
    // The collections list timestamp is the collection's.
    let r = get(&s, "/v1/buckets/b1/collections", ALICE).await;
    expect_ts_headers(&r, coll_ts);
    // The records list timestamp is the last write in it.
    let r = get(&s, RECORDS, ALICE).await;
    expect_ts_headers(&r, del);
}

#[tokio::test]
async fn ts_always_bump_on_put_and_patch() {
    let s = common::start().await;
    setup(&s).await;
    let t1 = ts_of(&put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}})).await);

    // Same data again.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let t2 = expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned());
    assert!(t2 > t1);
    // PATCH changing nothing.
    let r = patch(&s, &record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let t3 = expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned());
    assert!(t3 > t2);
    // PATCH with an empty data object.
    let r = patch(&s, &record("r1"), ALICE, json!({"data": {}})).await;
    let t4 = expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned());
    assert!(t4 > t3);
    // Empty PUT keeps data.
    let r = put_empty(&s, &record("r1"), ALICE).await;
    let t5 = expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned());
    assert!(t5 > t4);
    // Permissions-only PUT and PATCH.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    let t6 = expect_object(&r, 200, json!({"a": 1, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));
    assert!(t6 > t5);
    let r = patch(&s, &record("r1"), ALICE, json!({"permissions": {"read": []}})).await;
    let t7 = expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned());
    assert!(t7 > t6);

    // Buckets and collections as well.
    let c1 = ts_of(&get(&s, "/v1/buckets/b1/collections/c1", ALICE).await);
    let c2 = ts_of(&put_empty(&s, "/v1/buckets/b1/collections/c1", ALICE).await);
    assert!(c2 > c1);
    let b1 = ts_of(&get(&s, "/v1/buckets/b1", ALICE).await);
    let b2 = ts_of(&patch(&s, "/v1/buckets/b1", ALICE, json!({"data": {}})).await);
    assert!(b2 > b1);

    // POST of an existing id writes nothing.
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "r1", "a": 2}})).await;
    assert_eq!(expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned()), t7);
}

#[tokio::test]
async fn ts_client_value_in_the_past_is_stored_as_is() {
    let s = common::start().await;
    setup(&s).await;
    let r = put(&s, &record("x1"), ALICE, json!({"data": {"id": "x1", "last_modified": 123}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    expect(&r, 201, json!({"data": {"id": "x1", "last_modified": 123}, "permissions": alice_owned()}));
    assert_eq!(r.header("etag"), Some("\"123\""));
    assert_eq!(r.header("last-modified"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));

    let r = get(&s, &record("x1"), ALICE).await;
    expect(&r, 200, json!({"data": {"id": "x1", "last_modified": 123}, "permissions": alice_owned()}));
    assert_eq!(r.header("etag"), Some("\"123\""));
    assert_eq!(r.header("last-modified"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));

    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "x1", "last_modified": 123}]}));
}

#[tokio::test]
async fn ts_client_value_in_the_future_becomes_the_list_timestamp() {
    let s = common::start().await;
    setup(&s).await;
    let r = put(&s, &record("x1"), ALICE, json!({"data": {"last_modified": FUTURE}})).await;
    assert_eq!(expect_object(&r, 201, json!({"id": "x1"}), alice_owned()), FUTURE);
    let r = get(&s, RECORDS, ALICE).await;
    expect_ts_headers(&r, FUTURE);

    // Next writes: list ts + 1.
    let r = put_empty(&s, &record("x2"), ALICE).await;
    assert_eq!(expect_object(&r, 201, json!({"id": "x2"}), alice_owned()), FUTURE + 1);
    // On update a value not strictly greater than the stored one is ignored.
    let r = put(&s, &record("x2"), ALICE, json!({"data": {"last_modified": FUTURE + 1}})).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "x2"}), alice_owned()), FUTURE + 2);
    let r = put(&s, &record("x2"), ALICE, json!({"data": {"last_modified": 1000}})).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "x2"}), alice_owned()), FUTURE + 3);
    // A greater one is used.
    let r = patch(&s, &record("x2"), ALICE, json!({"data": {"last_modified": FUTURE + 10}})).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "x2"}), alice_owned()), FUTURE + 10);
    // Non-integers are dropped.
    let r = put(&s, &record("x3"), ALICE, json!({"data": {"last_modified": "123"}})).await;
    assert_eq!(expect_object(&r, 201, json!({"id": "x3"}), alice_owned()), FUTURE + 11);
    let r = delete(&s, &record("x3"), ALICE).await;
    assert_eq!(expect_tombstone(&r, "x3"), FUTURE + 12);

    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [
            {"id": "x3", "last_modified": FUTURE + 12, "deleted": true},
            {"id": "x2", "last_modified": FUTURE + 10},
            {"id": "x1", "last_modified": FUTURE},
        ]}),
    );
    expect_ts_headers(&r, FUTURE + 12);
}

#[tokio::test]
async fn ts_list_timestamp_is_stable_when_empty_and_tracks_the_newest_write() {
    let s = common::start().await;
    let coll_ts = setup(&s).await;

    let r1 = get(&s, RECORDS, ALICE).await;
    expect(&r1, 200, json!({"data": []}));
    let empty = etag(&r1);
    assert!(empty >= coll_ts);
    expect_ts_headers(&r1, empty);
    let r2 = get(&s, RECORDS, ALICE).await;
    expect(&r2, 200, json!({"data": []}));
    expect_ts_headers(&r2, empty);
    let r3 = head(&s, RECORDS, ALICE).await;
    assert_eq!(r3.status, 200);
    expect_ts_headers(&r3, empty);

    let a = ts_of(&put_empty(&s, &record("a"), ALICE).await);
    assert!(a > empty);
    let b = ts_of(&put_empty(&s, &record("b"), ALICE).await);
    expect_ts_headers(&get(&s, RECORDS, ALICE).await, b);

    // Deleting the older record: the tombstone is now the newest write.
    let del = ts_of(&delete(&s, &record("a"), ALICE).await);
    assert!(del > b);
    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "b", "last_modified": b}]}));
    expect_ts_headers(&r, del);
    let r = head(&s, RECORDS, ALICE).await;
    expect_ts_headers(&r, del);

    // Buckets list too.
    let r = get(&s, "/v1/buckets", ALICE).await;
    let bucket_ts = ts_of(&get(&s, "/v1/buckets/b1", ALICE).await);
    expect_ts_headers(&r, bucket_ts);
}

#[tokio::test]
async fn ts_delete_querystring_forces_the_tombstone_timestamp() {
    let s = common::start().await;
    setup(&s).await;
    let r1 = ts_of(&put_empty(&s, &record("r1"), ALICE).await);
    assert_eq!(put_empty(&s, &record("r2"), ALICE).await.status, 201);

    let r = delete(&s, &format!("{}?last_modified={FUTURE}", record("r1")), ALICE).await;
    assert_eq!(expect_tombstone(&r, "r1"), FUTURE);
    // Not greater than the object's timestamp: ignored.
    let r = delete(&s, &format!("{}?last_modified={r1}", record("r2")), ALICE).await;
    assert_eq!(expect_tombstone(&r, "r2"), FUTURE + 1);
    expect_ts_headers(&get(&s, RECORDS, ALICE).await, FUTURE + 1);
}

// ------------------------------------------------------------------------------------------------
// OP-LIST-*

#[tokio::test]
async fn op_list_get_newest_first_tombstones_only_with_since() {
    let s = common::start().await;
    setup(&s).await;
    let t1 = ts_of(&put(&s, &record("r1"), ALICE, json!({"data": {"n": 1}})).await);
    let _t2 = ts_of(&put(&s, &record("r2"), ALICE, json!({"data": {"n": 2}})).await);
    let t3 = ts_of(&put(&s, &record("r3"), ALICE, json!({"data": {"n": 3}})).await);
    let d2 = ts_of(&delete(&s, &record("r2"), ALICE).await);

    let r = get(&s, RECORDS, ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [{"n": 3, "id": "r3", "last_modified": t3}, {"n": 1, "id": "r1", "last_modified": t1}]}),
    );
    expect_ts_headers(&r, d2);
    expect_no_cache(&r);
    assert_eq!(r.header("next-page"), None);
    assert_eq!(r.header("total-objects"), None);

    // `_since` is strict and includes tombstones.
    let r = get(&s, &format!("{RECORDS}?_since={t1}"), ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [
            {"id": "r2", "last_modified": d2, "deleted": true},
            {"n": 3, "id": "r3", "last_modified": t3},
        ]}),
    );
    expect_ts_headers(&r, d2);
    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [
            {"id": "r2", "last_modified": d2, "deleted": true},
            {"n": 3, "id": "r3", "last_modified": t3},
            {"n": 1, "id": "r1", "last_modified": t1},
        ]}),
    );
    let r = get(&s, &format!("{RECORDS}?_since={d2}"), ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect_ts_headers(&r, d2);
}

#[tokio::test]
async fn op_list_head_counts_live_objects() {
    let s = common::start().await;
    setup(&s).await;
    for id in ["r1", "r2", "r3"] {
        assert_eq!(put_empty(&s, &record(id), ALICE).await.status, 201);
    }
    let del = ts_of(&delete(&s, &record("r2"), ALICE).await);

    for query in ["", "?_since=0"] {
        let r = head(&s, &format!("{RECORDS}{query}"), ALICE).await;
        assert_eq!(r.status, 200, "{query}");
        assert_eq!(r.text, "", "HEAD has no body");
        assert_eq!(r.header("total-objects"), Some("2"), "{query}");
        assert_eq!(r.header("total-records"), Some("2"), "{query}");
        expect_ts_headers(&r, del);
        expect_no_cache(&r);
        assert_eq!(r.header("next-page"), None);
    }

    let r = head(&s, "/v1/buckets", ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("total-objects"), Some("1"));
    assert_eq!(r.header("total-records"), Some("1"));
    let r = head(&s, "/v1/buckets/b1/groups", ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("total-objects"), Some("0"));
}

#[tokio::test]
async fn op_list_post_creates_or_returns_the_existing_object() {
    let s = common::start().await;
    setup(&s).await;

    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "p1", "v": 1}})).await;
    let ts = expect_object(&r, 201, json!({"id": "p1", "v": 1}), alice_owned());
    expect_no_cache_header(&r);

    // Existing id: the posted body (data and permissions) is ignored.
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "p1", "v": 2}, "permissions": {"read": ["x"]}})).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "p1", "v": 1}), alice_owned()), ts);
    let r = get(&s, &record("p1"), ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "p1", "v": 1}), alice_owned()), ts);
    // Reading an existing object requires read permission on it.
    expect_403(&post(&s, RECORDS, BOB, json!({"data": {"id": "p1", "v": 2}})).await);

    // Missing data is {}.
    let r = post(&s, RECORDS, ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["data"]["id"].as_str().expect("id").to_owned();
    expect_object(&r, 201, json!({"id": id}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    // Other kinds.
    let r = post(&s, "/v1/buckets/b1/collections", ALICE, json!({"data": {"id": "c9", "x": 1}})).await;
    expect_object(&r, 201, json!({"id": "c9", "x": 1}), alice_owned());
    let r = post(&s, "/v1/buckets/b1/collections", ALICE, json!({"data": {"id": "c9", "x": 2}})).await;
    expect_object(&r, 200, json!({"id": "c9", "x": 1}), alice_owned());
    let r = post(&s, "/v1/buckets", ALICE, json!({"data": {"id": "b1"}})).await;
    expect_object(&r, 200, json!({"id": "b1"}), alice_owned());
}

#[tokio::test]
async fn op_list_delete_returns_tombstones() {
    let s = common::start().await;
    setup(&s).await;
    assert_eq!(put(&s, &record("r1"), ALICE, json!({"data": {"n": 1}})).await.status, 201);
    assert_eq!(put(&s, &record("r2"), ALICE, json!({"data": {"n": 2}})).await.status, 201);

    let r = delete(&s, RECORDS, ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    expect_no_cache_header(&r);
    let list = r.json["data"].as_array().expect("data list").clone();
    assert_eq!(list.len(), 2, "{}", r.text);
    let mut seen: Vec<String> = Vec::new();
    let mut max = 0;
    for t in &list {
        let ts = t["last_modified"].as_i64().expect("ts");
        let id = t["id"].as_str().expect("id");
        assert_eq!(t, &json!({"id": id, "last_modified": ts, "deleted": true}));
        seen.push(id.to_owned());
        max = max.max(ts);
    }
    seen.sort();
    assert_eq!(seen, vec!["r1", "r2"]);
    expect_ts_headers(&r, max);

    let r = get(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect_ts_headers(&r, max);
    let r = get(&s, &format!("{RECORDS}?_since=0"), ALICE).await;
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(2));
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));

    // Nothing left: an empty list with the list timestamp.
    let r = delete(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect_ts_headers(&r, max);

    // Deleting collections cascades.
    assert_eq!(put_empty(&s, &record("r3"), ALICE).await.status, 201);
    let r = delete(&s, "/v1/buckets/b1/collections", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["c1"]);
    assert_eq!(r.json["data"][0]["deleted"], true);
    expect(&get(&s, RECORDS, ALICE).await, 404, missing_parent("c1", "collection"));
}

// ------------------------------------------------------------------------------------------------
// OP-OBJ-*

#[tokio::test]
async fn op_obj_get_and_head() {
    let s = common::start().await;
    setup(&s).await;
    let ts = ts_of(&put(&s, &record("r1"), ALICE, json!({"data": {"a": "é", "big": 12345678901234567890u64}})).await);

    let r = get(&s, &record("r1"), ALICE).await;
    assert_eq!(
        expect_object(&r, 200, json!({"a": "é", "big": 12345678901234567890u64, "id": "r1"}), alice_owned()),
        ts
    );
    expect_no_cache(&r);

    let r = head(&s, &record("r1"), ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "");
    expect_ts_headers(&r, ts);
    expect_no_cache(&r);

    let r = get(&s, &record("nope"), ALICE).await;
    expect(&r, 404, not_found("nope", "record"));
    expect_no_cache_header(&r);
    assert_eq!(r.header("etag"), None);
    let r = head(&s, &record("nope"), ALICE).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, "");

    expect(&get(&s, "/v1/buckets/b1/collections/nope", ALICE).await, 404, not_found("nope", "collection"));
    expect(&get(&s, "/v1/buckets/b1/groups/nope", ALICE).await, 404, not_found("nope", "group"));
}

#[tokio::test]
async fn op_obj_put_creates_then_replaces() {
    let s = common::start().await;
    setup(&s).await;

    let r = put(&s, &record("r1"), ALICE, json!({"data": {"a": 1, "b": {"c": 2}}})).await;
    let t1 = expect_object(&r, 201, json!({"a": 1, "b": {"c": 2}, "id": "r1"}), alice_owned());
    expect_no_cache_header(&r);

    // Replace: fields not sent are dropped.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {"c": 3}})).await;
    let t2 = expect_object(&r, 200, json!({"c": 3, "id": "r1"}), alice_owned());
    assert!(t2 > t1);

    // Permissions only: data kept.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    expect_object(&r, 200, json!({"c": 3, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    // Empty body: data and permissions kept, timestamp bumped.
    let r = put_empty(&s, &record("r1"), ALICE).await;
    let t3 = expect_object(&r, 200, json!({"c": 3, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));
    let r = put(&s, &record("r1"), ALICE, json!({})).await;
    let t4 = expect_object(&r, 200, json!({"c": 3, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));
    assert!(t4 > t3);

    // An empty data object clears the fields.
    let r = put(&s, &record("r1"), ALICE, json!({"data": {}})).await;
    expect_object(&r, 200, json!({"id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    let r = get(&s, &record("r1"), ALICE).await;
    expect_object(&r, 200, json!({"id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    // Same for a collection.
    let r = put(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"data": {"a": 1}})).await;
    expect_object(&r, 200, json!({"a": 1, "id": "c1"}), alice_owned());
    let r = put(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"read": []}})).await;
    expect_object(&r, 200, json!({"a": 1, "id": "c1"}), alice_owned());
}

#[tokio::test]
async fn op_obj_patch_merges_top_level_fields() {
    let s = common::start().await;
    setup(&s).await;
    let t1 = ts_of(&put(&s, &record("m1"), ALICE, json!({"data": {"a": {"b": 1}, "k": 1, "z": "keep"}})).await);

    let r = patch(&s, &record("m1"), ALICE, json!({"data": {"a": {"c": 2}, "k": null, "n": [1]}})).await;
    let t2 =
        expect_object(&r, 200, json!({"a": {"c": 2}, "k": null, "z": "keep", "n": [1], "id": "m1"}), alice_owned());
    assert!(t2 > t1);
    expect_no_cache_header(&r);
    let r = get(&s, &record("m1"), ALICE).await;
    expect_object(&r, 200, json!({"a": {"c": 2}, "k": null, "z": "keep", "n": [1], "id": "m1"}), alice_owned());

    // Neither data nor permissions.
    let r = patch(&s, &record("m1"), ALICE, json!({})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            "data",
            "Provide at least one of data or permissions",
            "Provide at least one of data or permissions",
        ),
    );
    let r = call(&s, Method::PATCH, &record("m1"), ALICE, None).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            "data",
            "Provide at least one of data or permissions",
            "Provide at least one of data or permissions",
        ),
    );

    // Missing object.
    expect(&patch(&s, &record("nope"), ALICE, json!({"data": {"a": 1}})).await, 404, not_found("nope", "record"));

    // Collections and buckets merge the same way.
    let r = patch(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"data": {"x": 1}})).await;
    expect_object(&r, 200, json!({"x": 1, "id": "c1"}), alice_owned());
    let r = patch(&s, "/v1/buckets/b1/collections/c1", ALICE, json!({"data": {"y": 2}})).await;
    expect_object(&r, 200, json!({"x": 1, "y": 2, "id": "c1"}), alice_owned());
}

#[tokio::test]
async fn op_obj_delete_leaves_a_tombstone_once() {
    let s = common::start().await;
    setup(&s).await;
    let created = ts_of(&put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}})).await);

    let r = delete(&s, &record("r1"), ALICE).await;
    let ts = expect_tombstone(&r, "r1");
    assert!(ts > created);
    expect_no_cache_header(&r);

    expect(&delete(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));
    expect(&delete(&s, &record("never"), ALICE).await, 404, not_found("never", "record"));
    expect(&get(&s, &record("r1"), ALICE).await, 404, not_found("r1", "record"));
    expect(&delete(&s, "/v1/buckets/b1/groups/never", ALICE).await, 404, not_found("never", "group"));
}

// ------------------------------------------------------------------------------------------------
// CC-CACHE / CC-ETAG / basic preconditions

#[tokio::test]
async fn cc_cache_control_only_on_successful_reads() {
    let s = common::start().await;
    setup(&s).await;
    let r = put_empty(&s, &record("r1"), ALICE).await;
    expect_no_cache_header(&r);
    for path in [
        "/v1/buckets".to_owned(),
        "/v1/buckets/b1".to_owned(),
        "/v1/buckets/b1/collections".to_owned(),
        "/v1/buckets/b1/collections/c1".to_owned(),
        "/v1/buckets/b1/groups".to_owned(),
        RECORDS.to_owned(),
        record("r1"),
    ] {
        let r = get(&s, &path, ALICE).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        expect_no_cache(&r);
        assert!(r.header("etag").is_some(), "{path}: ETag");
        assert!(r.header("last-modified").is_some(), "{path}: Last-Modified");
        assert_eq!(r.header("expires"), None);
        let r = head(&s, &path, ALICE).await;
        assert_eq!(r.status, 200, "{path}");
        expect_no_cache(&r);
    }
    expect_no_cache_header(&patch(&s, &record("r1"), ALICE, json!({"data": {"a": 1}})).await);
    expect_no_cache_header(&post(&s, RECORDS, ALICE, json!({})).await);
    expect_no_cache_header(&delete(&s, &record("r1"), ALICE).await);
    expect_no_cache_header(&delete(&s, RECORDS, ALICE).await);
    expect_no_cache_header(&get(&s, &record("r1"), ALICE).await);
    expect_no_cache_header(&get(&s, &record("r1"), BOB).await);
    expect_no_cache_header(&get(&s, &record("r1"), ANON).await);
}

#[tokio::test]
async fn cc_etag_on_every_object_and_list_response() {
    let s = common::start().await;
    setup(&s).await;
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "r1"}})).await;
    let t1 = expect_object(&r, 201, json!({"id": "r1"}), alice_owned());
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "r1"}})).await;
    assert_eq!(expect_object(&r, 200, json!({"id": "r1"}), alice_owned()), t1);
    let r = patch(&s, &record("r1"), ALICE, json!({"data": {"p": 1}})).await;
    let t2 = expect_object(&r, 200, json!({"p": 1, "id": "r1"}), alice_owned());
    let r = head(&s, &record("r1"), ALICE).await;
    expect_ts_headers(&r, t2);
    let r = get(&s, RECORDS, ALICE).await;
    expect_ts_headers(&r, t2);
    let r = head(&s, RECORDS, ALICE).await;
    expect_ts_headers(&r, t2);
    let r = delete(&s, &record("r1"), ALICE).await;
    let t3 = expect_tombstone(&r, "r1");
    let r = delete(&s, RECORDS, ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect_ts_headers(&r, t3);
}

#[tokio::test]
async fn cc_if_match_on_put_and_delete() {
    let s = common::start().await;
    setup(&s).await;
    let ts = ts_of(&put(&s, &record("r1"), ALICE, json!({"data": {"a": 1}})).await);
    let existing = json!({"a": 1, "id": "r1", "last_modified": ts});
    let stale = [("If-Match", "\"123\"")];

    // Stale If-Match: 412 with the current object.
    let r = call_with(&s, Method::PUT, &record("r1"), ALICE, Some(json!({"data": {"a": 2}})), &stale).await;
    expect(&r, 412, precondition_failed(Some(existing.clone())));
    expect_ts_headers(&r, ts);
    let r = call_with(&s, Method::DELETE, &record("r1"), ALICE, None, &stale).await;
    expect(&r, 412, precondition_failed(Some(existing.clone())));
    expect_ts_headers(&r, ts);
    let r = call_with(&s, Method::PATCH, &record("r1"), ALICE, Some(json!({"data": {"a": 2}})), &stale).await;
    expect(&r, 412, precondition_failed(Some(existing.clone())));
    // Nothing changed.
    let r = get(&s, &record("r1"), ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned()), ts);

    // Matching If-Match.
    let current = format!("\"{ts}\"");
    let r =
        call_with(&s, Method::PUT, &record("r1"), ALICE, Some(json!({"data": {"a": 2}})), &[("If-Match", &current)])
            .await;
    let ts2 = expect_object(&r, 200, json!({"a": 2, "id": "r1"}), alice_owned());
    // The old value is stale now.
    let r = call_with(&s, Method::DELETE, &record("r1"), ALICE, None, &[("If-Match", &current)]).await;
    expect(&r, 412, precondition_failed(Some(json!({"a": 2, "id": "r1", "last_modified": ts2}))));
    let current = format!("\"{ts2}\"");
    let r = call_with(&s, Method::DELETE, &record("r1"), ALICE, None, &[("If-Match", &current)]).await;
    expect_tombstone(&r, "r1");

    // Creating PUT with any If-Match: 412 without details, ETag of the list.
    let list_ts = etag(&get(&s, RECORDS, ALICE).await);
    let r = call_with(&s, Method::PUT, &record("new"), ALICE, Some(json!({"data": {}})), &stale).await;
    expect(&r, 412, precondition_failed(None));
    expect_ts_headers(&r, list_ts);
    let r = call_with(&s, Method::PUT, &record("new"), ALICE, Some(json!({"data": {}})), &[("If-Match", "*")]).await;
    expect(&r, 412, precondition_failed(None));
    expect_ts_headers(&r, list_ts);
    expect(&get(&s, &record("new"), ALICE).await, 404, not_found("new", "record"));
}

#[tokio::test]
async fn cc_if_none_match_star_on_put_post_delete() {
    let s = common::start().await;
    setup(&s).await;
    let star = [("If-None-Match", "*")];

    // Creation passes.
    let r = call_with(&s, Method::PUT, &record("r1"), ALICE, Some(json!({"data": {"a": 1}})), &star).await;
    let ts = expect_object(&r, 201, json!({"a": 1, "id": "r1"}), alice_owned());
    let existing = json!({"a": 1, "id": "r1", "last_modified": ts});

    // The object exists now.
    let r = call_with(&s, Method::PUT, &record("r1"), ALICE, Some(json!({"data": {"a": 2}})), &star).await;
    expect(&r, 412, precondition_failed(Some(existing.clone())));
    expect_ts_headers(&r, ts);
    let r = call_with(&s, Method::POST, RECORDS, ALICE, Some(json!({"data": {"id": "r1"}})), &star).await;
    expect(&r, 412, precondition_failed(Some(existing.clone())));
    expect_ts_headers(&r, ts);
    let r = call_with(&s, Method::DELETE, &record("r1"), ALICE, None, &star).await;
    expect(&r, 412, precondition_failed(Some(existing.clone())));
    expect_ts_headers(&r, ts);

    // POST without id proceeds.
    let r = call_with(&s, Method::POST, RECORDS, ALICE, Some(json!({"data": {"b": 1}})), &star).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Untouched.
    let r = get(&s, &record("r1"), ALICE).await;
    assert_eq!(expect_object(&r, 200, json!({"a": 1, "id": "r1"}), alice_owned()), ts);
}
