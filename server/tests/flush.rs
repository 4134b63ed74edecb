//! Flush plugin (KINTO_API.md §10.4 PLUG-FLUSH). Every expected value was checked against the reference
//! Kinto 26.5.0 server with and without `kinto.plugins.flush` included.

mod common;

use common::helpers::{FORBIDDEN, call};

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ALICE: Option<&str> = Some("alice:secret");

const WITH_FLUSH: &str = "includes = [\"default_bucket\", \"accounts\", \"history\", \"admin\", \"flush\"]";

const NOT_FOUND: &str =
    r#"{"code":404,"errno":111,"error":"Not Found","message":"The resource you are looking for could not be found."}"#;

#[track_caller]
fn expect_json(r: &Reply, status: u16, body: &str) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let expected: Value = serde_json::from_str(body).expect("expected body parses");
    assert_eq!(r.json, expected, "body");
}

async fn who(s: &TestServer, auth: &str) -> String {
    let r = call(s, Method::GET, "/v1/", Some(auth), None).await;
    r.json["user"]["id"].as_str().unwrap_or_default().to_owned()
}

/// PLUG-FLUSH: capability `flush_endpoint`; anonymous `POST /__flush__` → 202 `{}` and everything is gone
/// (buckets, records, history, accounts).
#[tokio::test]
async fn flush_wipes_everything() {
    let s = common::start_with(WITH_FLUSH).await;
    let hello = call(&s, Method::GET, "/v1/", None, None).await;
    assert_eq!(
        hello.json["capabilities"]["flush_endpoint"],
        json!({
            "description": "The __flush__ endpoint can be used to remove all data from all backends.",
            "url": "https://kinto.readthedocs.io/en/latest/api/1.x/flush.html"
        })
    );
    for (path, body) in [
        ("/v1/buckets/b1", json!({})),
        ("/v1/buckets/b1/collections/c1", json!({})),
        ("/v1/buckets/b1/collections/c1/records/r1", json!({"data": {"x": 1}})),
    ] {
        let r = call(&s, Method::PUT, path, ALICE, Some(body)).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text);
    }
    let r = call(&s, Method::PUT, "/v1/accounts/bob", None, Some(json!({"data": {"password": "pw"}}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(who(&s, "bob:pw").await, "account:bob");

    let r = call(&s, Method::POST, "/v1/__flush__", None, None).await;
    expect_json(&r, 202, "{}");

    expect_json(&call(&s, Method::GET, "/v1/buckets/b1", ALICE, None).await, 403, FORBIDDEN);
    expect_json(&call(&s, Method::GET, "/v1/buckets/b1/history", ALICE, None).await, 403, FORBIDDEN);
    let r = call(&s, Method::GET, "/v1/buckets", ALICE, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": []}));
    assert!(who(&s, "bob:pw").await.starts_with("basicauth:"), "account gone");

    // The server keeps working afterwards; authenticated flush is fine too.
    let r = call(&s, Method::PUT, "/v1/buckets/b1", ALICE, Some(json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call(&s, Method::POST, "/v1/__flush__", ALICE, None).await;
    expect_json(&r, 202, "{}");
    expect_json(&call(&s, Method::GET, "/v1/buckets/b1", ALICE, None).await, 403, FORBIDDEN);
}

/// PLUG-FLUSH: only POST is routed (405 with `Allow: POST, OPTIONS`).
#[tokio::test]
async fn flush_other_methods_405() {
    let s = common::start_with(WITH_FLUSH).await;
    let r = call(&s, Method::GET, "/v1/__flush__", None, None).await;
    expect_json(
        &r,
        405,
        r#"{"code":405,"errno":115,"error":"Method Not Allowed","message":"Method not allowed on this endpoint."}"#,
    );
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
}

/// PLUG-FLUSH: without the plugin the route does not exist (404 errno 111), nothing is wiped, and the
/// capability is absent.
#[tokio::test]
async fn flush_absent_by_default() {
    let s = common::start().await;
    let r = call(&s, Method::PUT, "/v1/buckets/b1", ALICE, Some(json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    expect_json(&call(&s, Method::POST, "/v1/__flush__", None, None).await, 404, NOT_FOUND);
    expect_json(&call(&s, Method::GET, "/v1/__flush__", None, None).await, 404, NOT_FOUND);
    let r = call(&s, Method::GET, "/v1/buckets/b1", ALICE, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hello = call(&s, Method::GET, "/v1/", None, None).await;
    assert!(hello.json["capabilities"].get("flush_endpoint").is_none(), "{}", hello.text);
}
