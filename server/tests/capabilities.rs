//! Hello capabilities for the reference configuration (KINTO_API.md §2 URL-CAPABILITIES, DB-HELLO),
//! copied from the reference Kinto 26.5.0 server.

mod common;

use reqwest::Method;
use serde_json::json;

/// URL-CAPABILITIES: the exact capabilities map (every key and field) of the reference configuration.
#[tokio::test]
async fn exact_capabilities_map() {
    let s = common::start().await;
    let r = s.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json["capabilities"],
        json!({
            "basicauth": {
                "description": "Very basic authentication sessions. Not for production use.",
                "url": "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html"
            },
            "default_bucket": {
                "description": "The default bucket is an alias for a personal bucket where collections are created implicitly.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/buckets.html#personal-bucket-default"
            },
            "accounts": {
                "description": "Manage user accounts.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html",
                "validation_enabled": false
            },
            "history": {
                "description": "Track changes on data.",
                "url": "http://kinto.readthedocs.io/en/latest/api/1.x/history.html"
            },
            "schema": {
                "description": "Validates collection records with JSON schemas.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/collections.html#collection-json-schema"
            },
            "permissions_endpoint": {
                "description": "The permissions endpoint can be used to list all user objects permissions.",
                "url": "https://kinto.readthedocs.io/en/latest/configuration/settings.html#activating-the-permissions-endpoint"
            },
            "admin": {
                "description": "Serves the admin console.",
                "url": "https://github.com/Kinto/kinto-admin/",
                "version": "6.6.0"
            }
        })
    );
    // Same map when authenticated.
    let authed = s.call(Method::GET, "/v1/", Some("alice:secret"), None).await;
    assert_eq!(authed.json["capabilities"], r.json["capabilities"]);
}

/// DB-HELLO / URL-HELLO-USER: `user` = id, principals and the personal bucket id.
#[tokio::test]
async fn hello_user_with_bucket() {
    let s = common::start().await;
    let r = s.call(Method::GET, "/v1/", Some("alice:secret"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
    let mut user = r.json["user"].clone();
    let principals = user["principals"].as_array_mut().expect("principals");
    assert_eq!(principals.first(), Some(&json!(id)), "user id first");
    principals.sort_by_key(|p| p.as_str().unwrap_or_default().to_owned());
    assert_eq!(
        user,
        json!({
            "id": id,
            "principals": [id, "system.Authenticated", "system.Everyone"],
            "bucket": "712952ec-da9d-549b-ff85-e7d9846b3d17"
        })
    );
}

/// URL-CAPABILITIES: capabilities follow the configuration (history trim settings are echoed; plugins
/// not included are absent).
#[tokio::test]
async fn capabilities_follow_configuration() {
    let s = common::start_with("includes = [\"accounts\"]\nexperimental_collection_schema_validation = false\nexperimental_permissions_endpoint = false").await;
    let r = s.call(Method::GET, "/v1/", None, None).await;
    let mut keys: Vec<&String> = r.json["capabilities"].as_object().expect("capabilities").keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["accounts", "basicauth"]);
}
