//! `GET /permissions` (KINTO_API.md §8 PERM-ENDPOINT). Every expected value was checked against the
//! reference Kinto 26.5.0 server. The reference's `permissions` lists come from Python sets (arbitrary
//! order), so they are compared sorted; the ETag is meaningless (QUIRK-PERMS-ETAG) and not asserted.

mod common;

use common::helpers::{assert_next_page, call, get};

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");

const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";

async fn put(s: &TestServer, path: &str, auth: Option<&str>, body: Value) {
    let r = call(s, Method::PUT, path, auth, Some(body)).await;
    assert!((200..300).contains(&r.status), "PUT {path}: {} {}", r.status, r.text);
}

/// Sorts each entry's `permissions` list (set semantics).
fn normalize(mut list: Value) -> Value {
    if let Some(entries) = list.as_array_mut() {
        for entry in entries {
            if let Some(perms) = entry.get_mut("permissions").and_then(Value::as_array_mut) {
                perms.sort_by_key(|p| p.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    list
}

/// Asserts 200 and the exact `data` list (permissions compared as sets).
#[track_caller]
fn expect_entries(r: &Reply, expected: Value) {
    assert_eq!(r.status, 200, "status; body was {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let keys: Vec<&String> = r.json.as_object().expect("object body").keys().collect();
    assert_eq!(keys, ["data"], "{}", r.text);
    assert_eq!(normalize(r.json["data"].clone()), normalize(expected));
}

/// Alice owns b1 (bob may read it), g1, c1 (bob may create records), r1 (bob may read it) and c2 (bob may
/// write it); bob created r2 in c1 and owns b2.
async fn setup(s: &TestServer) {
    put(s, "/v1/buckets/b1", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    put(s, "/v1/buckets/b1/groups/g1", ALICE, json!({"data": {"members": []}})).await;
    put(s, "/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"record:create": [BOB_ID]}})).await;
    put(s, "/v1/buckets/b1/collections/c1/records/r1", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    put(s, "/v1/buckets/b1/collections/c1/records/r2", BOB, json!({})).await;
    put(s, "/v1/buckets/b2", BOB, json!({})).await;
    put(s, "/v1/buckets/b1/collections/c2", ALICE, json!({"permissions": {"write": [BOB_ID]}})).await;
}

fn root_authenticated() -> Value {
    json!({"uri": "/", "resource_name": "root", "permissions": ["bucket:create", "account:create"]})
}

fn b1_for_bob() -> Value {
    json!({"uri": "/buckets/b1", "resource_name": "bucket", "permissions": ["read:attributes", "read"],
           "id": "b1", "bucket_id": "b1"})
}

fn b2_for_bob() -> Value {
    json!({"uri": "/buckets/b2", "resource_name": "bucket",
           "permissions": ["read:attributes", "collection:create", "read", "group:create", "write"],
           "id": "b2", "bucket_id": "b2"})
}

fn c1_for_bob() -> Value {
    json!({"uri": "/buckets/b1/collections/c1", "resource_name": "collection",
           "permissions": ["read:attributes", "record:create"], "bucket_id": "b1", "id": "c1", "collection_id": "c1"})
}

fn c2_for_bob() -> Value {
    json!({"uri": "/buckets/b1/collections/c2", "resource_name": "collection",
           "permissions": ["read:attributes", "record:create", "read", "write"],
           "bucket_id": "b1", "id": "c2", "collection_id": "c2"})
}

fn r1_for_bob() -> Value {
    json!({"uri": "/buckets/b1/collections/c1/records/r1", "resource_name": "record", "permissions": ["read"],
           "bucket_id": "b1", "collection_id": "c1", "id": "r1", "record_id": "r1"})
}

fn r2_for_bob() -> Value {
    json!({"uri": "/buckets/b1/collections/c1/records/r2", "resource_name": "record", "permissions": ["read", "write"],
           "bucket_id": "b1", "collection_id": "c1", "id": "r2", "record_id": "r2"})
}

// ------------------------------------------------------------------------------------------------
// tests

/// PERM-ENDPOINT: one entry per object with a direct ACE (default order `-uri`), expanded with implied
/// permissions incl. `read:attributes`; the root entry from the settings.
#[tokio::test]
async fn entries_for_a_user() {
    let s = common::start().await;
    setup(&s).await;
    let r = get(&s, "/v1/permissions", BOB).await;
    expect_entries(
        &r,
        json!([
            b2_for_bob(),
            c2_for_bob(),
            r2_for_bob(),
            r1_for_bob(),
            c1_for_bob(),
            b1_for_bob(),
            root_authenticated()
        ]),
    );
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
    assert!(r.header("next-page").is_none());

    // The owner: write everywhere it created something (not r2, created by bob).
    let r = get(&s, "/v1/permissions", ALICE).await;
    expect_entries(
        &r,
        json!([
            {"uri": "/buckets/b1/groups/g1", "resource_name": "group", "permissions": ["read", "write"],
             "bucket_id": "b1", "id": "g1", "group_id": "g1"},
            {"uri": "/buckets/b1/collections/c2", "resource_name": "collection",
             "permissions": ["read:attributes", "record:create", "read", "write"],
             "bucket_id": "b1", "id": "c2", "collection_id": "c2"},
            {"uri": "/buckets/b1/collections/c1/records/r1", "resource_name": "record", "permissions": ["read", "write"],
             "bucket_id": "b1", "collection_id": "c1", "id": "r1", "record_id": "r1"},
            {"uri": "/buckets/b1/collections/c1", "resource_name": "collection",
             "permissions": ["read:attributes", "record:create", "read", "write"],
             "bucket_id": "b1", "id": "c1", "collection_id": "c1"},
            {"uri": "/buckets/b1", "resource_name": "bucket",
             "permissions": ["read:attributes", "collection:create", "read", "group:create", "write"],
             "id": "b1", "bucket_id": "b1"},
            root_authenticated()
        ]),
    );
}

/// PERM-ENDPOINT: anonymous callers only get the root entry with `account:create` (system.Everyone).
#[tokio::test]
async fn anonymous_sees_root_account_create() {
    let s = common::start().await;
    setup(&s).await;
    let r = get(&s, "/v1/permissions", None).await;
    expect_entries(&r, json!([{"uri": "/", "resource_name": "root", "permissions": ["account:create"]}]));
}

/// PERM-ENDPOINT: account entries.
#[tokio::test]
async fn account_entries() {
    let s = common::start().await;
    let r = call(&s, Method::PUT, "/v1/accounts/carl", None, Some(json!({"data": {"password": "pw"}}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = get(&s, "/v1/permissions", Some("carl:pw")).await;
    expect_entries(
        &r,
        json!([
            {"uri": "/accounts/carl", "resource_name": "account", "permissions": ["read", "write"],
             "id": "carl", "account_id": "carl"},
            root_authenticated()
        ]),
    );
}

/// PERM-ENDPOINT: kinto-admin's `_sort=id&exclude_resource_name=record,group` (entries without id last).
#[tokio::test]
async fn sort_by_id_excluding_records_and_groups() {
    let s = common::start().await;
    setup(&s).await;
    let r = get(&s, "/v1/permissions?_sort=id&exclude_resource_name=record,group", BOB).await;
    expect_entries(&r, json!([b1_for_bob(), b2_for_bob(), c1_for_bob(), c2_for_bob(), root_authenticated()]));
    let r = get(&s, "/v1/permissions?_sort=id&exclude_resource_name=record,group", ALICE).await;
    let uris: Vec<&str> =
        r.json["data"].as_array().expect("present").iter().filter_map(|e| e["uri"].as_str()).collect();
    assert_eq!(uris, ["/buckets/b1", "/buckets/b1/collections/c1", "/buckets/b1/collections/c2", "/"]);
}

/// PERM-ENDPOINT: `_limit` + `Next-Page` (absolute URL keeping the query), followed to the end.
#[tokio::test]
async fn pagination() {
    let s = common::start().await;
    setup(&s).await;
    let r = get(&s, "/v1/permissions?_sort=id&_limit=2", BOB).await;
    expect_entries(&r, json!([b1_for_bob(), b2_for_bob()]));
    let mut next = r.header("next-page").expect("Next-Page").to_owned();
    assert_next_page(&next, &format!("{}/v1/permissions", s.root), &[("_sort", "id"), ("_limit", "2")]);
    let mut pages = Vec::new();
    loop {
        let page =
            Reply::from(s.client.get(&next).basic_auth("bob", Some("secret")).send().await.expect("present")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        pages.push(normalize(page.json["data"].clone()));
        match page.header("next-page") {
            Some(url) => next = url.to_owned(),
            None => break,
        }
        assert!(pages.len() < 10, "too many pages");
    }
    assert_eq!(
        pages,
        [
            normalize(json!([c1_for_bob(), c2_for_bob()])),
            normalize(json!([r1_for_bob(), r2_for_bob()])),
            normalize(json!([root_authenticated()]))
        ]
    );
}

/// PERM-ENDPOINT: filters and `_fields` on the closed field set; `last_modified` filters are ignored.
#[tokio::test]
async fn filters_and_fields() {
    let s = common::start().await;
    setup(&s).await;
    let r = get(&s, "/v1/permissions?resource_name=bucket", BOB).await;
    expect_entries(&r, json!([b2_for_bob(), b1_for_bob()]));
    let r = get(&s, "/v1/permissions?collection_id=c1&resource_name=record&_sort=id", BOB).await;
    expect_entries(&r, json!([r1_for_bob(), r2_for_bob()]));
    let r = get(&s, "/v1/permissions?last_modified=1&resource_name=bucket", BOB).await;
    expect_entries(&r, json!([b2_for_bob(), b1_for_bob()]));
    let r = get(&s, "/v1/permissions?_fields=uri&_sort=uri", BOB).await;
    expect_entries(
        &r,
        json!([
            {"uri": "/"},
            {"uri": "/buckets/b1", "id": "b1"},
            {"uri": "/buckets/b1/collections/c1", "id": "c1"},
            {"uri": "/buckets/b1/collections/c1/records/r1", "id": "r1"},
            {"uri": "/buckets/b1/collections/c1/records/r2", "id": "r2"},
            {"uri": "/buckets/b1/collections/c2", "id": "c2"},
            {"uri": "/buckets/b2", "id": "b2"}
        ]),
    );
}

/// PERM-ENDPOINT: unknown filter field → 400.
#[tokio::test]
async fn unknown_filter_field() {
    let s = common::start().await;
    let r = get(&s, "/v1/permissions?foo=1", BOB).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": "Unknown filter field 'foo'",
               "details": [{"location": "querystring", "name": "foo", "description": "Unknown filter field 'foo'"}]})
    );
}

/// PERM-ENDPOINT: enabled by the admin plugin even without `experimental_permissions_endpoint`.
#[tokio::test]
async fn enabled_by_admin_plugin() {
    let s = common::start_with("experimental_permissions_endpoint = false").await;
    let hello = get(&s, "/v1/", None).await;
    assert_eq!(
        hello.json["capabilities"]["permissions_endpoint"],
        json!({
            "description": "The permissions endpoint can be used to list all user objects permissions.",
            "url": "https://kinto.readthedocs.io/en/latest/configuration/settings.html#activating-the-permissions-endpoint"
        })
    );
    let r = get(&s, "/v1/permissions", BOB).await;
    expect_entries(&r, json!([root_authenticated()]));
}
