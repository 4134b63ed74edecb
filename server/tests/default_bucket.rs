//! Personal bucket plugin (KINTO_API.md §10.1 DB-*). Every expected value was checked against the
//! reference Kinto 26.5.0 server (`default_bucket_hmac_secret = conformance-fixed-bucket-secret-0123456789`).

mod common;

use common::helpers::{FORBIDDEN, UNAUTHORIZED, assert_next_page, call, delete, get, post, put};

use common::Reply;
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");

const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";

/// Personal bucket ids under the reference secret (reference hello `user.bucket`).
const ALICE_BUCKET: &str = "712952ec-da9d-549b-ff85-e7d9846b3d17";
const BOB_BUCKET: &str = "3643a899-6bf2-4826-fa64-cb89a8b159f0";
const ACCOUNT_BOB_BUCKET: &str = "343e786e-dc6c-a189-11d8-0752c97918d4";

fn ts_of(r: &Reply) -> i64 {
    r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("data.last_modified: {}", r.text))
}

/// Status, exact body (with `last_modified` taken from the reply), and `ETag` = that timestamp.
#[track_caller]
fn expect_object(r: &Reply, status: u16, mut data: Value, perms: Value) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let ts = ts_of(r);
    data["last_modified"] = json!(ts);
    assert_eq!(r.json, json!({"data": data, "permissions": perms}), "body");
    assert_eq!(r.etag(), ts, "ETag");
}

#[track_caller]
fn expect_json(r: &Reply, status: u16, body: &str) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    let expected: Value = serde_json::from_str(body).expect("expected body parses");
    assert_eq!(r.json, expected, "body");
}

#[track_caller]
fn expect_401(r: &Reply) {
    assert_eq!(r.status, 401, "status; body was {}", r.text);
    if !r.text.is_empty() {
        assert_eq!(r.json, serde_json::from_str::<Value>(UNAUTHORIZED).expect("present"));
    }
    assert_eq!(r.header_all("www-authenticate"), ["Basic realm=\"Realm\"", "Basic realm=\"Realm\""]);
}

// ------------------------------------------------------------------------------------------------
// DB-ID / DB-HELLO

/// DB-ID, DB-HELLO: hello `user.bucket` is the HMAC-derived personal bucket id; capability present.
#[tokio::test]
async fn hello_shows_personal_bucket() {
    let s = common::start().await;
    for (auth, user, bucket) in [(ALICE, ALICE_ID, ALICE_BUCKET), (BOB, BOB_ID, BOB_BUCKET)] {
        let r = get(&s, "/v1/", auth).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json["user"]["id"], json!(user));
        assert_eq!(r.json["user"]["bucket"], json!(bucket));
    }
    // An account user: the id hashed is `account:bob`.
    let r = put(&s, "/v1/accounts/bob", None, json!({"data": {"password": "pw"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = get(&s, "/v1/", Some("bob:pw")).await;
    assert_eq!(r.json["user"]["id"], json!("account:bob"));
    assert_eq!(r.json["user"]["bucket"], json!(ACCOUNT_BOB_BUCKET));
    // Anonymous: no user at all.
    let r = get(&s, "/v1/", None).await;
    assert!(r.json.get("user").is_none(), "{}", r.text);
    assert_eq!(
        r.json["capabilities"]["default_bucket"],
        json!({
            "description": "The default bucket is an alias for a personal bucket where collections are created implicitly.",
            "url": "https://kinto.readthedocs.io/en/latest/api/1.x/buckets.html#personal-bucket-default"
        })
    );
}

/// DB-ID: the id follows `default_bucket_hmac_secret` exactly; an empty secret is used as-is.
#[tokio::test]
async fn bucket_id_follows_the_secret() {
    // Appendix A: userid secret "s1", bucket secret "s2", alice:secret.
    let s = common::start_with("userid_hmac_secret = \"s1\"\ndefault_bucket_hmac_secret = \"s2\"").await;
    let r = get(&s, "/v1/", ALICE).await;
    assert_eq!(
        r.json["user"]["id"],
        json!("basicauth:530858b6b1e61523a8c7da868b0dd09a15df78a3c32e65080293597de3d06a99")
    );
    assert_eq!(r.json["user"]["bucket"], json!("353d2bb3-f057-26c3-638d-ad6dc22c4ee7"));
    // Appendix A: both secrets empty, mat:secret.
    let s = common::start_with("userid_hmac_secret = \"\"\ndefault_bucket_hmac_secret = \"\"").await;
    let r = get(&s, "/v1/", Some("mat:secret")).await;
    assert_eq!(
        r.json["user"]["id"],
        json!("basicauth:8a931a10fc88ab2f6d1cc02a07d3a81b5d4768f6f13e85c5d8d4180419acb1b4")
    );
    assert_eq!(r.json["user"]["bucket"], json!("ddaf8694-fa9e-2949-ed0e-77198a7907fb"));
}

// ------------------------------------------------------------------------------------------------
// DB-IMPLICIT

/// DB-IMPLICIT: a GET of the records creates the bucket and the collection, both owned by the caller.
#[tokio::test]
async fn implicit_creation_on_get() {
    let s = common::start().await;
    let r = get(&s, "/v1/buckets/default/collections/tasks/records", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": []}));
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
    let list_etag = r.etag();

    let bucket = get(&s, "/v1/buckets/default", ALICE).await;
    expect_object(&bucket, 200, json!({"id": ALICE_BUCKET}), json!({"write": [ALICE_ID]}));
    let collection = get(&s, "/v1/buckets/default/collections/tasks", ALICE).await;
    expect_object(&collection, 200, json!({"id": "tasks"}), json!({"write": [ALICE_ID]}));
    assert!(ts_of(&bucket) <= ts_of(&collection), "bucket then collection: {} {}", bucket.text, collection.text);
    assert!(list_etag >= ts_of(&collection), "records list ETag {list_etag}");

    // The real id answers the same.
    let real = get(&s, &format!("/v1/buckets/{ALICE_BUCKET}"), ALICE).await;
    assert_eq!(real.json, bucket.json);
    let real = get(&s, &format!("/v1/buckets/{ALICE_BUCKET}/collections/tasks"), ALICE).await;
    assert_eq!(real.json, collection.json);
    // Somebody else cannot see it.
    expect_json(&get(&s, &format!("/v1/buckets/{ALICE_BUCKET}"), BOB).await, 403, FORBIDDEN);
    // Listing buckets shows the real id.
    let list = get(&s, "/v1/buckets", ALICE).await;
    assert_eq!(list.json, json!({"data": [bucket.json["data"]]}));
}

/// DB-IMPLICIT: other collection ids get created too (GET of the collection object itself).
#[tokio::test]
async fn implicit_collection_on_object_get() {
    let s = common::start().await;
    let r = get(&s, "/v1/buckets/default/collections/x_y", ALICE).await;
    expect_object(&r, 200, json!({"id": "x_y"}), json!({"write": [ALICE_ID]}));
    let list = get(&s, "/v1/buckets/default/collections", ALICE).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json, json!({"data": [r.json["data"]]}));
}

/// DB-IMPLICIT: an invalid collection id → 400 "path: Invalid collection id".
#[tokio::test]
async fn invalid_collection_id() {
    let s = common::start().await;
    let r = get(&s, "/v1/buckets/default/collections/in%20valid/records", ALICE).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": "path: Invalid collection id",
               "details": [{"location": "path", "name": null, "description": "Invalid collection id"}]})
    );
}

/// DB-IMPLICIT: `PUT /buckets/default` creates the bucket with the given data (201); PUT of a collection
/// creates the bucket implicitly and the collection from the body.
#[tokio::test]
async fn explicit_put_of_default_bucket_and_collection() {
    let s = common::start().await;
    let r = put(&s, "/v1/buckets/default", BOB, json!({"data": {"title": "mine"}})).await;
    expect_object(&r, 201, json!({"title": "mine", "id": BOB_BUCKET}), json!({"write": [BOB_ID]}));
    let list = get(&s, "/v1/buckets", BOB).await;
    assert_eq!(list.json, json!({"data": [r.json["data"]]}));
    assert_eq!(list.etag(), ts_of(&r));

    let r = delete(&s, "/v1/buckets/default", BOB).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": {"id": BOB_BUCKET, "last_modified": ts_of(&r), "deleted": true}}));

    let r = put(&s, "/v1/buckets/default/collections/tasks", BOB, json!({"data": {"x": 1}})).await;
    expect_object(&r, 201, json!({"x": 1, "id": "tasks"}), json!({"write": [BOB_ID]}));
    let bucket = get(&s, "/v1/buckets/default", BOB).await;
    expect_object(&bucket, 200, json!({"id": BOB_BUCKET}), json!({"write": [BOB_ID]}));
}

// ------------------------------------------------------------------------------------------------
// DB-ALIAS

/// DB-ALIAS: records through the alias; `Next-Page` uses the real bucket id.
#[tokio::test]
async fn alias_records_and_next_page() {
    let s = common::start().await;
    let mut created = Vec::new();
    for n in 1..=3 {
        let r =
            put(&s, &format!("/v1/buckets/default/collections/tasks/records/r{n}"), ALICE, json!({"data": {"n": n}}))
                .await;
        expect_object(&r, 201, json!({"n": n, "id": format!("r{n}")}), json!({"write": [ALICE_ID]}));
        created.push(r.json["data"].clone());
    }
    let r = get(&s, "/v1/buckets/default/collections/tasks/records?_limit=2&_sort=n", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": [created[0], created[1]]}));
    assert_eq!(r.etag(), created[2]["last_modified"].as_i64().expect("present"));
    let next = r.header("next-page").expect("Next-Page").to_owned();
    let base = format!("{}/v1/buckets/{ALICE_BUCKET}/collections/tasks/records", s.root);
    assert_next_page(&next, &base, &[("_limit", "2"), ("_sort", "n")]);
    let page2 = s.client.get(&next).basic_auth("alice", Some("secret")).send().await.expect("next page");
    let page2 = Reply::from(page2).await;
    assert_eq!(page2.status, 200);
    assert_eq!(page2.json, json!({"data": [created[2]]}));
    assert!(page2.header("next-page").is_none());

    // POST and DELETE through the alias.
    let r = post(&s, "/v1/buckets/default/collections/tasks/records", ALICE, json!({"data": {"id": "r9"}})).await;
    expect_object(&r, 201, json!({"id": "r9"}), json!({"write": [ALICE_ID]}));
    let r = delete(&s, "/v1/buckets/default/collections/tasks/records/r3", ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"data": {"id": "r3", "last_modified": ts_of(&r), "deleted": true}}));
    // Same records via the real id.
    let real = get(&s, &format!("/v1/buckets/{ALICE_BUCKET}/collections/tasks/records?_sort=n"), ALICE).await;
    let ids: Vec<&str> =
        real.json["data"].as_array().expect("present").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r9"], "records without `n` sort last");
}

/// DB-ALIAS: batch subresponses echo the requested `/v1/buckets/default/...` path; bodies show the real id.
#[tokio::test]
async fn alias_in_batch() {
    let s = common::start().await;
    let r = put(&s, "/v1/buckets/default/collections/tasks/records/r1", ALICE, json!({"data": {"n": 1}})).await;
    assert_eq!(r.status, 201);
    let record = r.json["data"].clone();
    let r = post(
        &s,
        "/v1/batch",
        ALICE,
        json!({"requests": [
            {"method": "GET", "path": "/buckets/default/collections/tasks/records/r1"},
            {"method": "PUT", "path": "/buckets/default/collections/notes"},
            {"method": "GET", "path": "/buckets/default"}
        ]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let responses = r.json["responses"].as_array().expect("responses");
    assert_eq!(responses.len(), 3);
    assert_eq!(responses[0]["path"], json!("/v1/buckets/default/collections/tasks/records/r1"));
    assert_eq!(responses[0]["status"], json!(200));
    assert_eq!(responses[0]["body"], json!({"data": record, "permissions": {"write": [ALICE_ID]}}));
    assert_eq!(responses[1]["path"], json!("/v1/buckets/default/collections/notes"));
    assert_eq!(responses[1]["status"], json!(201));
    let notes_ts = responses[1]["body"]["data"]["last_modified"].clone();
    assert_eq!(
        responses[1]["body"],
        json!({"data": {"id": "notes", "last_modified": notes_ts}, "permissions": {"write": [ALICE_ID]}})
    );
    assert_eq!(responses[2]["path"], json!("/v1/buckets/default"));
    assert_eq!(responses[2]["status"], json!(200));
    assert_eq!(responses[2]["body"]["data"]["id"], json!(ALICE_BUCKET));
}

// ------------------------------------------------------------------------------------------------
// DB-ANON

/// DB-ANON: anonymous requests on the alias → 401 with the challenges, nothing created.
#[tokio::test]
async fn anonymous_is_401() {
    let s = common::start().await;
    expect_401(&get(&s, "/v1/buckets/default/collections/tasks/records", None).await);
    expect_401(&get(&s, "/v1/buckets/default", None).await);
    expect_401(&put(&s, "/v1/buckets/default/collections/tasks", None, json!({})).await);
    expect_401(&call(&s, Method::HEAD, "/v1/buckets/default/collections/tasks/records", None, None).await);
}
