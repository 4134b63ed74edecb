//! Service endpoints and the settings that reshape URLs: `contribute.json` (URL-CONTRIBUTE),
//! method toggles (URL-ENDPOINT-TOGGLE), redirect switches and lifetimes
//! (URL-VERSION-REDIRECT, URL-TRAILING-SLASH) and `http_scheme`/`http_host` in absolute URLs.

mod common;

use reqwest::Method;
use serde_json::json;

const ALICE: Option<&str> = Some("alice:secret");

#[tokio::test]
async fn contribute_json_describes_the_project() {
    let s = common::start().await;
    let r = s.call(Method::GET, "/v1/contribute.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    for key in ["name", "description", "repository", "participate", "bugs", "keywords"] {
        assert!(r.json.get(key).is_some(), "{key} in {}", r.text);
    }
    assert!(r.json["keywords"].is_array());
}

#[tokio::test]
async fn endpoint_toggles_remove_methods() {
    let s = common::start_with("plural_bucket_post_enabled = false\nobject_record_delete_enabled = false").await;
    let r = s.call(Method::POST, "/v1/buckets", ALICE, Some(json!({"data": {"id": "b1"}}))).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(r.json["errno"], 115);
    // Other methods of the same routes still work.
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b1", ALICE, None).await.status, 201);
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b1/collections/c1", ALICE, None).await.status, 201);
    let record = "/v1/buckets/b1/collections/c1/records/r1";
    assert_eq!(s.call(Method::PUT, record, ALICE, None).await.status, 201);
    let r = s.call(Method::DELETE, record, ALICE, None).await;
    assert_eq!((r.status, r.json["errno"].clone()), (405, json!(115)));
    assert_eq!(s.call(Method::GET, record, ALICE, None).await.status, 200);
}

#[tokio::test]
async fn redirects_can_be_switched_off_or_given_a_lifetime() {
    let s =
        common::start_with("version_prefix_redirect_enabled = false\ntrailing_slash_redirect_enabled = false").await;
    let r = s.call(Method::GET, "/buckets", ALICE, None).await;
    assert_eq!((r.status, r.json["errno"].clone()), (404, json!(111)));
    let r = s.call(Method::GET, "/v1/buckets/", ALICE, None).await;
    assert_eq!((r.status, r.json["errno"].clone()), (404, json!(111)));

    let s =
        common::start_with("version_prefix_redirect_ttl_seconds = 60\ntrailing_slash_redirect_ttl_seconds = 0").await;
    let r = s.call(Method::GET, "/buckets?x=1", ALICE, None).await;
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some(format!("{}/v1/buckets?x=1", s.root).as_str()));
    assert_eq!(r.header("cache-control"), Some("max-age=60"));
    assert!(r.header("expires").is_some());
    let r = s.call(Method::GET, "/v1/buckets/", ALICE, None).await;
    assert_eq!(r.status, 307);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn absolute_urls_use_http_scheme_and_host() {
    let s = common::start_with("http_scheme = \"https\"\nhttp_host = \"vault.example:443\"\npaginate_by = 1").await;
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b1", ALICE, None).await.status, 201);
    assert_eq!(s.call(Method::PUT, "/v1/buckets/b2", ALICE, None).await.status, 201);
    let r = s.call(Method::GET, "/v1/buckets", ALICE, None).await;
    let next = r.header("next-page").expect("Next-Page");
    assert!(next.starts_with("https://vault.example:443/v1/buckets?"), "{next}");
    let r = s.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(r.json["url"], "https://vault.example:443/v1/");
    let r = s.call(Method::GET, "/v1/buckets/", ALICE, None).await;
    assert_eq!(r.header("location"), Some("https://vault.example:443/v1/buckets"));
}
