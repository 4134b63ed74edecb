//! Service endpoints, general protocol rules, Basic auth and error bodies, checked over HTTP
//! against the values the reference Kinto 26.5.0 returns for the same requests.
//!
//! Feature IDs (KINTO_API.md): URL-PREFIX, URL-VERSION-REDIRECT, URL-VERSION-404,
//! URL-TRAILING-SLASH, URL-404, URL-HELLO, URL-HELLO-USER, URL-HEARTBEAT, URL-LBHEARTBEAT,
//! URL-VERSION-JSON, GEN-JSON, GEN-CT-REQ, GEN-ACCEPT, GEN-BODY-SHAPE, GEN-RESP-HEADERS, GEN-405,
//! GEN-HEAD, AUTH-BASIC, AUTH-MULTI, PERM-401-403, ERR-BODY, ERR-ERRNO.

mod common;

use std::collections::BTreeSet;

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; ";

/// `basicauth:` ids the reference computes with `userid_hmac_secret =
/// "conformance-fixed-hmac-secret-0123456789"` (asked from the reference's hello `user.id`).
const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
const BOB_ID: &str = "basicauth:46a0f37c50d9f75b1545fac58e2900f067c38b24ba42bac5ce4ea6f0f7a9a593";

/// One request of a table-driven test: method, path, headers, raw body, expected status.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, u16);
/// A `Case` plus the expected errno and `error`.
type ErrorCase<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, u16, u64, &'a str);

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

/// Asserts `ETag` is the quoted `data.last_modified`.
fn assert_etag_matches_body(reply: &Reply) {
    let last_modified = reply.json["data"]["last_modified"].as_i64().expect("data.last_modified");
    assert_eq!(reply.header("etag"), Some(format!("\"{last_modified}\"").as_str()), "{reply:?}");
}

/// The comma-separated methods of an `Allow`-like header, as a set.
fn method_set(value: Option<&str>) -> BTreeSet<String> {
    value.expect("header present").split(',').map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Creates bucket `bid` as `auth` and returns the reply (201).
async fn create_bucket(server: &TestServer, bid: &str, auth: &str) -> Reply {
    let reply = server.call(Method::PUT, &format!("/v1/buckets/{bid}"), Some(auth), Some(json!({"data": {}}))).await;
    assert_eq!(reply.status, 201, "creating bucket {bid}: {reply:?}");
    reply
}

// ---------------------------------------------------------------------------------------------
// URL layout and service endpoints
// ---------------------------------------------------------------------------------------------

/// URL-PREFIX: the API lives under `/v1` (major of http_api_version "1.23").
#[tokio::test]
async fn url_prefix_api_lives_under_v1() {
    let server = common::start().await;
    let hello = server.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.json["http_api_version"], json!("1.23"));

    let buckets = server.call(Method::GET, "/v1/buckets", Some("alice:secret"), None).await;
    assert_eq!(buckets.status, 200, "{buckets:?}");
    assert_eq!(buckets.json, json!({"data": []}));
}

/// URL-VERSION-REDIRECT: paths outside `/vN` → 307 to `/v1<path><query>`, no cache headers.
#[tokio::test]
async fn version_redirect_for_paths_outside_v1() {
    let server = common::start().await;
    let root = &server.root;
    for (method, path, location) in [
        (Method::GET, "/", format!("{root}/v1/")),
        (Method::GET, "/buckets?x=1&y=2", format!("{root}/v1/buckets?x=1&y=2")),
        (Method::GET, "/foo/bar", format!("{root}/v1/foo/bar")),
        (Method::POST, "/buckets", format!("{root}/v1/buckets")),
    ] {
        let reply = server.call(method.clone(), path, None, None).await;
        assert_eq!(reply.status, 307, "{method} {path}: {reply:?}");
        assert_eq!(reply.header("location"), Some(location.as_str()), "{method} {path}");
        assert_eq!(reply.header("cache-control"), None, "{method} {path}: no cache headers by default");
        assert_eq!(reply.header("expires"), None, "{method} {path}: no cache headers by default");
    }
}

/// URL-VERSION-REDIRECT: OPTIONS outside `/vN` → 200 with an empty body (preflights never redirected).
#[tokio::test]
async fn version_redirect_options_answers_200_empty() {
    let server = common::start().await;
    let plain = raw(&server, Method::OPTIONS, "/buckets", &[], None).await;
    assert_eq!(plain.status, 200, "{plain:?}");
    assert_eq!(plain.text, "");
    assert_eq!(plain.header("location"), None);

    let preflight = raw(
        &server,
        Method::OPTIONS,
        "/",
        &[("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "GET")],
        None,
    )
    .await;
    assert_eq!(preflight.status, 200, "{preflight:?}");
    assert_eq!(preflight.text, "");
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
}

/// URL-VERSION-404: another version prefix → 404 errno 116.
#[tokio::test]
async fn other_version_prefix_is_404_errno_116() {
    let server = common::start().await;
    let expected = json!({
        "code": 404, "errno": 116, "error": "Not Found",
        "message": "The requested API version is not available on this server."
    });
    for path in ["/v2/buckets", "/v2", "/v0/"] {
        let reply = server.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
        assert_eq!(reply.json, expected, "{path}");
        assert_eq!(reply.header("content-type"), Some("application/json"), "{path}");
    }
    let preflight = raw(
        &server,
        Method::OPTIONS,
        "/v2/buckets",
        &[("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "GET")],
        None,
    )
    .await;
    assert_eq!(preflight.status, 404, "{preflight:?}");
    assert_eq!(preflight.json, expected);
}

/// URL-TRAILING-SLASH: unmatched `…/` → 307 without the slash(es), query kept, cacheable 1 h;
/// `/v1` → `/v1/`; preflights get the redirect too.
#[tokio::test]
async fn trailing_slash_redirects() {
    let server = common::start().await;
    let root = &server.root;
    for (path, location) in [
        ("/v1/buckets/?a=1", format!("{root}/v1/buckets?a=1")),
        ("/v1/buckets//", format!("{root}/v1/buckets")),
        ("/v1/nothing/", format!("{root}/v1/nothing")),
        ("/v1", format!("{root}/v1/")),
    ] {
        let reply = server.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, 307, "{path}: {reply:?}");
        assert_eq!(reply.header("location"), Some(location.as_str()), "{path}");
        assert_eq!(reply.header("cache-control"), Some("max-age=3600"), "{path}");
        assert!(reply.header("expires").is_some(), "{path}: Expires expected");
    }

    let preflight = raw(
        &server,
        Method::OPTIONS,
        "/v1/buckets/",
        &[("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "GET")],
        None,
    )
    .await;
    assert_eq!(preflight.status, 307, "{preflight:?}");
    assert_eq!(preflight.header("location"), Some(format!("{root}/v1/buckets").as_str()));
    assert_eq!(preflight.header("cache-control"), Some("max-age=3600"));
}

/// URL-404: unknown path under `/v1` → 404 errno 111, fixed message, no details.
#[tokio::test]
async fn unknown_route_is_404_errno_111() {
    let server = common::start().await;
    let expected = json!({
        "code": 404, "errno": 111, "error": "Not Found",
        "message": "The resource you are looking for could not be found."
    });
    for (method, path) in [
        (Method::GET, "/v1/nothing"),
        (Method::GET, "/v1/buckets/b1/nothing"),
        (Method::PUT, "/v1/buckets/b1/collections/c1/records/r1/nothing"),
    ] {
        let reply = server.call(method.clone(), path, Some("alice:secret"), None).await;
        assert_eq!(reply.status, 404, "{method} {path}: {reply:?}");
        assert_eq!(reply.json, expected, "{method} {path}");
    }
    let anonymous = server.call(Method::GET, "/v1/nothing", None, None).await;
    assert_eq!(anonymous.status, 404);
    assert_eq!(anonymous.json, expected);
}

/// URL-HELLO: anonymous hello fields (no `user`, no cache headers when not readonly).
#[tokio::test]
async fn hello_anonymous() {
    let server = common::start().await;
    let reply = server.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), None);
    let body = &reply.json;
    assert_eq!(body["project_name"], json!("kinto"));
    assert_eq!(body["project_version"], json!("26.5.0"));
    assert_eq!(body["http_api_version"], json!("1.23"));
    assert_eq!(body["project_docs"], json!("https://kinto.readthedocs.io/"));
    assert_eq!(body["url"], json!(format!("{}/v1/", server.root)));
    assert_eq!(body["settings"], json!({"batch_max_requests": 25, "readonly": false, "explicit_permissions": true}));
    assert!(body.get("user").is_none(), "no user when anonymous: {body}");
    assert!(body.get("eos").is_none(), "no eos unless configured: {body}");
    assert_eq!(
        body["capabilities"]["basicauth"],
        json!({
            "description": "Very basic authentication sessions. Not for production use.",
            "url": "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html"
        })
    );
    for (name, capability) in body["capabilities"].as_object().expect("capabilities object") {
        assert!(capability["description"].is_string(), "capability {name} needs a description");
        assert!(capability["url"].is_string(), "capability {name} needs a url");
    }
}

/// URL-HELLO-USER: `user` with id and principals only when credentials were accepted.
#[tokio::test]
async fn hello_with_credentials_shows_user() {
    let server = common::start().await;
    let reply = server.call(Method::GET, "/v1/", Some("alice:secret"), None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let user = &reply.json["user"];
    assert_eq!(user["id"], json!(ALICE_ID));
    let principals: Vec<&str> =
        user["principals"].as_array().expect("principals list").iter().filter_map(Value::as_str).collect();
    assert_eq!(principals.first(), Some(&ALICE_ID), "user id first: {principals:?}");
    assert_eq!(
        principals.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([ALICE_ID, "system.Everyone", "system.Authenticated"])
    );
    assert_eq!(principals.len(), 3, "{principals:?}");
    assert_eq!(reply.json["settings"]["batch_max_requests"], json!(25));
}

/// URL-HEARTBEAT: 200 and a JSON object whose values are all true.
#[tokio::test]
async fn heartbeat_all_true() {
    let server = common::start().await;
    let reply = server.call(Method::GET, "/v1/__heartbeat__", None, None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let checks = reply.json.as_object().expect("heartbeat object");
    assert!(!checks.is_empty(), "at least one check");
    for (name, value) in checks {
        assert_eq!(value, &json!(true), "check {name}");
    }
}

/// URL-LBHEARTBEAT: always `200 {}`.
#[tokio::test]
async fn lbheartbeat_is_empty_object() {
    let server = common::start().await;
    let reply = server.call(Method::GET, "/v1/__lbheartbeat__", None, None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json, json!({}));
}

/// URL-VERSION-JSON: Kintoun deviates from 26.5.0's 500 and always serves a version document.
#[tokio::test]
async fn version_json_is_served() {
    let server = common::start().await;
    let reply = server.call(Method::GET, "/v1/__version__", None, None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    for key in ["name", "version", "source", "commit"] {
        assert!(reply.json[key].is_string(), "{key} must be a string: {}", reply.json);
    }
}

// ---------------------------------------------------------------------------------------------
// General protocol rules
// ---------------------------------------------------------------------------------------------

/// GEN-JSON: `application/json`, non-ASCII escaped as upper-case `\uXXXX` (surrogate pairs),
/// `/` not escaped, big integers round-trip.
#[tokio::test]
async fn json_escaping_and_big_integers() {
    let server = common::start().await;
    let body = r#"{"data":{"name":"café ☃ 😀 /slash","big":12345678901234567890,"f":1.5}}"#;
    let auth = basic("alice:secret");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let created = raw(&server, Method::PUT, "/v1/buckets/b1", &headers, Some(body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.header("content-type"), Some("application/json"));
    assert_etag_matches_body(&created);

    let fetched = raw(&server, Method::GET, "/v1/buckets/b1", &headers[..1], None).await;
    assert_eq!(fetched.status, 200, "{fetched:?}");
    assert_eq!(fetched.header("content-type"), Some("application/json"));
    for reply in [&created, &fetched] {
        assert!(reply.text.is_ascii(), "response must be pure ASCII: {}", reply.text);
        assert!(reply.text.contains(r#""caf\u00E9 \u2603 \uD83D\uDE00 /slash""#), "escaping: {}", reply.text);
        assert!(!reply.text.contains(r"\/"), "slash must not be escaped: {}", reply.text);
        let data = &reply.json["data"];
        assert_eq!(data["name"], json!("café ☃ 😀 /slash"));
        assert_eq!(data["big"].to_string(), "12345678901234567890", "big integer round-trip: {}", reply.text);
        assert_eq!(data["f"].as_f64(), Some(1.5));
        assert_eq!(data["id"], json!("b1"));
    }
}

/// GEN-CT-REQ: non-JSON Content-Type on writes → 415 (before authentication); missing type and
/// parameters are accepted; GET/DELETE ignore the Content-Type.
#[tokio::test]
async fn request_content_type_rules() {
    let server = common::start().await;
    let auth = basic("alice:secret");
    let json_only = json!({
        "code": 415, "errno": 107, "error": "Invalid parameters",
        "message": "Content-Type header should be one of ['application/json']",
        "details": [{"location": "header", "name": "Content-Type",
                     "description": "Content-Type header should be one of ['application/json']"}]
    });

    let put = raw(
        &server,
        Method::PUT,
        "/v1/buckets/b2",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        Some(r#"{"data":{}}"#),
    )
    .await;
    assert_eq!(put.status, 415, "{put:?}");
    assert_eq!(put.json, json_only);

    let anonymous_post =
        raw(&server, Method::POST, "/v1/buckets", &[("Content-Type", "text/plain")], Some(r#"{"data":{}}"#)).await;
    assert_eq!(anonymous_post.status, 415, "415 comes before 401: {anonymous_post:?}");
    assert_eq!(anonymous_post.json, json_only);

    let missing =
        raw(&server, Method::PUT, "/v1/buckets/b3", &[("Authorization", &auth)], Some(r#"{"data":{"a":1}}"#)).await;
    assert_eq!(missing.status, 201, "missing Content-Type is accepted: {missing:?}");
    assert_eq!(missing.json["data"]["a"], json!(1));
    assert_eq!(missing.json["data"]["id"], json!("b3"));

    let charset = raw(
        &server,
        Method::PUT,
        "/v1/buckets/b4",
        &[("Authorization", &auth), ("Content-Type", "application/json; charset=utf-8")],
        Some(r#"{"data":{}}"#),
    )
    .await;
    assert_eq!(charset.status, 201, "{charset:?}");

    let patch = raw(
        &server,
        Method::PATCH,
        "/v1/buckets/b4",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        Some(r#"{"data":{}}"#),
    )
    .await;
    // Kinto lists the PATCH types in a set order that varies between runs: compare as a set.
    assert_eq!(patch.status, 415, "{patch:?}");
    assert_eq!(patch.json["code"], json!(415));
    assert_eq!(patch.json["errno"], json!(107));
    assert_eq!(patch.json["error"], json!("Invalid parameters"));
    let message = patch.json["message"].as_str().expect("message");
    let listed = message
        .strip_prefix("Content-Type header should be one of [")
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("unexpected message {message}"));
    assert_eq!(
        listed.split(", ").collect::<BTreeSet<_>>(),
        BTreeSet::from(["'application/json'", "'application/json-patch+json'", "'application/merge-patch+json'"])
    );
    assert_eq!(patch.json["details"], json!([{"location": "header", "name": "Content-Type", "description": message}]));

    let get = raw(
        &server,
        Method::GET,
        "/v1/buckets/b4",
        &[("Authorization", &auth), ("Content-Type", "foo/bar")],
        Some("garbage"),
    )
    .await;
    assert_eq!(get.status, 200, "{get:?}");
    assert_eq!(get.json["data"]["id"], json!("b4"));

    let delete = raw(
        &server,
        Method::DELETE,
        "/v1/buckets/b3",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        Some("garbage"),
    )
    .await;
    assert_eq!(delete.status, 200, "{delete:?}");
    assert_eq!(delete.json["data"]["id"], json!("b3"));
    assert_eq!(delete.json["data"]["deleted"], json!(true));
    assert_etag_matches_body(&delete);
}

/// GEN-ACCEPT: an Accept header excluding JSON → 406 on resource endpoints (before 401).
#[tokio::test]
async fn accept_header_406() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    let auth = basic("alice:secret");
    let expected = json!({
        "code": 406, "errno": 107, "error": "Invalid parameters",
        "message": "Accept header should be one of ['application/json']",
        "details": [{"location": "header", "name": "Accept",
                     "description": "Accept header should be one of ['application/json']"}]
    });

    let html =
        raw(&server, Method::GET, "/v1/buckets/b1", &[("Authorization", &auth), ("Accept", "text/html")], None).await;
    assert_eq!(html.status, 406, "{html:?}");
    assert_eq!(html.json, expected);
    assert_eq!(html.header("content-type"), Some("application/json"));

    let anonymous = raw(&server, Method::GET, "/v1/buckets", &[("Accept", "text/html")], None).await;
    assert_eq!(anonymous.status, 406, "406 comes before 401: {anonymous:?}");
    assert_eq!(anonymous.json, expected);

    for accept in ["*/*", "application/*", "application/json", "text/html, application/json;q=0.5"] {
        let ok =
            raw(&server, Method::GET, "/v1/buckets/b1", &[("Authorization", &auth), ("Accept", accept)], None).await;
        assert_eq!(ok.status, 200, "Accept: {accept}: {ok:?}");
    }

    let hello = raw(&server, Method::GET, "/v1/", &[("Accept", "text/html")], None).await;
    assert_eq!(hello.status, 200, "hello is not a resource endpoint: {hello:?}");
}

/// GEN-BODY-SHAPE: malformed or ill-shaped bodies → 400 errno 107 with Kinto's messages.
#[tokio::test]
async fn body_shape_errors() {
    let server = common::start().await;
    let auth = basic("alice:secret");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let put = |body: &'static str| raw(&server, Method::PUT, "/v1/buckets/bb", &headers, Some(body));

    let invalid = put(r#"{"data": "#).await;
    assert_eq!(invalid.status, 400, "{invalid:?}");
    assert_eq!(invalid.json["code"], json!(400));
    assert_eq!(invalid.json["errno"], json!(107));
    assert_eq!(invalid.json["error"], json!("Invalid parameters"));
    let message = invalid.json["message"].as_str().expect("message");
    assert!(message.starts_with("Invalid JSON"), "{message}");
    assert_eq!(invalid.json["details"][0], json!({"location": "body", "name": "", "description": message}));
    assert_eq!(invalid.json["details"][1], json!({"location": "body", "name": "", "description": "Required"}));

    let shape_error = |message: &str, name: &str, description: &str| {
        json!({
            "code": 400, "errno": 107, "error": "Invalid parameters", "message": message,
            "details": [{"location": "body", "name": name, "description": description}]
        })
    };
    let not_mapping = "\"[1, 2]\" is not a mapping type: Does not implement dict-like functionality.";
    let array = put("[1,2]").await;
    assert_eq!(array.status, 400, "{array:?}");
    assert_eq!(array.json, shape_error(not_mapping, "", not_mapping));

    let data_int = put(r#"{"data":1}"#).await;
    let one_not_mapping = "\"1\" is not a mapping type: Does not implement dict-like functionality.";
    assert_eq!(data_int.status, 400, "{data_int:?}");
    assert_eq!(data_int.json, shape_error(&format!("data in body: {one_not_mapping}"), "data", one_not_mapping));

    let data_array = put(r#"{"data":[1,2]}"#).await;
    assert_eq!(data_array.status, 400, "{data_array:?}");
    assert_eq!(data_array.json, shape_error(&format!("data in body: {not_mapping}"), "data", not_mapping));

    let permissions_int = put(r#"{"permissions":1}"#).await;
    assert_eq!(permissions_int.status, 400, "{permissions_int:?}");
    assert_eq!(
        permissions_int.json,
        shape_error(&format!("permissions in body: {one_not_mapping}"), "permissions", one_not_mapping)
    );

    let unknown = put(r#"{"foo":1}"#).await;
    let unrecognized = "Unrecognized keys in mapping: \"{'foo': 1}\"";
    assert_eq!(unknown.status, 400, "{unknown:?}");
    assert_eq!(unknown.json, shape_error(unrecognized, "", unrecognized));

    for scalar in [r#""str""#, "12", "null"] {
        let reply = put(scalar).await;
        assert_eq!(reply.status, 400, "{scalar}: {reply:?}");
        assert_eq!(
            reply.json,
            json!({
                "code": 400, "errno": 107, "error": "Invalid parameters",
                "message": "Should be a JSON object or an array",
                "details": [
                    {"location": "body", "name": "", "description": "Should be a JSON object or an array"},
                    {"location": "body", "name": "", "description": "Required"}
                ]
            }),
            "{scalar}"
        );
    }

    let missing = server.call(Method::GET, "/v1/buckets/bb", Some("alice:secret"), None).await;
    assert_eq!(missing.status, 403, "no failed request created the bucket: {missing:?}");
}

/// GEN-BODY-SHAPE: an empty body is treated as `{}`.
#[tokio::test]
async fn empty_body_is_empty_object() {
    let server = common::start().await;
    let auth = basic("alice:secret");
    let reply = raw(
        &server,
        Method::PUT,
        "/v1/buckets/bb",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        Some(""),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.json["data"]["id"], json!("bb"));
    assert_eq!(reply.json["permissions"], json!({"write": [ALICE_ID]}));
    assert_etag_matches_body(&reply);
}

/// GEN-RESP-HEADERS: `X-Content-Type-Options` and the exact CSP on every response, errors included.
#[tokio::test]
async fn security_headers_on_every_response() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    let auth = basic("alice:secret");
    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/", vec![], None, 200),
        (Method::GET, "/v1/__heartbeat__", vec![], None, 200),
        (Method::GET, "/v1/buckets/b1", vec![("Authorization", &auth)], None, 200),
        (Method::GET, "/v1/buckets", vec![], None, 401),
        (Method::GET, "/v1/buckets/zz", vec![("Authorization", &auth)], None, 403),
        (Method::GET, "/v1/nothing", vec![], None, 404),
        (Method::GET, "/v2/buckets", vec![], None, 404),
        (Method::PUT, "/v1/buckets", vec![], None, 405),
        (Method::PUT, "/v1/buckets/b2", vec![("Authorization", &auth), ("Content-Type", "text/plain")], None, 415),
        (Method::GET, "/v1/buckets/b1", vec![("Authorization", &auth), ("Accept", "text/html")], None, 406),
        (
            Method::PUT,
            "/v1/buckets/b2",
            vec![("Authorization", &auth), ("Content-Type", "application/json")],
            Some("[1]"),
            400,
        ),
        (Method::GET, "/v1/buckets/b1", vec![("Authorization", &auth), ("If-Match", "\"1\"")], None, 412),
        (Method::GET, "/buckets", vec![], None, 307),
        (Method::GET, "/v1/buckets/", vec![], None, 307),
        (
            Method::OPTIONS,
            "/v1/buckets",
            vec![("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "GET")],
            None,
            200,
        ),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{method} {path}");
        // HTTP parsers drop the trailing space Kinto sends after the last directive.
        assert_eq!(reply.header("content-security-policy").map(str::trim_end), Some(CSP.trim_end()), "{method} {path}");
    }
}

/// GEN-405: method not on the route → 405 errno 115 + `Allow` (no authentication needed).
#[tokio::test]
async fn method_not_allowed_405() {
    let server = common::start().await;
    let expected = json!({"code": 405, "errno": 115, "error": "Method Not Allowed", "message": "Method not allowed on this endpoint."});
    let plural = ["HEAD", "GET", "POST", "DELETE", "OPTIONS"];
    let object = ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let service = ["GET", "HEAD", "OPTIONS"];
    let cases: Vec<(Method, &str, Option<&str>, &[&str])> = vec![
        (Method::PUT, "/v1/buckets", Some("alice:secret"), &plural),
        (Method::PATCH, "/v1/buckets", Some("alice:secret"), &plural),
        (Method::PUT, "/v1/buckets", None, &plural),
        (Method::POST, "/v1/buckets/b1", Some("alice:secret"), &object),
        (Method::PUT, "/v1/buckets/b1/collections", Some("alice:secret"), &plural),
        (Method::POST, "/v1/buckets/b1/collections/c1", Some("alice:secret"), &object),
        (Method::POST, "/v1/", None, &service),
        (Method::DELETE, "/v1/", Some("alice:secret"), &service),
        (Method::PUT, "/v1/__heartbeat__", None, &service),
        (Method::POST, "/v1/__lbheartbeat__", None, &service),
        (Method::DELETE, "/v1/__version__", None, &service),
        (Method::GET, "/v1/batch", None, &["POST", "OPTIONS"]),
    ];
    for (method, path, auth, allow) in cases {
        let reply = server.call(method.clone(), path, auth, None).await;
        assert_eq!(reply.status, 405, "{method} {path}: {reply:?}");
        assert_eq!(reply.json, expected, "{method} {path}");
        assert_eq!(method_set(reply.header("allow")), set_of(allow), "{method} {path}");
    }
}

/// GEN-HEAD: every GET route answers HEAD with the same status and headers and no body.
#[tokio::test]
async fn head_mirrors_get() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    for (path, auth) in [
        ("/v1/", None),
        ("/v1/__heartbeat__", None),
        ("/v1/__lbheartbeat__", None),
        ("/v1/__version__", None),
        ("/v1/buckets", Some("alice:secret")),
        ("/v1/buckets/b1", Some("alice:secret")),
        ("/v1/buckets", None),
        ("/v1/nothing", None),
    ] {
        let get = server.call(Method::GET, path, auth, None).await;
        let head = server.call(Method::HEAD, path, auth, None).await;
        assert_eq!(head.status, get.status, "HEAD {path}: {head:?}");
        assert_eq!(head.text, "", "HEAD {path} has no body");
        for name in ["content-type", "etag", "last-modified", "cache-control", "www-authenticate"] {
            assert_eq!(head.header_all(name), get.header_all(name), "HEAD {path} as {auth:?}: header {name}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

/// AUTH-BASIC: `basicauth:` + hex HMAC-SHA256(userid_hmac_secret, "user:password"); any password
/// (even empty, even containing `:`) is accepted; UTF-8 then Latin-1 decoding; scheme is case-insensitive.
#[tokio::test]
async fn basic_auth_user_ids() {
    let server = common::start().await;
    let cases = [
        (basic("alice:secret"), ALICE_ID),
        (format!("basic {}", &basic("alice:secret")[6..]), ALICE_ID),
        (basic("alice:"), "basicauth:e33f4fa534ece704dca148ea69266af7cab61587d5fbb555a5dbfb8fd58ccc4e"),
        (basic("bob:"), "basicauth:3c507c3b01d5b62c47338b1fc2147aa403993738e12282977fd339d67fef7fc2"),
        (basic("bob:pa:ss"), BOB_ID),
        (basic("zoë:mot de passe"), "basicauth:bfab35095e463568cfa9fb28f12bd8032a5da2d3087207971c552487901e24f9"),
        // "zo\xEB:mot de passe" (Latin-1) decodes to the same text as the UTF-8 case above.
        (
            "Basic em/rOm1vdCBkZSBwYXNzZQ==".to_owned(),
            "basicauth:bfab35095e463568cfa9fb28f12bd8032a5da2d3087207971c552487901e24f9",
        ),
    ];
    for (authorization, expected) in cases {
        let reply = raw(&server, Method::GET, "/v1/", &[("Authorization", &authorization)], None).await;
        assert_eq!(reply.status, 200, "{authorization}: {reply:?}");
        assert_eq!(reply.json["user"]["id"], json!(expected), "{authorization}");
        assert_eq!(reply.json["user"]["principals"][0], json!(expected), "{authorization}");
    }
}

/// AUTH-MULTI: credentials no policy accepts make the request anonymous: no `user` on hello,
/// 401 (not 403) where authentication is required.
#[tokio::test]
async fn unusable_credentials_are_anonymous() {
    let server = common::start().await;
    let cases = [
        "Bearer xyz".to_owned(),
        "Basic".to_owned(),
        "Basic !!!notbase64".to_owned(),
        basic(":pw"),
        basic("nocolon"),
        "Digest username=\"alice\"".to_owned(),
    ];
    for authorization in cases {
        let hello = raw(&server, Method::GET, "/v1/", &[("Authorization", &authorization)], None).await;
        assert_eq!(hello.status, 200, "{authorization}: {hello:?}");
        assert!(hello.json.get("user").is_none(), "{authorization}: {}", hello.json);
        assert_eq!(hello.json["project_name"], json!("kinto"));

        let buckets = raw(&server, Method::GET, "/v1/buckets", &[("Authorization", &authorization)], None).await;
        assert_eq!(buckets.status, 401, "{authorization}: {buckets:?}");
        assert_eq!(buckets.json["errno"], json!(104));
    }
}

/// PERM-401-403: anonymous denial → 401 errno 104 with one `WWW-Authenticate` per policy;
/// authenticated denial → 403 errno 121.
#[tokio::test]
async fn denied_requests_401_vs_403() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    let unauthorized = json!({
        "code": 401, "errno": 104, "error": "Unauthorized",
        "message": "Please authenticate yourself to use this endpoint."
    });
    let forbidden =
        json!({"code": 403, "errno": 121, "error": "Forbidden", "message": "This user cannot access this resource."});

    for path in ["/v1/buckets", "/v1/buckets/b1", "/v1/buckets/missing"] {
        let reply = server.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        assert_eq!(reply.json, unauthorized, "{path}");
        assert_eq!(
            reply.header_all("www-authenticate"),
            vec!["Basic realm=\"Realm\"".to_owned(), "Basic realm=\"Realm\"".to_owned()],
            "{path}: one challenge per configured policy (account, basicauth)"
        );
    }

    for (path, auth) in [("/v1/buckets/missing", "alice:secret"), ("/v1/buckets/b1", "bob:pa:ss")] {
        let reply = server.call(Method::GET, path, Some(auth), None).await;
        assert_eq!(reply.status, 403, "{path} as {auth}: {reply:?}");
        assert_eq!(reply.json, forbidden, "{path} as {auth}");
        assert_eq!(reply.header("www-authenticate"), None, "{path}: no challenge on 403");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// ERR-BODY: `{code, errno, error, message?, info?, details?}`, `code` = HTTP status, optional
/// members omitted rather than null, `Content-Type: application/json`.
#[tokio::test]
async fn error_bodies_have_kinto_shape() {
    let server = common::start().await;
    create_bucket(&server, "b1", "alice:secret").await;
    let auth = basic("alice:secret");
    let allowed: BTreeSet<&str> = ["code", "errno", "error", "message", "info", "details"].into();
    let cases: Vec<ErrorCase> = vec![
        (Method::GET, "/v1/buckets", vec![], None, 401, 104, "Unauthorized"),
        (
            Method::PUT,
            "/v1/buckets/b2",
            vec![("Authorization", &auth), ("Content-Type", "application/json")],
            Some("{"),
            400,
            107,
            "Invalid parameters",
        ),
        (Method::GET, "/v1/buckets/b1/collections/nope", vec![("Authorization", &auth)], None, 404, 110, "Not Found"),
        (
            Method::GET,
            "/v1/buckets/b1/collections/nope/records",
            vec![("Authorization", &auth)],
            None,
            404,
            111,
            "Not Found",
        ),
        (Method::GET, "/v1/nothing", vec![], None, 404, 111, "Not Found"),
        (
            Method::GET,
            "/v1/buckets/b1",
            vec![("Authorization", &auth), ("If-Match", "\"1\"")],
            None,
            412,
            114,
            "Precondition Failed",
        ),
        (Method::PUT, "/v1/buckets", vec![], None, 405, 115, "Method Not Allowed"),
        (Method::GET, "/v2/", vec![], None, 404, 116, "Not Found"),
        (Method::GET, "/v1/buckets/zz", vec![("Authorization", &auth)], None, 403, 121, "Forbidden"),
        (
            Method::PUT,
            "/v1/buckets/b2",
            vec![("Content-Type", "text/plain")],
            Some("{}"),
            415,
            107,
            "Invalid parameters",
        ),
        (
            Method::GET,
            "/v1/buckets/b1",
            vec![("Authorization", &auth), ("Accept", "text/html")],
            None,
            406,
            107,
            "Invalid parameters",
        ),
    ];
    for (method, path, headers, body, status, errno, error) in cases {
        let reply = raw(&server, method.clone(), path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"), "{method} {path}");
        let object = reply.json.as_object().unwrap_or_else(|| panic!("{method} {path}: JSON object body: {reply:?}"));
        assert_eq!(object.get("code"), Some(&json!(status)), "{method} {path}");
        assert_eq!(object.get("errno"), Some(&json!(errno)), "{method} {path}");
        assert_eq!(object.get("error"), Some(&json!(error)), "{method} {path}");
        for (key, value) in object {
            assert!(allowed.contains(key.as_str()), "{method} {path}: unexpected member {key}");
            assert!(!value.is_null(), "{method} {path}: {key} must be omitted rather than null");
        }
        if let Some(message) = object.get("message") {
            assert!(message.is_string(), "{method} {path}: message is a string");
        }
    }
}

/// ERR-ERRNO / ERR-404: exact bodies for missing objects, missing parents and 412.
#[tokio::test]
async fn errno_bodies_for_missing_objects_and_preconditions() {
    let server = common::start().await;
    let created = create_bucket(&server, "b1", "alice:secret").await;
    let last_modified = created.json["data"]["last_modified"].as_i64().expect("last_modified");

    let missing = server.call(Method::GET, "/v1/buckets/b1/collections/nope", Some("alice:secret"), None).await;
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(
        missing.json,
        json!({"code": 404, "errno": 110, "error": "Not Found", "details": {"id": "nope", "resource_name": "collection"}})
    );

    let expected_parent = json!({
        "code": 404, "errno": 111, "error": "Not Found", "details": {"id": "nope", "resource_name": "collection"}
    });
    let parent = server.call(Method::GET, "/v1/buckets/b1/collections/nope/records", Some("alice:secret"), None).await;
    assert_eq!(parent.status, 404, "{parent:?}");
    assert_eq!(parent.json, expected_parent);
    let parent_put =
        server.call(Method::PUT, "/v1/buckets/b1/collections/nope/records/r1", Some("alice:secret"), None).await;
    assert_eq!(parent_put.status, 404, "{parent_put:?}");
    assert_eq!(parent_put.json, expected_parent);

    let auth = basic("alice:secret");
    let stale =
        raw(&server, Method::GET, "/v1/buckets/b1", &[("Authorization", &auth), ("If-Match", "\"1\"")], None).await;
    assert_eq!(stale.status, 412, "{stale:?}");
    assert_eq!(
        stale.json,
        json!({
            "code": 412, "errno": 114, "error": "Precondition Failed", "message": "Resource was modified meanwhile",
            "details": {"existing": {"id": "b1", "last_modified": last_modified}}
        })
    );
    assert_eq!(stale.header("etag"), Some(format!("\"{last_modified}\"").as_str()));
}
