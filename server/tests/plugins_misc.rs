//! Integration tests for smaller plugin features: the OpenAPI document (URL-OPENAPI), history
//! retention (Kintoun's `history.max_entries` / `history.max_age_days`), and the switches that
//! turn plugins off.

mod common;

use reqwest::Method;
use serde_json::json;

const ALICE: Option<&str> = Some("alice:secret");

#[tokio::test]
async fn openapi_describes_the_real_routes() {
    let s = common::start().await;
    let r = s.call(Method::GET, "/v1/__api__", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json["swagger"], "2.0");
    assert_eq!(r.json["basePath"], "/v1");
    assert_eq!(r.json["info"], json!({"title": "kinto", "version": "1.23"}));
    assert_eq!(r.json["securityDefinitions"], json!({"account": {"type": "basic"}, "basicauth": {"type": "basic"}}));
    let paths = r.json["paths"].as_object().expect("paths");
    for path in [
        "/",
        "/batch",
        "/buckets",
        "/buckets/{bid}",
        "/buckets/{bid}/collections/{cid}/records/{rid}",
        "/buckets/{bid}/history",
        "/accounts/{id}",
        "/permissions",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    // The reference configuration has no attachments and no flush endpoint.
    assert!(!paths.contains_key("/__flush__"));
    assert!(!paths.contains_key("/buckets/{bid}/collections/{cid}/records/{rid}/attachment"));
    let record = &paths["/buckets/{bid}/collections/{cid}/records/{rid}"];
    for method in ["get", "head", "put", "patch", "delete"] {
        assert!(record[method]["responses"]["401"].is_object(), "{method}");
    }
}

#[tokio::test]
async fn history_keeps_the_newest_entries_per_bucket() {
    let s = common::start_with("\"history.max_entries\" = 5\n\"history.trim_every\" = 1").await;
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b", ALICE, None).await.status, 201);
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b/collections/c", ALICE, None).await.status, 201);
    for n in 0..12 {
        let path = format!("/v1/buckets/b/collections/c/records/r{n}");
        let r = s.call(Method::PUT, &path, ALICE, Some(json!({"data": {"n": n}}))).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = s.call(Method::GET, "/v1/buckets/b/history", ALICE, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let entries = r.json["data"].as_array().expect("list");
    let uris: Vec<&str> = entries.iter().filter_map(|e| e["uri"].as_str()).collect();
    let expected: Vec<String> = (7..12).rev().map(|n| format!("/buckets/b/collections/c/records/r{n}")).collect();
    assert_eq!(uris, expected.iter().map(String::as_str).collect::<Vec<_>>());
    // Trimmed entries are gone for good, tombstones included.
    let r = s.call(Method::GET, "/v1/buckets/b/history?_since=0", ALICE, None).await;
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn history_without_a_limit_keeps_everything() {
    let s = common::start_with("\"history.max_entries\" = 0\n\"history.trim_every\" = 1").await;
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b", ALICE, None).await.status, 201);
    for n in 0..7 {
        let path = format!("/v1/buckets/b/groups/g{n}");
        assert_eq!(s.call(Method::PUT, &path, ALICE, None).await.status, 201);
    }
    let r = s.call(Method::GET, "/v1/buckets/b/history", ALICE, None).await;
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(8));
    // As Kinto: HEAD on history carries no counts.
    let r = s.call(Method::HEAD, "/v1/buckets/b/history", ALICE, None).await;
    assert_eq!((r.status, r.header("total-objects")), (200, None));
}

#[tokio::test]
async fn plugins_switched_off_have_no_routes() {
    let s = common::start_with("includes = []").await;
    for path in ["/v1/accounts", "/v1/buckets/b/history", "/v1/buckets/b/collections/c/records/r/attachment"] {
        let r = s.call(Method::GET, path, ALICE, None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.json["errno"], 111, "{path}");
    }
    // Without default_bucket, `default` is an ordinary (missing) bucket.
    let r = s.call(Method::GET, "/v1/buckets/default", ALICE, None).await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn history_snapshot_rebuilds_a_collection_at_a_timestamp() {
    let s = common::start().await;
    assert_eq!(s.call(Method::PUT, "/v1/buckets/snap", ALICE, None).await.status, 201);
    assert_eq!(s.call(Method::PUT, "/v1/buckets/snap/collections/c", ALICE, None).await.status, 201);
    let records = "/v1/buckets/snap/collections/c/records";
    let a1 = s.call(Method::PUT, &format!("{records}/a"), ALICE, Some(json!({"data": {"v": 1}}))).await;
    let t0 = a1.json["data"]["last_modified"].as_i64().expect("ts");
    let b1 = s.call(Method::PUT, &format!("{records}/b"), ALICE, Some(json!({"data": {"v": 1}}))).await;
    let t1 = b1.json["data"]["last_modified"].as_i64().expect("ts");
    s.call(Method::PATCH, &format!("{records}/a"), ALICE, Some(json!({"data": {"v": 2}}))).await;
    s.call(Method::DELETE, &format!("{records}/b"), ALICE, None).await;

    let at = |ts: i64| format!("/v1/buckets/snap/snapshot/collections/c@{ts}");
    let r = s.call(Method::GET, &at(t0), ALICE, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": [{"v": 1, "id": "a", "last_modified": t0}]}));
    let r = s.call(Method::GET, &at(t1), ALICE, None).await;
    assert_eq!(
        r.json,
        json!({"data": [{"v": 1, "id": "b", "last_modified": t1}, {"v": 1, "id": "a", "last_modified": t0}]})
    );
    // Now: a at v2, b deleted.
    let r = s.call(Method::GET, &at(t1 + 100_000), ALICE, None).await;
    assert_eq!(
        r.json["data"].as_array().map(|d| d.iter().map(|x| x["id"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("a")])
    );
    assert_eq!(r.json["data"][0]["v"], 2);

    // Errors, as the reference answers them.
    let r = s.call(Method::GET, "/v1/buckets/snap/snapshot/collections/c@abc", ALICE, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": "Invalid timestamp 'abc'",
               "details": [{"location": "path", "name": "timestamp", "description": "Invalid timestamp 'abc'"}]})
    );
    let r = s.call(Method::GET, &at(t0), Some("bob:x"), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = s.call(Method::GET, "/v1/buckets/snap/snapshot/collections/zz@1", ALICE, None).await;
    assert_eq!((r.status, r.json.clone()), (200, json!({"data": []})));
}
