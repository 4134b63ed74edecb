//! CORS, settings that change every response (backoff, end of service, readonly, body limit) and
//! Kintoun's DNS-rebinding protection, checked over HTTP against the reference Kinto 26.5.0
//! (except where KINTO_API.md says Kintoun deviates).
//!
//! Feature IDs (KINTO_API.md): CORS-ORIGIN, CORS-EXPOSE, CORS-PREFLIGHT, CORS-ERRORS,
//! ERR-BACKOFF, ERR-ALERT-EOL, ERR-READONLY, ERR-LIMITS; Kintoun's Host check (DESIGN.md).

mod common;

use std::collections::BTreeSet;

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:3000";

/// CORS-EXPOSE: the union Kintoun exposes on every API response.
const EXPOSED: [&str; 13] = [
    "Alert",
    "Backoff",
    "Cache-Control",
    "Content-Length",
    "Content-Type",
    "ETag",
    "Expires",
    "Last-Modified",
    "Next-Page",
    "Pragma",
    "Retry-After",
    "Total-Objects",
    "Total-Records",
];

/// One request of a table-driven test: method, path, headers, raw body, expected status.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, u16);

/// Sends a request with raw headers and an optional raw body (no Content-Type added).
async fn raw(server: &TestServer, method: Method, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let mut builder = server.req(method, path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(body) = body {
        builder = builder.body(body.to_owned());
    }
    Reply::from(builder.send().await.expect("request")).await
}

/// The `Authorization` value for Basic `user:password`.
fn basic(credentials: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
}

/// A comma-separated header as a set of lower-cased, trimmed items.
fn lower_set(value: Option<&str>) -> BTreeSet<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

fn assert_exposes_union(reply: &Reply, what: &str) {
    let exposed = lower_set(reply.header("access-control-expose-headers"));
    for name in EXPOSED {
        assert!(exposed.contains(&name.to_ascii_lowercase()), "{what}: {name} not exposed in {exposed:?}");
    }
}

/// Starts a server with the reference settings where the `cors_origins = "*"` line is replaced.
async fn start_with_cors_origins(origins: &str) -> TestServer {
    let needle = "cors_origins = \"*\"";
    assert!(common::REFERENCE_TOML.contains(needle), "reference.toml sets {needle}");
    let toml = common::REFERENCE_TOML.replace(needle, &format!("cors_origins = \"{origins}\""));
    common::start_with_settings(kintoun::Settings::from_toml_str(&toml).expect("settings parse")).await
}

async fn create_bucket(server: &TestServer, bid: &str, auth: &str) -> Reply {
    let reply = server.call(Method::PUT, &format!("/v1/buckets/{bid}"), Some(auth), Some(json!({"data": {}}))).await;
    assert_eq!(reply.status, 201, "creating bucket {bid}: {reply:?}");
    reply
}

fn invalid_origin_body(origin: &str) -> Value {
    json!({
        "code": 400, "errno": 107, "error": "Invalid parameters",
        "message": format!("Origin in header: {origin} not allowed"),
        "details": [{"location": "header", "name": "Origin", "description": format!("{origin} not allowed")}]
    })
}

// ---------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------

/// CORS-ORIGIN: with `cors_origins = "*"`, any Origin gets `Access-Control-Allow-Origin: *` and no
/// credentials header; no Origin, no Allow-Origin.
#[tokio::test]
async fn cors_wildcard_origin() {
    let server = common::start().await;
    let auth = basic("alice:secret");
    for origin in [ORIGIN, "moz-extension://abc-123", "https://example.com"] {
        let hello = raw(&server, Method::GET, "/v1/", &[("Origin", origin)], None).await;
        assert_eq!(hello.status, 200, "{origin}: {hello:?}");
        assert_eq!(hello.header("access-control-allow-origin"), Some("*"), "{origin}");
        assert_eq!(hello.header("access-control-allow-credentials"), None, "{origin}");

        let buckets =
            raw(&server, Method::GET, "/v1/buckets", &[("Origin", origin), ("Authorization", &auth)], None).await;
        assert_eq!(buckets.status, 200, "{origin}: {buckets:?}");
        assert_eq!(buckets.header("access-control-allow-origin"), Some("*"), "{origin}");
    }
    let without = raw(&server, Method::GET, "/v1/", &[], None).await;
    assert_eq!(without.status, 200);
    assert_eq!(without.header("access-control-allow-origin"), None);
}

/// CORS-EXPOSE: Kintoun exposes the union on every API response, with or without Origin.
#[tokio::test]
async fn cors_expose_headers_union() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    let auth = basic("alice:secret");
    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/", vec![], None, 200),
        (Method::GET, "/v1/__heartbeat__", vec![], None, 200),
        (Method::GET, "/v1/buckets", vec![("Authorization", &auth)], None, 200),
        (Method::HEAD, "/v1/buckets", vec![("Authorization", &auth)], None, 200),
        (Method::GET, "/v1/buckets/b1", vec![("Authorization", &auth), ("Origin", ORIGIN)], None, 200),
        (
            Method::PUT,
            "/v1/buckets/b2",
            vec![("Authorization", &auth), ("Content-Type", "application/json")],
            Some(r#"{"data":{}}"#),
            201,
        ),
        (Method::GET, "/v1/buckets", vec![], None, 401),
        (Method::GET, "/v1/buckets/zz", vec![("Authorization", &auth)], None, 403),
        (Method::GET, "/v1/nothing", vec![("Origin", ORIGIN)], None, 404),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_exposes_union(&reply, &format!("{method} {path}"));
    }
}

/// CORS-PREFLIGHT: 200 `null`, Allow-Origin, route methods, requested headers echoed, Max-Age 3600;
/// no authentication or permission check (the bucket does not exist).
#[tokio::test]
async fn cors_preflight() {
    let server = common::start().await;
    let record = raw(
        &server,
        Method::OPTIONS,
        "/v1/buckets/b1/collections/c1/records/r1",
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "authorization, content-type, if-match, x-custom"),
        ],
        None,
    )
    .await;
    assert_eq!(record.status, 200, "{record:?}");
    assert_eq!(record.text, "null");
    assert_eq!(record.header("content-type"), Some("application/json"));
    assert_eq!(record.header("access-control-allow-origin"), Some("*"));
    assert_eq!(record.header("access-control-max-age"), Some("3600"));
    assert_eq!(
        lower_set(record.header("access-control-allow-methods")),
        lower_set(Some("GET,HEAD,PUT,PATCH,DELETE,OPTIONS"))
    );
    let allowed = lower_set(record.header("access-control-allow-headers"));
    for requested in ["authorization", "content-type", "if-match", "x-custom"] {
        assert!(allowed.contains(requested), "{requested} not in {allowed:?}");
    }

    for (path, method, methods) in [
        ("/v1/buckets", "POST", "HEAD,GET,POST,DELETE,OPTIONS"),
        ("/v1/", "GET", "GET,HEAD,OPTIONS"),
        ("/v1/__heartbeat__", "GET", "GET,HEAD,OPTIONS"),
    ] {
        let reply = raw(
            &server,
            Method::OPTIONS,
            path,
            &[
                ("Origin", ORIGIN),
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", "Authorization"),
            ],
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        assert_eq!(reply.text, "null", "{path}");
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(reply.header("access-control-max-age"), Some("3600"), "{path}");
        assert_eq!(lower_set(reply.header("access-control-allow-methods")), lower_set(Some(methods)), "{path}");
        assert!(lower_set(reply.header("access-control-allow-headers")).contains("authorization"), "{path}");
    }
}

/// CORS-PREFLIGHT errors: missing headers, method not offered, unknown route.
#[tokio::test]
async fn cors_preflight_errors() {
    let server = common::start().await;
    let mandatory = |name: &str| json!({"location": "header", "name": name, "description": "this header is mandatory"});

    let no_method = raw(&server, Method::OPTIONS, "/v1/buckets", &[("Origin", ORIGIN)], None).await;
    assert_eq!(no_method.status, 400, "{no_method:?}");
    assert_eq!(
        no_method.json,
        json!({
            "code": 400, "errno": 107, "error": "Invalid parameters",
            "message": "Access-Control-Request-Method in header: this header is mandatory",
            "details": [mandatory("Access-Control-Request-Method")]
        })
    );
    assert_eq!(no_method.header("access-control-allow-origin"), Some("*"));

    let no_origin =
        raw(&server, Method::OPTIONS, "/v1/buckets", &[("Access-Control-Request-Method", "GET")], None).await;
    assert_eq!(no_origin.status, 400, "{no_origin:?}");
    assert_eq!(
        no_origin.json,
        json!({
            "code": 400, "errno": 107, "error": "Invalid parameters",
            "message": "Origin in header: this header is mandatory",
            "details": [mandatory("Origin")]
        })
    );

    let neither = raw(&server, Method::OPTIONS, "/v1/buckets/b1", &[], None).await;
    assert_eq!(neither.status, 400, "{neither:?}");
    assert_eq!(
        neither.json,
        json!({
            "code": 400, "errno": 107, "error": "Invalid parameters",
            "message": "Access-Control-Request-Method in header: this header is mandatory",
            "details": [mandatory("Access-Control-Request-Method"), mandatory("Origin")]
        })
    );

    let bad_method = raw(
        &server,
        Method::OPTIONS,
        "/v1/buckets",
        &[("Origin", ORIGIN), ("Access-Control-Request-Method", "PUT")],
        None,
    )
    .await;
    assert_eq!(bad_method.status, 400, "{bad_method:?}");
    assert_eq!(
        bad_method.json,
        json!({
            "code": 400, "errno": 107, "error": "Invalid parameters",
            "message": "Access-Control-Request-Method in header: Method not allowed",
            "details": [{"location": "header", "name": "Access-Control-Request-Method", "description": "Method not allowed"}]
        })
    );
    assert_eq!(bad_method.header("access-control-allow-origin"), Some("*"));

    let unknown = raw(
        &server,
        Method::OPTIONS,
        "/v1/nothing",
        &[("Origin", ORIGIN), ("Access-Control-Request-Method", "GET")],
        None,
    )
    .await;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert_eq!(unknown.json["errno"], json!(111));
    assert_eq!(unknown.header("access-control-allow-origin"), Some("*"));
}

/// CORS-ERRORS: error responses carry Allow-Origin and the exposed headers.
#[tokio::test]
async fn cors_headers_on_errors() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    let auth = basic("alice:secret");
    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/buckets", vec![], None, 401),
        (Method::GET, "/v1/buckets/missing", vec![("Authorization", &auth)], None, 403),
        (Method::GET, "/v1/nothing", vec![], None, 404),
        (
            Method::PUT,
            "/v1/buckets/zz",
            vec![("Authorization", &auth), ("Content-Type", "application/json")],
            Some("[1]"),
            400,
        ),
        (Method::GET, "/v1/buckets/b1", vec![("Authorization", &auth), ("If-Match", "\"1\"")], None, 412),
    ];
    for (method, path, mut headers, body, status) in cases {
        headers.push(("Origin", ORIGIN));
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"), "{method} {path}");
        assert_exposes_union(&reply, &format!("{method} {path}"));
    }
}

/// CORS-ORIGIN with a restricted list: matching origins are echoed, others → 400 errno 107
/// without Allow-Origin; patterns are case-sensitive.
#[tokio::test]
async fn cors_restricted_origins() {
    let server = start_with_cors_origins("moz-extension://*").await;
    let auth = basic("alice:secret");

    for (path, headers) in [
        ("/v1/", vec![("Origin", "http://evil")]),
        ("/v1/buckets", vec![("Origin", "http://evil"), ("Authorization", auth.as_str())]),
    ] {
        let reply = raw(&server, Method::GET, path, &headers, None).await;
        assert_eq!(reply.status, 400, "{path}: {reply:?}");
        assert_eq!(reply.json, invalid_origin_body("http://evil"), "{path}");
        assert_eq!(reply.header("access-control-allow-origin"), None, "{path}");
    }

    let upper = raw(&server, Method::GET, "/v1/", &[("Origin", "MOZ-EXTENSION://abc")], None).await;
    assert_eq!(upper.status, 400, "origin patterns are case-sensitive: {upper:?}");
    assert_eq!(upper.json, invalid_origin_body("MOZ-EXTENSION://abc"));

    let extension = raw(&server, Method::GET, "/v1/", &[("Origin", "moz-extension://abc-123")], None).await;
    assert_eq!(extension.status, 200, "{extension:?}");
    assert_eq!(extension.header("access-control-allow-origin"), Some("moz-extension://abc-123"));

    let without = raw(&server, Method::GET, "/v1/", &[], None).await;
    assert_eq!(without.status, 200, "no Origin, no check: {without:?}");

    let preflight = raw(
        &server,
        Method::OPTIONS,
        "/v1/buckets",
        &[("Origin", "moz-extension://abc-123"), ("Access-Control-Request-Method", "GET")],
        None,
    )
    .await;
    assert_eq!(preflight.status, 200, "{preflight:?}");
    assert_eq!(preflight.header("access-control-allow-origin"), Some("moz-extension://abc-123"));

    let evil_preflight = raw(
        &server,
        Method::OPTIONS,
        "/v1/buckets",
        &[("Origin", "http://evil"), ("Access-Control-Request-Method", "GET")],
        None,
    )
    .await;
    assert_eq!(evil_preflight.status, 400, "{evil_preflight:?}");
    assert_eq!(evil_preflight.json, invalid_origin_body("http://evil"));
    assert_eq!(evil_preflight.header("access-control-allow-origin"), None);
}

// ---------------------------------------------------------------------------------------------
// Settings that affect every response
// ---------------------------------------------------------------------------------------------

/// ERR-BACKOFF: `backoff = 10` → `Backoff: 10` on every response, errors and redirects included.
#[tokio::test]
async fn backoff_header_on_every_response() {
    let server = common::start_with("backoff = 10").await;
    let auth = basic("alice:secret");
    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/", vec![], None, 200),
        (Method::GET, "/v1/__heartbeat__", vec![], None, 200),
        (
            Method::PUT,
            "/v1/buckets/b1",
            vec![("Authorization", &auth), ("Content-Type", "application/json")],
            Some("{}"),
            201,
        ),
        (Method::GET, "/v1/buckets", vec![], None, 401),
        (Method::GET, "/v1/buckets/zz", vec![("Authorization", &auth)], None, 403),
        (Method::GET, "/v1/nothing", vec![], None, 404),
        (Method::GET, "/v2/x", vec![], None, 404),
        (Method::PUT, "/v1/buckets", vec![], None, 405),
        (Method::GET, "/", vec![], None, 307),
        (Method::GET, "/v1/nothing/", vec![], None, 307),
        (Method::OPTIONS, "/v1/buckets", vec![("Origin", ORIGIN), ("Access-Control-Request-Method", "GET")], None, 200),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_eq!(reply.header_all("backoff"), vec!["10".to_owned()], "{method} {path}");
    }

    let plain = common::start().await;
    let reply = plain.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(reply.header("backoff"), None, "no Backoff by default");
}

/// ERR-ALERT-EOL (soft): before `eos`, every response carries the soft-eol Alert and hello shows `eos`.
#[tokio::test]
async fn soft_end_of_service_alert() {
    let server = common::start_with(
        "eos = \"2099-01-01\"\neos_message = \"Service will be shut down\"\neos_url = \"https://example.com/eol\"",
    )
    .await;
    let alert = json!({"code": "soft-eol", "message": "Service will be shut down", "url": "https://example.com/eol"});
    let auth = basic("alice:secret");

    let hello = raw(&server, Method::GET, "/v1/", &[], None).await;
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.json["eos"], json!("2099-01-01"));

    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/", vec![], None, 200),
        (Method::GET, "/v1/buckets", vec![], None, 401),
        (Method::GET, "/v1/nothing", vec![], None, 404),
        (Method::PUT, "/v1/buckets/x", vec![("Authorization", &auth)], None, 201),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        let header = reply.header("alert").unwrap_or_else(|| panic!("{method} {path}: Alert header"));
        let parsed: Value = serde_json::from_str(header).expect("Alert is JSON");
        assert_eq!(parsed, alert, "{method} {path}");
    }
}

/// ERR-ALERT-EOL (hard): after `eos`, every request → 410 errno 202 with the hard-eol Alert.
#[tokio::test]
async fn hard_end_of_service_gone() {
    let server = common::start_with(
        "eos = \"2000-01-01\"\neos_message = \"Service shut down\"\neos_url = \"https://example.com/eol\"",
    )
    .await;
    let alert = json!({"code": "hard-eol", "message": "Service shut down", "url": "https://example.com/eol"});
    let gone = json!({
        "code": 410, "errno": 202, "error": "Gone",
        "message": "The service you are trying to connect no longer exists at this location."
    });
    let auth = basic("alice:secret");
    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/", vec![], None, 410),
        (Method::GET, "/v1/__heartbeat__", vec![], None, 410),
        (Method::GET, "/v1/buckets", vec![], None, 410),
        (Method::GET, "/v1/nothing", vec![], None, 410),
        (Method::PUT, "/v1/buckets/x", vec![("Authorization", &auth)], None, 410),
        (Method::GET, "/", vec![], None, 410),
        (Method::OPTIONS, "/v1/buckets", vec![("Origin", ORIGIN), ("Access-Control-Request-Method", "GET")], None, 410),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_eq!(reply.json, gone, "{method} {path}");
        let header = reply.header("alert").unwrap_or_else(|| panic!("{method} {path}: Alert header"));
        let parsed: Value = serde_json::from_str(header).expect("Alert is JSON");
        assert_eq!(parsed, alert, "{method} {path}");
    }
}

/// ERR-READONLY: writes → 405 errno 115; reads work; hello shows readonly and is cacheable.
#[tokio::test]
async fn readonly_mode() {
    let server = common::start_with("readonly = true").await;
    let hello = server.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.json["settings"]["readonly"], json!(true));
    assert_eq!(hello.header("cache-control"), Some("max-age=86400"));
    assert!(hello.header("expires").is_some(), "Expires expected on readonly hello");

    let expected = json!({"code": 405, "errno": 115, "error": "Method Not Allowed", "message": "Method not allowed on this endpoint."});
    for method in [Method::PUT, Method::POST, Method::PATCH, Method::DELETE] {
        for path in ["/v1/buckets/b1", "/v1/buckets", "/v1/batch", "/v1/buckets/default/collections/c"] {
            let reply = server.call(method.clone(), path, Some("alice:secret"), Some(json!({}))).await;
            assert_eq!(reply.status, 405, "{method} {path}: {reply:?}");
            assert_eq!(reply.json, expected, "{method} {path}");
        }
    }

    let list = server.call(Method::GET, "/v1/buckets", Some("alice:secret"), None).await;
    assert_eq!(list.status, 200, "reads still work: {list:?}");
    assert_eq!(list.json, json!({"data": []}));
    let anonymous = server.call(Method::GET, "/v1/buckets", None, None).await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
}

/// ERR-LIMITS (Kintoun): `max_body_bytes = 1024` → a 2 KiB body gets 413 errno 113.
#[tokio::test]
async fn body_size_limit_413() {
    let server = common::start_with("max_body_bytes = 1024").await;
    let auth = basic("alice:secret");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];

    let big = format!(r#"{{"data":{{"x":"{}"}}}}"#, "a".repeat(2048));
    let reply = raw(&server, Method::PUT, "/v1/buckets/big", &headers, Some(&big)).await;
    assert_eq!(reply.status, 413, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json.as_object().expect("error body");
    assert_eq!(body.get("code"), Some(&json!(413)));
    assert_eq!(body.get("errno"), Some(&json!(113)));
    assert_eq!(body.get("error"), Some(&json!("Request Entity Too Large")));
    for (key, value) in body {
        assert!(["code", "errno", "error", "message", "info", "details"].contains(&key.as_str()), "member {key}");
        assert!(!value.is_null(), "{key} must be omitted rather than null");
    }
    let missing = server.call(Method::GET, "/v1/buckets/big", Some("alice:secret"), None).await;
    assert_eq!(missing.status, 403, "the oversized request created nothing: {missing:?}");

    let small = format!(r#"{{"data":{{"x":"{}"}}}}"#, "a".repeat(500));
    let ok = raw(&server, Method::PUT, "/v1/buckets/small", &headers, Some(&small)).await;
    assert_eq!(ok.status, 201, "{ok:?}");
}

// ---------------------------------------------------------------------------------------------
// DNS-rebinding protection (Kintoun)
// ---------------------------------------------------------------------------------------------

/// A Host that is not a loopback name → 400 errno 107 (header `Host`).
#[tokio::test]
async fn non_loopback_host_is_rejected() {
    let server = common::start().await;
    let port = server.addr.port();
    let auth = basic("alice:secret");
    for host in [
        "evil.example.com".to_owned(),
        format!("evil.example.com:{port}"),
        format!("localhost.evil.example.com:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        for (path, headers) in [
            ("/v1/", vec![("Host", host.as_str())]),
            ("/v1/buckets", vec![("Host", host.as_str()), ("Authorization", &auth)]),
        ] {
            let reply = raw(&server, Method::GET, path, &headers, None).await;
            assert_eq!(reply.status, 400, "Host {host} {path}: {reply:?}");
            assert_eq!(reply.json["code"], json!(400), "Host {host}");
            assert_eq!(reply.json["errno"], json!(107), "Host {host}");
            assert_eq!(reply.json["error"], json!("Invalid parameters"), "Host {host}");
            let detail = &reply.json["details"][0];
            assert_eq!(detail["location"], json!("header"), "Host {host}");
            assert_eq!(detail["name"], json!("Host"), "Host {host}");
            let description = detail["description"].as_str().expect("description");
            assert_eq!(reply.json["message"], json!(format!("Host in header: {description}")), "Host {host}");
        }
    }
}

/// Loopback Host values are accepted and used to build absolute URLs.
#[tokio::test]
async fn loopback_hosts_are_accepted() {
    let server = common::start().await;
    let port = server.addr.port();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let hello = raw(&server, Method::GET, "/v1/", &[("Host", host.as_str())], None).await;
        assert_eq!(hello.status, 200, "Host {host}: {hello:?}");
        assert_eq!(hello.json["url"], json!(format!("http://{host}/v1/")), "Host {host}");

        let redirect = raw(&server, Method::GET, "/buckets", &[("Host", host.as_str())], None).await;
        assert_eq!(redirect.status, 307, "Host {host}: {redirect:?}");
        assert_eq!(redirect.header("location"), Some(format!("http://{host}/v1/buckets").as_str()), "Host {host}");
    }
}
