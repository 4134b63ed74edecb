//! Permissions (KINTO_API.md §8 and OP-RESPONSE-PERMS): principals, inheritance, required permissions,
//! list filtering, 401/403/404 rules, creator ACE, permissions in bodies, groups, settings and
//! `explicit_permissions = false`. Every expected value was checked against the reference Kinto 26.5.0.

mod common;

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");
const CAROL: Option<&str> = Some("carol:secret");
const DAVE: Option<&str> = Some("dave:secret");
const ERIN: Option<&str> = Some("erin:secret");
const ANON: Option<&str> = None;

/// `basicauth:` user ids under the reference HMAC secret (copied from the reference's hello `user.id`).
const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";
const CAROL_ID: &str = "basicauth:b4f94df66c0465deacad6e02371a7b4844ac6934a488bf6f6deadf7e9200d8c3";
const DAVE_ID: &str = "basicauth:0914d59519db0f98fbe3eeb88b9b80790a9ffd080465ca8f4910e10999723f90";

const BUCKET: &str = "/v1/buckets/b1";
const COLL: &str = "/v1/buckets/b1/collections/c1";
const RECORDS: &str = "/v1/buckets/b1/collections/c1/records";

fn record(id: &str) -> String {
    format!("{RECORDS}/{id}")
}

fn owned_by(ids: &[&str]) -> Value {
    json!({ "write": ids })
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

async fn get(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    s.call(Method::GET, path, auth, None).await
}

async fn head(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    s.call(Method::HEAD, path, auth, None).await
}

async fn put(s: &TestServer, path: &str, auth: Option<&str>, body: Value) -> Reply {
    s.call(Method::PUT, path, auth, Some(body)).await
}

/// PUT without any request body (treated as `{}`).
async fn put_empty(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    s.call(Method::PUT, path, auth, None).await
}

async fn post(s: &TestServer, path: &str, auth: Option<&str>, body: Value) -> Reply {
    s.call(Method::POST, path, auth, Some(body)).await
}

async fn patch(s: &TestServer, path: &str, auth: Option<&str>, body: Value) -> Reply {
    s.call(Method::PATCH, path, auth, Some(body)).await
}

async fn delete(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    s.call(Method::DELETE, path, auth, None).await
}

/// Asserts the status and the exact JSON body (ACEs compared as sets).
#[track_caller]
fn expect(r: &Reply, status: u16, body: Value) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(normalize(r.json.clone()), normalize(body), "body");
}

/// Asserts an object response `{"data": data + last_modified, "permissions": perms}` with
/// ETag/Last-Modified equal to `data.last_modified`; returns that timestamp.
#[track_caller]
fn expect_object(r: &Reply, status: u16, data: Value, perms: Value) -> i64 {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    let ts = r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text));
    let mut data = data;
    data["last_modified"] = json!(ts);
    assert_eq!(normalize(r.json.clone()), normalize(json!({"data": data, "permissions": perms})), "body");
    assert_eq!(r.header("etag"), Some(format!("\"{ts}\"").as_str()), "ETag");
    assert_eq!(r.header("last-modified"), Some(http_date(ts).as_str()), "Last-Modified");
    ts
}

/// Asserts a `{"data": tombstone}` response.
#[track_caller]
fn expect_tombstone(r: &Reply, id: &str) -> i64 {
    assert_eq!(r.status, 200, "status; body was {}", r.text);
    let ts = r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text));
    assert_eq!(r.json, json!({"data": {"id": id, "last_modified": ts, "deleted": true}}));
    assert_eq!(r.header("etag"), Some(format!("\"{ts}\"").as_str()), "ETag");
    ts
}

/// Asserts a 200 list response and returns its ids in order.
#[track_caller]
fn list_ids(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 200, "status; body was {}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
    r.json["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data list: {}", r.text))
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

fn ts_of(r: &Reply) -> i64 {
    r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text))
}

#[track_caller]
fn expect_401(r: &Reply) {
    expect(
        r,
        401,
        json!({"code": 401, "errno": 104, "error": "Unauthorized",
               "message": "Please authenticate yourself to use this endpoint."}),
    );
    assert_eq!(r.header_all("www-authenticate"), vec!["Basic realm=\"Realm\"", "Basic realm=\"Realm\""]);
    assert_eq!(r.header("cache-control"), None);
}

#[track_caller]
fn expect_403(r: &Reply) {
    expect(
        r,
        403,
        json!({"code": 403, "errno": 121, "error": "Forbidden", "message": "This user cannot access this resource."}),
    );
    assert!(r.header_all("www-authenticate").is_empty(), "no WWW-Authenticate on 403");
    assert_eq!(r.header("cache-control"), None);
}

fn not_found(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 110, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

/// Alice creates bucket b1 (with `bucket_perms`), collection c1 (with `coll_perms`) and record r1 `{"n": 1}`.
async fn setup(s: &TestServer, bucket_perms: Value, coll_perms: Value) {
    let r = put(s, BUCKET, ALICE, json!({"permissions": bucket_perms})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = put(s, COLL, ALICE, json!({"permissions": coll_perms})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = put(s, &record("r1"), ALICE, json!({"data": {"n": 1}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

// ------------------------------------------------------------------------------------------------
// PERM-401-403

#[tokio::test]
async fn perm_401_for_anonymous_and_403_for_authenticated() {
    let s = common::start().await;
    setup(&s, json!({}), json!({})).await;

    expect_401(&get(&s, "/v1/buckets", ANON).await);
    expect_401(&put_empty(&s, "/v1/buckets/x", ANON).await);
    expect_401(&post(&s, "/v1/buckets", ANON, json!({})).await);
    expect_401(&get(&s, BUCKET, ANON).await);
    expect_401(&delete(&s, BUCKET, ANON).await);
    expect_401(&get(&s, RECORDS, ANON).await);
    expect_401(&get(&s, &record("r1"), ANON).await);
    expect_401(&patch(&s, &record("r1"), ANON, json!({"data": {}})).await);
    let r = head(&s, &record("r1"), ANON).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header_all("www-authenticate").len(), 2);

    expect_403(&get(&s, BUCKET, BOB).await);
    expect_403(&patch(&s, BUCKET, BOB, json!({"data": {"x": 1}})).await);
    expect_403(&delete(&s, BUCKET, BOB).await);
    expect_403(&get(&s, "/v1/buckets/b1/collections", BOB).await);
    expect_403(&put_empty(&s, "/v1/buckets/b1/collections/c2", BOB).await);
    expect_403(&get(&s, COLL, BOB).await);
    expect_403(&get(&s, RECORDS, BOB).await);
    expect_403(&post(&s, RECORDS, BOB, json!({})).await);
    expect_403(&get(&s, &record("r1"), BOB).await);
    expect_403(&put_empty(&s, &record("r1"), BOB).await);
    expect_403(&delete(&s, &record("r1"), BOB).await);
    expect_403(&delete(&s, RECORDS, BOB).await);
    expect_403(&get(&s, "/v1/buckets/nonexistent", BOB).await);

    // Nothing was changed by the refused requests.
    let r = get(&s, &record("r1"), ALICE).await;
    expect_object(&r, 200, json!({"n": 1, "id": "r1"}), owned_by(&[ALICE_ID]));
}

// ------------------------------------------------------------------------------------------------
// PERM-PRINCIPALS

#[tokio::test]
async fn perm_principals_user_ids_and_system_principals() {
    let s = common::start().await;
    setup(&s, json!({}), json!({})).await;

    // A user id.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    expect_object(&r, 200, json!({"n": 1, "id": "r1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));
    expect_object(&get(&s, &record("r1"), BOB).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_403(&get(&s, &record("r1"), CAROL).await);

    // system.Authenticated.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": ["system.Authenticated"]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    expect_object(&get(&s, &record("r1"), CAROL).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_401(&get(&s, &record("r1"), ANON).await);

    // system.Everyone.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": ["system.Everyone"]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    expect_object(&get(&s, &record("r1"), ANON).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_object(&get(&s, &record("r1"), DAVE).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    // Read does not give write.
    expect_401(&patch(&s, &record("r1"), ANON, json!({"data": {"n": 2}})).await);
    expect_403(&patch(&s, &record("r1"), DAVE, json!({"data": {"n": 2}})).await);

    // ACE entries are unvalidated strings.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": ["fxa:abc", "ldap:x y", "whatever"]}})).await;
    expect_object(
        &r,
        200,
        json!({"n": 1, "id": "r1"}),
        json!({"read": ["fxa:abc", "ldap:x y", "whatever"], "write": [ALICE_ID]}),
    );
}

#[tokio::test]
async fn perm_principals_group_with_system_authenticated_member() {
    let s = common::start().await;
    setup(&s, json!({}), json!({"read": ["/buckets/b1/groups/authn"]})).await;
    expect_403(&get(&s, RECORDS, BOB).await);

    let r = put(&s, "/v1/buckets/b1/groups/authn", ALICE, json!({"data": {"members": ["system.Authenticated"]}})).await;
    expect_object(&r, 201, json!({"members": ["system.Authenticated"], "id": "authn"}), owned_by(&[ALICE_ID]));

    // Every authenticated user now holds the group principal; anonymous callers never do.
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r1"]);
    assert_eq!(list_ids(&get(&s, RECORDS, CAROL).await), vec!["r1"]);
    expect_object(&get(&s, &record("r1"), CAROL).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_401(&get(&s, RECORDS, ANON).await);
    // Read only.
    expect_403(&put_empty(&s, &record("r2"), BOB).await);
}

// ------------------------------------------------------------------------------------------------
// PERM-INHERIT

#[tokio::test]
async fn perm_inherit_bucket_write_gives_write_on_everything_below() {
    let s = common::start().await;
    setup(&s, json!({"write": [CAROL_ID]}), json!({})).await;

    // Carol reads the bucket (she is in its write ACE, so she sees its permissions).
    expect_object(&get(&s, BUCKET, CAROL).await, 200, json!({"id": "b1"}), owned_by(&[ALICE_ID, CAROL_ID]));
    // Objects below: readable, permissions hidden since carol is not in their own write ACE.
    expect_object(&get(&s, COLL, CAROL).await, 200, json!({"id": "c1"}), json!({}));
    expect_object(&get(&s, &record("r1"), CAROL).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    assert_eq!(list_ids(&get(&s, RECORDS, CAROL).await), vec!["r1"]);
    assert_eq!(list_ids(&get(&s, "/v1/buckets/b1/collections", CAROL).await), vec!["c1"]);

    // Writable: editing makes her a co-owner (PERM-CREATOR).
    let r = patch(&s, &record("r1"), CAROL, json!({"data": {"m": 1}})).await;
    expect_object(&r, 200, json!({"n": 1, "m": 1, "id": "r1"}), owned_by(&[ALICE_ID, CAROL_ID]));
    let r = put_empty(&s, &record("r3"), CAROL).await;
    expect_object(&r, 201, json!({"id": "r3"}), owned_by(&[CAROL_ID]));
    let r = put_empty(&s, "/v1/buckets/b1/collections/c2", CAROL).await;
    expect_object(&r, 201, json!({"id": "c2"}), owned_by(&[CAROL_ID]));
    let r = put(&s, "/v1/buckets/b1/groups/g1", CAROL, json!({"data": {"members": [BOB_ID]}})).await;
    expect_object(&r, 201, json!({"members": [BOB_ID], "id": "g1"}), owned_by(&[CAROL_ID]));
    expect_tombstone(&delete(&s, &record("r1"), CAROL).await, "r1");
    // Alice keeps everything too.
    expect_object(&get(&s, &record("r3"), ALICE).await, 200, json!({"id": "r3"}), json!({}));
    expect_tombstone(&delete(&s, &record("r3"), ALICE).await, "r3");
}

#[tokio::test]
async fn perm_inherit_bucket_read_gives_read_on_everything_below() {
    let s = common::start().await;
    setup(&s, json!({"read": [BOB_ID]}), json!({})).await;
    let r = put(&s, "/v1/buckets/b1/groups/g", ALICE, json!({"data": {"members": []}})).await;
    assert_eq!(r.status, 201);

    expect_object(&get(&s, BUCKET, BOB).await, 200, json!({"id": "b1"}), json!({}));
    assert_eq!(list_ids(&get(&s, "/v1/buckets/b1/collections", BOB).await), vec!["c1"]);
    assert_eq!(list_ids(&get(&s, "/v1/buckets/b1/groups", BOB).await), vec!["g"]);
    expect_object(&get(&s, "/v1/buckets/b1/groups/g", BOB).await, 200, json!({"members": [], "id": "g"}), json!({}));
    expect_object(&get(&s, COLL, BOB).await, 200, json!({"id": "c1"}), json!({}));
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r1"]);
    expect_object(&get(&s, &record("r1"), BOB).await, 200, json!({"n": 1, "id": "r1"}), json!({}));

    // No write anywhere.
    expect_403(&patch(&s, &record("r1"), BOB, json!({"data": {"v": 2}})).await);
    expect_403(&put_empty(&s, &record("new"), BOB).await);
    expect_403(&put_empty(&s, "/v1/buckets/b1/collections/c2", BOB).await);
    expect_403(&patch(&s, BUCKET, BOB, json!({"data": {}})).await);
    expect_403(&delete(&s, COLL, BOB).await);
}

#[tokio::test]
async fn perm_inherit_collection_read_and_write() {
    let s = common::start().await;
    setup(&s, json!({}), json!({"read": [BOB_ID], "write": [CAROL_ID]})).await;

    // Collection read: list and read records, read the collection; not the bucket, no writes.
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r1"]);
    expect_object(&get(&s, &record("r1"), BOB).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_object(&get(&s, COLL, BOB).await, 200, json!({"id": "c1"}), json!({}));
    expect_403(&get(&s, BUCKET, BOB).await);
    expect_403(&patch(&s, &record("r1"), BOB, json!({"data": {"n": 2}})).await);
    expect_403(&put_empty(&s, &record("r2"), BOB).await);
    expect_403(&post(&s, RECORDS, BOB, json!({})).await);

    // Collection write: everything on the collection and its records.
    expect_object(
        &get(&s, COLL, CAROL).await,
        200,
        json!({"id": "c1"}),
        json!({"read": [BOB_ID], "write": [ALICE_ID, CAROL_ID]}),
    );
    expect_object(&get(&s, &record("r1"), CAROL).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    let r = patch(&s, &record("r1"), CAROL, json!({"data": {"n": 2}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "r1"}), owned_by(&[ALICE_ID, CAROL_ID]));
    let r = post(&s, RECORDS, CAROL, json!({"data": {"id": "r2"}})).await;
    expect_object(&r, 201, json!({"id": "r2"}), owned_by(&[CAROL_ID]));
    let r = patch(&s, COLL, CAROL, json!({"data": {"x": 1}})).await;
    expect_object(&r, 200, json!({"x": 1, "id": "c1"}), json!({"read": [BOB_ID], "write": [ALICE_ID, CAROL_ID]}));
    expect_403(&get(&s, BUCKET, CAROL).await);
    expect_403(&put_empty(&s, "/v1/buckets/b1/collections/c2", CAROL).await);
    expect_tombstone(&delete(&s, &record("r2"), CAROL).await, "r2");
}

#[tokio::test]
async fn perm_inherit_record_acl_applies_to_that_record_only() {
    let s = common::start().await;
    setup(&s, json!({}), json!({})).await;
    let r = put(&s, &record("r2"), ALICE, json!({"data": {"n": 2}, "permissions": {"read": [CAROL_ID]}})).await;
    expect_object(&r, 201, json!({"n": 2, "id": "r2"}), json!({"read": [CAROL_ID], "write": [ALICE_ID]}));
    let r = put(&s, &record("r3"), ALICE, json!({"data": {"n": 3}, "permissions": {"write": [DAVE_ID]}})).await;
    expect_object(&r, 201, json!({"n": 3, "id": "r3"}), owned_by(&[ALICE_ID, DAVE_ID]));

    // Record read.
    expect_object(&get(&s, &record("r2"), CAROL).await, 200, json!({"n": 2, "id": "r2"}), json!({}));
    expect_403(&get(&s, &record("r1"), CAROL).await);
    expect_403(&get(&s, &record("r3"), CAROL).await);
    expect_403(&get(&s, COLL, CAROL).await);
    expect_403(&put_empty(&s, &record("r2"), CAROL).await);

    // Record write: read and write that record, and see its permissions.
    expect_object(
        &get(&s, &record("r3"), DAVE).await,
        200,
        json!({"n": 3, "id": "r3"}),
        owned_by(&[ALICE_ID, DAVE_ID]),
    );
    let r = patch(&s, &record("r3"), DAVE, json!({"data": {"d": 1}})).await;
    expect_object(&r, 200, json!({"n": 3, "d": 1, "id": "r3"}), owned_by(&[ALICE_ID, DAVE_ID]));
    expect_403(&patch(&s, &record("r1"), DAVE, json!({"data": {"d": 1}})).await);
    expect_403(&put_empty(&s, &record("r4"), DAVE).await);
    expect_tombstone(&delete(&s, &record("r3"), DAVE).await, "r3");
}

// ------------------------------------------------------------------------------------------------
// PERM-REQUIRED

#[tokio::test]
async fn perm_required_create_permission_versus_write() {
    let s = common::start().await;
    setup(&s, json!({"group:create": [BOB_ID]}), json!({"record:create": [DAVE_ID]})).await;

    // record:create lets dave create, not touch others' records.
    expect_403(&put_empty(&s, &record("r1"), DAVE).await);
    expect_403(&delete(&s, &record("r1"), DAVE).await);
    expect_403(&patch(&s, &record("r1"), DAVE, json!({"data": {}})).await);
    expect_403(&get(&s, &record("r1"), DAVE).await);
    expect_403(&post(&s, RECORDS, DAVE, json!({"data": {"id": "r1"}})).await);
    let r = put(&s, &record("dv"), DAVE, json!({"data": {"d": 1}})).await;
    expect_object(&r, 201, json!({"d": 1, "id": "dv"}), owned_by(&[DAVE_ID]));
    let r = post(&s, RECORDS, DAVE, json!({"data": {"id": "dv2"}})).await;
    expect_object(&r, 201, json!({"id": "dv2"}), owned_by(&[DAVE_ID]));
    // ... read the collection's attributes, and list what he can read.
    expect_object(&get(&s, COLL, DAVE).await, 200, json!({"id": "c1"}), json!({}));
    let mut seen = list_ids(&get(&s, RECORDS, DAVE).await);
    seen.sort();
    assert_eq!(seen, vec!["dv", "dv2"]);
    // Plural DELETE only removes what he may write.
    let r = delete(&s, RECORDS, DAVE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(2), "{}", r.text);
    assert_eq!(list_ids(&get(&s, RECORDS, ALICE).await), vec!["r1"]);
    // With nothing readable left, the create permission still allows an (empty) listing.
    expect(&get(&s, RECORDS, DAVE).await, 200, json!({"data": []}));
    expect_403(&get(&s, RECORDS, ERIN).await);
    expect_403(&put_empty(&s, COLL, DAVE).await);

    // group:create on the bucket.
    let r = post(&s, "/v1/buckets/b1/groups", BOB, json!({"data": {"id": "bg"}})).await;
    expect_object(&r, 201, json!({"members": [], "id": "bg"}), owned_by(&[BOB_ID]));
    expect_object(&get(&s, BUCKET, BOB).await, 200, json!({"id": "b1"}), json!({}));
    assert_eq!(list_ids(&get(&s, "/v1/buckets/b1/groups", BOB).await), vec!["bg"]);
    assert_eq!(list_ids(&get(&s, "/v1/buckets", BOB).await), vec!["b1"]);
    expect_403(&get(&s, "/v1/buckets/b1/collections", BOB).await);
    expect_403(&put_empty(&s, "/v1/buckets/b1/collections/c2", BOB).await);
    expect_403(&patch(&s, BUCKET, BOB, json!({"data": {}})).await);
}

#[tokio::test]
async fn perm_required_post_existing_id_needs_read() {
    let s = common::start().await;
    setup(&s, json!({}), json!({"record:create": [BOB_ID], "read": [CAROL_ID]})).await;
    let ts = ts_of(&get(&s, &record("r1"), ALICE).await);

    // bob can create but cannot read r1.
    expect_403(&post(&s, RECORDS, BOB, json!({"data": {"id": "r1", "n": 5}})).await);
    // carol can read r1: she gets it back unchanged (but she cannot create).
    let r = post(&s, RECORDS, CAROL, json!({"data": {"id": "r1", "n": 5}})).await;
    assert_eq!(expect_object(&r, 200, json!({"n": 1, "id": "r1"}), json!({})), ts);
    expect_403(&post(&s, RECORDS, CAROL, json!({"data": {"id": "r9"}})).await);
    // Only authenticated users may create buckets (bucket_create_principals).
    expect_401(&post(&s, "/v1/buckets", ANON, json!({"data": {"id": "anon"}})).await);
    let r = post(&s, "/v1/buckets", BOB, json!({"data": {"id": "bobs"}})).await;
    expect_object(&r, 201, json!({"id": "bobs"}), owned_by(&[BOB_ID]));
}

// ------------------------------------------------------------------------------------------------
// PERM-LIST-FILTER

#[tokio::test]
async fn perm_list_filter_buckets() {
    let s = common::start().await;
    let a = ts_of(&put_empty(&s, "/v1/buckets/alices", ALICE).await);
    let b = ts_of(&put_empty(&s, "/v1/buckets/bobs", BOB).await);
    let shared = ts_of(&put(&s, "/v1/buckets/shared", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await);

    let r = get(&s, "/v1/buckets", ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "shared", "last_modified": shared}, {"id": "alices", "last_modified": a}]}));
    // The ETag is the unfiltered list timestamp.
    assert_eq!(r.etag(), shared);
    let r = get(&s, "/v1/buckets", BOB).await;
    expect(&r, 200, json!({"data": [{"id": "shared", "last_modified": shared}, {"id": "bobs", "last_modified": b}]}));
    assert_eq!(r.etag(), shared);

    // Any authenticated user may list (bucket_create_principals) and gets an empty list.
    let r = get(&s, "/v1/buckets", CAROL).await;
    expect(&r, 200, json!({"data": []}));
    assert_eq!(r.etag(), shared);
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
    let r = head(&s, "/v1/buckets", CAROL).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("total-objects"), Some("0"));
    assert_eq!(r.header("total-records"), Some("0"));
    let r = head(&s, "/v1/buckets", BOB).await;
    assert_eq!(r.header("total-objects"), Some("2"));
    expect_401(&get(&s, "/v1/buckets", ANON).await);
    expect_401(&delete(&s, "/v1/buckets", ANON).await);

    // DELETE only removes the buckets the caller may write.
    let r = delete(&s, "/v1/buckets", CAROL).await;
    expect(&r, 200, json!({"data": []}));
    let r = delete(&s, "/v1/buckets", BOB).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bobs_deleted = r.json["data"][0]["last_modified"].as_i64().expect("tombstone timestamp");
    assert!(bobs_deleted > b);
    expect(&r, 200, json!({"data": [{"id": "bobs", "last_modified": bobs_deleted, "deleted": true}]}));
    let r = get(&s, "/v1/buckets", ALICE).await;
    expect(&r, 200, json!({"data": [{"id": "shared", "last_modified": shared}, {"id": "alices", "last_modified": a}]}));
}

#[tokio::test]
async fn perm_list_filter_records() {
    let s = common::start().await;
    setup(&s, json!({}), json!({})).await;
    let r2 = ts_of(&put(&s, &record("r2"), ALICE, json!({"data": {"n": 2}, "permissions": {"read": [BOB_ID]}})).await);
    let r3 = ts_of(&put(&s, &record("r3"), ALICE, json!({"data": {"n": 3}, "permissions": {"write": [BOB_ID]}})).await);
    assert_eq!(put(&s, &record("r4"), ALICE, json!({"data": {"n": 4}})).await.status, 201);

    let r = get(&s, RECORDS, BOB).await;
    expect(
        &r,
        200,
        json!({"data": [{"n": 3, "id": "r3", "last_modified": r3}, {"n": 2, "id": "r2", "last_modified": r2}]}),
    );
    let all = get(&s, RECORDS, ALICE).await;
    assert_eq!(list_ids(&all), vec!["r4", "r3", "r2", "r1"]);
    assert_eq!(r.etag(), all.etag(), "ETag is the unfiltered list timestamp");
    let r = head(&s, RECORDS, BOB).await;
    assert_eq!(r.header("total-objects"), Some("2"));
    assert_eq!(r.header("total-records"), Some("2"));

    // DELETE filters on write.
    let r = delete(&s, RECORDS, BOB).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(1), "{}", r.text);
    assert_eq!(r.json["data"][0]["id"], "r3");
    assert_eq!(r.json["data"][0]["deleted"], true);
    assert_eq!(list_ids(&get(&s, RECORDS, ALICE).await), vec!["r4", "r2", "r1"]);
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r2"]);

    // Without any readable record nor create permission: denied.
    expect_403(&get(&s, RECORDS, CAROL).await);
    expect_401(&get(&s, RECORDS, ANON).await);
}

// ------------------------------------------------------------------------------------------------
// PERM-404-403

#[tokio::test]
async fn perm_404_only_for_those_who_could_read() {
    let s = common::start().await;
    setup(&s, json!({}), json!({"read": [BOB_ID], "record:create": [DAVE_ID]})).await;
    let missing = record("missing");

    // GET of a missing record.
    expect(&get(&s, &missing, ALICE).await, 404, not_found("missing", "record"));
    expect(&get(&s, &missing, BOB).await, 404, not_found("missing", "record"));
    expect_403(&get(&s, &missing, DAVE).await);
    expect_403(&get(&s, &missing, CAROL).await);
    expect_401(&get(&s, &missing, ANON).await);

    // PATCH/DELETE of a missing record: list-level read on the parent is enough for the 404.
    expect(&patch(&s, &missing, BOB, json!({"data": {}})).await, 404, not_found("missing", "record"));
    expect(&delete(&s, &missing, BOB).await, 404, not_found("missing", "record"));
    expect_403(&patch(&s, &missing, CAROL, json!({"data": {}})).await);
    expect_403(&delete(&s, &missing, CAROL).await);
    expect_401(&delete(&s, &missing, ANON).await);

    // Deleted records behave the same.
    expect_tombstone(&delete(&s, &record("r1"), ALICE).await, "r1");
    expect(&get(&s, &record("r1"), BOB).await, 404, not_found("r1", "record"));
    expect_403(&get(&s, &record("r1"), CAROL).await);

    // Missing buckets are 403 for everyone (nobody holds read on them).
    expect_403(&get(&s, "/v1/buckets/missing", ALICE).await);
    expect_403(&patch(&s, "/v1/buckets/missing", ALICE, json!({"data": {}})).await);
    expect_401(&get(&s, "/v1/buckets/missing", ANON).await);
    // Missing collections: 404 for the bucket owner, 403 for others.
    expect(&get(&s, "/v1/buckets/b1/collections/missing", ALICE).await, 404, not_found("missing", "collection"));
    expect_403(&get(&s, "/v1/buckets/b1/collections/missing", BOB).await);
}

// ------------------------------------------------------------------------------------------------
// PERM-CREATOR / OP-RESPONSE-PERMS

#[tokio::test]
async fn perm_creator_is_added_to_write_on_every_write() {
    let s = common::start().await;
    setup(&s, json!({"write": [CAROL_ID]}), json!({})).await;

    // Editing someone else's record makes you a co-owner, whatever the method.
    let r = put(&s, &record("r1"), CAROL, json!({"data": {"n": 2}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "r1"}), owned_by(&[ALICE_ID, CAROL_ID]));
    let r = put(&s, &record("r2"), ALICE, json!({"data": {}})).await;
    assert_eq!(r.status, 201);
    let r = patch(&s, &record("r2"), CAROL, json!({"permissions": {"read": [BOB_ID]}})).await;
    expect_object(&r, 200, json!({"id": "r2"}), json!({"read": [BOB_ID], "write": [ALICE_ID, CAROL_ID]}));

    // The editor cannot remove herself in the same request.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"write": []}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "r1"}), owned_by(&[ALICE_ID]));
    let r = patch(&s, &record("r1"), ALICE, json!({"permissions": {"write": [BOB_ID]}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "r1"}), owned_by(&[ALICE_ID, BOB_ID]));
}

#[tokio::test]
async fn perm_creator_anonymous_creation_is_world_writable() {
    let s = common::start().await;
    setup(&s, json!({}), json!({"record:create": ["system.Everyone"]})).await;

    let r = post(&s, RECORDS, ANON, json!({"data": {"x": 1}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["data"]["id"].as_str().expect("id").to_owned();
    expect_object(&r, 201, json!({"x": 1, "id": id}), owned_by(&["system.Everyone"]));

    let r = put(&s, &record("anon"), ANON, json!({"data": {"x": 1}})).await;
    expect_object(&r, 201, json!({"x": 1, "id": "anon"}), owned_by(&["system.Everyone"]));
    // Everybody is in its write ACE, so everybody sees its permissions and may change it.
    expect_object(
        &get(&s, &record("anon"), ANON).await,
        200,
        json!({"x": 1, "id": "anon"}),
        owned_by(&["system.Everyone"]),
    );
    let r = put(&s, &record("anon"), BOB, json!({"data": {"x": 2}})).await;
    expect_object(&r, 200, json!({"x": 2, "id": "anon"}), owned_by(&["system.Everyone", BOB_ID]));

    // Anonymous callers see these records in the list, read the collection attributes (record:create),
    // but cannot read a missing record.
    let mut seen = list_ids(&get(&s, RECORDS, ANON).await);
    seen.sort();
    let mut expected = vec!["anon".to_owned(), id];
    expected.sort();
    assert_eq!(seen, expected);
    expect_object(&get(&s, COLL, ANON).await, 200, json!({"id": "c1"}), json!({}));
    expect_401(&get(&s, &record("nope"), ANON).await);
    expect_401(&get(&s, &record("r1"), ANON).await);
}

#[tokio::test]
async fn op_response_perms_only_for_principals_in_the_own_write_ace() {
    let s = common::start().await;
    setup(&s, json!({"write": [CAROL_ID]}), json!({"read": [BOB_ID]})).await;

    // The owner sees the object's own ACEs (not inherited ones).
    expect_object(&get(&s, &record("r1"), ALICE).await, 200, json!({"n": 1, "id": "r1"}), owned_by(&[ALICE_ID]));
    expect_object(
        &get(&s, COLL, ALICE).await,
        200,
        json!({"id": "c1"}),
        json!({"read": [BOB_ID], "write": [ALICE_ID]}),
    );
    // A reader, even a bucket writer, sees {}.
    expect_object(&get(&s, &record("r1"), BOB).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_object(&get(&s, COLL, BOB).await, 200, json!({"id": "c1"}), json!({}));
    expect_object(&get(&s, &record("r1"), CAROL).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_object(&get(&s, COLL, CAROL).await, 200, json!({"id": "c1"}), json!({}));
    // Being in the read ACE is not enough.
    let r = put(&s, &record("r1"), ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 200);
    expect_object(&get(&s, &record("r1"), BOB).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    // Once in the write ACE (directly or through a group), the permissions are shown.
    let r = put(&s, "/v1/buckets/b1/groups/editors", ALICE, json!({"data": {"members": [BOB_ID]}})).await;
    assert_eq!(r.status, 201);
    let r = patch(&s, &record("r1"), ALICE, json!({"permissions": {"write": ["/buckets/b1/groups/editors"]}})).await;
    assert_eq!(r.status, 200);
    expect_object(
        &get(&s, &record("r1"), BOB).await,
        200,
        json!({"n": 1, "id": "r1"}),
        json!({"read": [BOB_ID], "write": [ALICE_ID, "/buckets/b1/groups/editors"]}),
    );
    // The plural endpoint never has permissions.
    let r = get(&s, RECORDS, ALICE).await;
    assert!(r.json.get("permissions").is_none());
}

// ------------------------------------------------------------------------------------------------
// PERM-BODY

#[tokio::test]
async fn perm_body_put_replaces_acl_patch_replaces_given_keys() {
    let s = common::start().await;
    setup(&s, json!({}), json!({})).await;
    let q = record("q1");

    // Duplicates collapse.
    let r = put(&s, &q, ALICE, json!({"data": {"n": 1}, "permissions": {"read": [BOB_ID, BOB_ID]}})).await;
    expect_object(&r, 201, json!({"n": 1, "id": "q1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    // PUT with permissions: the whole ACL is replaced (read is gone), data untouched.
    let r = put(&s, &q, ALICE, json!({"permissions": {"write": [CAROL_ID]}})).await;
    expect_object(&r, 200, json!({"n": 1, "id": "q1"}), owned_by(&[ALICE_ID, CAROL_ID]));
    expect_403(&get(&s, &q, BOB).await);

    // PUT without permissions: ACL unchanged.
    let r = put(&s, &q, ALICE, json!({"data": {"n": 2}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "q1"}), owned_by(&[ALICE_ID, CAROL_ID]));

    // PATCH: only the given keys.
    let r = patch(&s, &q, ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "q1"}), json!({"read": [BOB_ID], "write": [ALICE_ID, CAROL_ID]}));
    expect_object(&get(&s, &q, BOB).await, 200, json!({"n": 2, "id": "q1"}), json!({}));
    // null is ignored, [] clears.
    let r = patch(&s, &q, ALICE, json!({"permissions": {"read": null, "write": []}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "q1"}), json!({"read": [BOB_ID], "write": [ALICE_ID]}));
    expect_403(&patch(&s, &q, CAROL, json!({"data": {"c": 1}})).await);
    let r = patch(&s, &q, ALICE, json!({"permissions": {"read": []}})).await;
    expect_object(&r, 200, json!({"n": 2, "id": "q1"}), owned_by(&[ALICE_ID]));
    expect_403(&get(&s, &q, BOB).await);

    // Deleting the object drops its ACL: a re-created object starts afresh.
    let r = put(&s, &q, ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 200);
    expect_tombstone(&delete(&s, &q, ALICE).await, "q1");
    let r = post(&s, RECORDS, ALICE, json!({"data": {"id": "q1", "v": 3}})).await;
    expect_object(&r, 201, json!({"id": "q1", "v": 3}), owned_by(&[ALICE_ID]));
    expect_403(&get(&s, &q, BOB).await);
}

// ------------------------------------------------------------------------------------------------
// PERM-GROUPS

#[tokio::test]
async fn perm_groups_membership_grants_and_revokes_immediately() {
    let s = common::start().await;
    setup(&s, json!({}), json!({"read": ["/buckets/b1/groups/readers"]})).await;
    let group = "/v1/buckets/b1/groups/readers";

    // The ACE may name a group that does not exist yet.
    expect_403(&get(&s, RECORDS, BOB).await);

    let r = put(&s, group, ALICE, json!({"data": {"members": [BOB_ID]}})).await;
    expect_object(&r, 201, json!({"members": [BOB_ID], "id": "readers"}), owned_by(&[ALICE_ID]));
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r1"]);
    expect_object(&get(&s, &record("r1"), BOB).await, 200, json!({"n": 1, "id": "r1"}), json!({}));
    expect_403(&get(&s, RECORDS, CAROL).await);

    // Replace the members.
    let r = put(&s, group, ALICE, json!({"data": {"members": [CAROL_ID]}})).await;
    expect_object(&r, 200, json!({"members": [CAROL_ID], "id": "readers"}), owned_by(&[ALICE_ID]));
    expect_403(&get(&s, RECORDS, BOB).await);
    assert_eq!(list_ids(&get(&s, RECORDS, CAROL).await), vec!["r1"]);

    // PATCH the members.
    let r = patch(&s, group, ALICE, json!({"data": {"members": [CAROL_ID, BOB_ID]}})).await;
    expect_object(&r, 200, json!({"members": [CAROL_ID, BOB_ID], "id": "readers"}), owned_by(&[ALICE_ID]));
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r1"]);

    // Deleting the group revokes it; the ACE naming the group stays.
    expect_tombstone(&delete(&s, group, ALICE).await, "readers");
    expect_403(&get(&s, RECORDS, BOB).await);
    expect_403(&get(&s, RECORDS, CAROL).await);
    expect_object(
        &get(&s, COLL, ALICE).await,
        200,
        json!({"id": "c1"}),
        json!({"read": ["/buckets/b1/groups/readers"], "write": [ALICE_ID]}),
    );

    // Re-creating it grants again.
    let r = put(&s, group, ALICE, json!({"data": {"members": [BOB_ID]}})).await;
    assert_eq!(r.status, 201);
    assert_eq!(list_ids(&get(&s, RECORDS, BOB).await), vec!["r1"]);
    expect_403(&get(&s, RECORDS, CAROL).await);
}

#[tokio::test]
async fn perm_groups_of_another_bucket_and_write_through_groups() {
    let s = common::start().await;
    setup(&s, json!({}), json!({})).await;
    assert_eq!(put_empty(&s, "/v1/buckets/other", ALICE).await.status, 201);
    let r = put(&s, "/v1/buckets/other/groups/editors", ALICE, json!({"data": {"members": [DAVE_ID]}})).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // A group of another bucket is just a principal: it works in any ACE.
    let r = patch(&s, COLL, ALICE, json!({"permissions": {"write": ["/buckets/other/groups/editors"]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = put(&s, &record("r2"), DAVE, json!({"data": {"d": 1}})).await;
    expect_object(&r, 201, json!({"d": 1, "id": "r2"}), owned_by(&[DAVE_ID]));
    let r = patch(&s, &record("r1"), DAVE, json!({"data": {"d": 2}})).await;
    expect_object(&r, 200, json!({"n": 1, "d": 2, "id": "r1"}), owned_by(&[ALICE_ID, DAVE_ID]));

    // Removing dave from the group revokes the collection write, but not his own record ACEs.
    let r = put(&s, "/v1/buckets/other/groups/editors", ALICE, json!({"data": {"members": []}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    expect_403(&put_empty(&s, &record("r3"), DAVE).await);
    let r = patch(&s, &record("r2"), DAVE, json!({"data": {"d": 3}})).await;
    expect_object(&r, 200, json!({"d": 3, "id": "r2"}), owned_by(&[DAVE_ID]));
}

// ------------------------------------------------------------------------------------------------
// PERM-SETTINGS / PERM-EXPLICIT-OFF

#[tokio::test]
async fn perm_settings_grant_on_every_object_of_the_kind() {
    let s = common::start_with("bucket_read_principals = \"system.Everyone\"").await;
    let ts = ts_of(&put_empty(&s, "/v1/buckets/sb", ALICE).await);
    assert_eq!(put_empty(&s, "/v1/buckets/sb/collections/c", ALICE).await.status, 201);

    // Every bucket is readable by anyone, without any ACE.
    expect_object(&get(&s, "/v1/buckets/sb", ANON).await, 200, json!({"id": "sb"}), json!({}));
    expect_object(&get(&s, "/v1/buckets/sb", BOB).await, 200, json!({"id": "sb"}), json!({}));
    expect(&get(&s, "/v1/buckets", ANON).await, 200, json!({"data": [{"id": "sb", "last_modified": ts}]}));
    // So a missing bucket is revealed as missing.
    expect(&get(&s, "/v1/buckets/missing", ANON).await, 404, not_found("missing", "bucket"));
    expect(&get(&s, "/v1/buckets/missing", BOB).await, 404, not_found("missing", "bucket"));

    // The setting is about buckets only: it is not inherited by the objects below.
    expect_401(&get(&s, "/v1/buckets/sb/collections", ANON).await);
    expect_401(&get(&s, "/v1/buckets/sb/collections/c", ANON).await);
    expect_403(&get(&s, "/v1/buckets/sb/collections/c/records", BOB).await);
    // Nor does it give write.
    expect_401(&put_empty(&s, "/v1/buckets/sb/collections/c2", ANON).await);
    expect_403(&patch(&s, "/v1/buckets/sb", BOB, json!({"data": {}})).await);
    expect_403(&patch(&s, "/v1/buckets/missing", BOB, json!({"data": {}})).await);
}

#[tokio::test]
async fn perm_explicit_permissions_off_adds_no_creator_ace() {
    let s = common::start_with("explicit_permissions = false").await;

    let r = put_empty(&s, "/v1/buckets/eb", ALICE).await;
    expect_object(&r, 201, json!({"id": "eb"}), json!({}));
    // Nothing grants alice anything on it now.
    expect_403(&get(&s, "/v1/buckets/eb", ALICE).await);
    expect(&get(&s, "/v1/buckets", ALICE).await, 200, json!({"data": []}));
    expect_403(&put_empty(&s, "/v1/buckets/eb/collections/c", ALICE).await);
    expect_403(&put(&s, "/v1/buckets/eb", ALICE, json!({"permissions": {"read": ["system.Authenticated"]}})).await);

    // Explicit permissions in the body are still stored.
    let r = put(&s, "/v1/buckets/eb2", ALICE, json!({"permissions": {"write": [ALICE_ID]}})).await;
    expect_object(&r, 201, json!({"id": "eb2"}), owned_by(&[ALICE_ID]));
    // Objects below rely on the inherited bucket write only.
    let r = put_empty(&s, "/v1/buckets/eb2/collections/c", ALICE).await;
    expect_object(&r, 201, json!({"id": "c"}), json!({}));
    expect_object(&get(&s, "/v1/buckets/eb2/collections/c", ALICE).await, 200, json!({"id": "c"}), json!({}));
    let r = put_empty(&s, "/v1/buckets/eb2/collections/c/records/r", ALICE).await;
    expect_object(&r, 201, json!({"id": "r"}), json!({}));
    let r = patch(&s, "/v1/buckets/eb2/collections/c/records/r", ALICE, json!({"data": {"a": 1}})).await;
    expect_object(&r, 200, json!({"a": 1, "id": "r"}), json!({}));
    assert_eq!(list_ids(&get(&s, "/v1/buckets/eb2/collections/c/records", ALICE).await), vec!["r"]);
    expect_403(&get(&s, "/v1/buckets/eb2/collections/c/records/r", BOB).await);
}
