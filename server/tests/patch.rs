//! PATCH variants (KINTO_API.md §7: PATCH-MERGE-DEFAULT, PATCH-MERGE-RFC7396, PATCH-JSON-PATCH, PATCH-PERMS,
//! PATCH-RESPONSE-BEHAVIOR) and TS-ALWAYS-BUMP. Expected values were checked against the reference Kinto 26.5.0
//! (light/diff against a reference without the history plugin, QUIRK-LIGHT-HISTORY).
#![allow(dead_code)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// harness
//
// `Srv` wraps a Kintoun test server. With `KINTO_REF_URL=http://127.0.0.1:PORT` in the environment the
// same tests run against a reference Kinto instead (settings passed to `start_with` are then ignored):
// every bucket id `bX` of a test is transparently renamed to a unique `<prefix>bX` in requests and
// renamed back in responses, so that tests sharing one reference server do not see each other.

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");
const ANON: Option<&str> = None;

/// `basicauth:` user ids of the users above under the reference HMAC secret (copied from the reference).
const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";

static NEXT_PREFIX: AtomicUsize = AtomicUsize::new(0);

struct Srv {
    /// `http://127.0.0.1:PORT` (no `/v1`).
    root: String,
    client: reqwest::Client,
    /// Bucket id prefix (empty against Kintoun).
    prefix: String,
    _server: Option<TestServer>,
}

async fn start() -> Srv {
    start_with("").await
}

async fn start_with(extra_toml: &str) -> Srv {
    if let Ok(root) = std::env::var("KINTO_REF_URL") {
        let n = NEXT_PREFIX.fetch_add(1, Ordering::SeqCst);
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        return Srv { root, client, prefix: format!("z{}x{n}", std::process::id()), _server: None };
    }
    let server = common::start_with(extra_toml).await;
    Srv { root: server.root.clone(), client: server.client.clone(), prefix: String::new(), _server: Some(server) }
}

impl Srv {
    fn fwd(&self, text: &str) -> String {
        if self.prefix.is_empty() {
            return text.to_owned();
        }
        text.replace("/buckets/b", &format!("/buckets/{}b", self.prefix))
            .replace("~1buckets~1b", &format!("~1buckets~1{}b", self.prefix))
    }

    fn back(&self, text: &str) -> String {
        if self.prefix.is_empty() { text.to_owned() } else { text.replace(&self.prefix, "") }
    }

    /// Sends a request; `path` is `/v1/...` or an absolute URL (e.g. a `Next-Page` value). A body gets
    /// `Content-Type: application/json` unless `headers` set one.
    async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = if path.starts_with("http") { self.fwd(path) } else { format!("{}{}", self.root, self.fwd(path)) };
        let mut builder = self.client.request(method, url);
        if let Some(auth) = auth {
            let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
            builder = builder.basic_auth(user, Some(password));
        }
        for (name, value) in headers {
            builder = builder.header(*name, self.fwd(value));
        }
        if let Some(body) = body {
            if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
                builder = builder.header("Content-Type", "application/json");
            }
            builder = builder.body(self.fwd(&body));
        }
        let reply = Reply::from(builder.send().await.expect("request")).await;
        if self.prefix.is_empty() {
            return reply;
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &reply.headers {
            let value = self.back(value.to_str().unwrap_or_default());
            headers.append(name.clone(), value.parse().expect("header value"));
        }
        let text = self.back(&reply.text);
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status: reply.status, headers, text, json }
    }

    async fn call(&self, method: Method, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
        self.send(method, path, auth, body.map(|b| b.to_string()), &[]).await
    }

    async fn call_h(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send(method, path, auth, body.map(|b| b.to_string()), headers).await
    }

    async fn get(&self, path: &str, auth: Option<&str>) -> Reply {
        self.call(Method::GET, path, auth, None).await
    }

    async fn head(&self, path: &str, auth: Option<&str>) -> Reply {
        self.call(Method::HEAD, path, auth, None).await
    }

    async fn put(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, auth, Some(body)).await
    }

    async fn post(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    async fn patch(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, auth, Some(body)).await
    }

    async fn delete(&self, path: &str, auth: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, auth, None).await
    }
}

/// `Last-Modified` value for a millisecond timestamp (second precision, floor).
fn http_date(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).expect("non-negative timestamp");
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Sorts every ACE of a `permissions` member (ACEs have set semantics).
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

/// A 400 errno 107 body with a single detail.
fn invalid(location: &str, name: Value, description: &str, message: &str) -> Value {
    json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": message,
           "details": [{"location": location, "name": name, "description": description}]})
}

fn unauthorized() -> Value {
    json!({"code": 401, "errno": 104, "error": "Unauthorized",
           "message": "Please authenticate yourself to use this endpoint."})
}

fn forbidden() -> Value {
    json!({"code": 403, "errno": 121, "error": "Forbidden", "message": "This user cannot access this resource."})
}

fn not_found(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 110, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

fn missing_parent(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 111, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

fn precondition_failed(existing: Option<Value>) -> Value {
    let mut body = json!({"code": 412, "errno": 114, "error": "Precondition Failed",
                          "message": "Resource was modified meanwhile"});
    if let Some(existing) = existing {
        body["details"] = json!({"existing": existing});
    }
    body
}

const RECORDS: &str = "/v1/buckets/b1/collections/c1/records";

fn record(id: &str) -> String {
    format!("{RECORDS}/{id}")
}

/// Creates bucket `b1` and collection `c1` as alice; returns the collection timestamp.
async fn setup(s: &Srv) -> i64 {
    let r = s.call(Method::PUT, "/v1/buckets/b1", ALICE, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.call(Method::PUT, "/v1/buckets/b1/collections/c1", ALICE, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    ts_of(&r)
}

// ------------------------------------------------------------------------------------------------
// helpers of this file

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";

fn alice_owned() -> Value {
    json!({"write": [ALICE_ID]})
}

/// PATCH with a raw body and a content type (plus extra headers).
async fn patch_as(s: &Srv, id: &str, content_type: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("Content-Type", content_type)];
    all.extend_from_slice(headers);
    s.send(Method::PATCH, &record(id), ALICE, Some(body.to_string()), &all).await
}

/// Creates `b1/c1` and record `id` with `data` (and `perms`), returns the record's timestamp.
async fn make(s: &Srv, id: &str, data: Value) -> i64 {
    let r = s.put(&record(id), ALICE, json!({"data": data})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    ts_of(&r)
}

/// Asserts a full 200 object response with `data` (+ id and the new last_modified > `after`) and `perms`;
/// returns the new timestamp.
#[track_caller]
fn expect_patched(r: &Reply, id: &str, data: Value, perms: Value, after: i64) -> i64 {
    assert_eq!(r.status, 200, "{}", r.text);
    let ts = ts_of(r);
    assert!(ts > after, "timestamp bumped: {ts} > {after}");
    let mut data = data;
    data["id"] = json!(id);
    data["last_modified"] = json!(ts);
    expect(r, 200, json!({"data": data, "permissions": perms}));
    expect_ts_headers(r, ts);
    ts
}

fn patch_failed(reason: &str) -> Value {
    let description = format!("JSON Patch operation failed: {reason}");
    invalid("body", Value::Null, &description, &format!("body: {description}"))
}

fn provide_data() -> Value {
    invalid(
        "body",
        json!("data"),
        "Provide at least one of data or permissions",
        "Provide at least one of data or permissions",
    )
}

// ------------------------------------------------------------------------------------------------
// PATCH-MERGE-DEFAULT

#[tokio::test]
async fn patch_merge_default_is_shallow() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": {"b": "c"}, "keep": 1, "n": 5})).await;

    let r = s.patch(&record("r1"), ALICE, json!({"data": {"a": {"z": 1}, "n": null, "new": [1]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 1, "n": null, "new": [1]}), alice_owned(), ts);
    // Without Content-Type the body is JSON too.
    let r = s.send(Method::PATCH, &record("r1"), ALICE, Some(r#"{"data": {"keep": 2}}"#.to_owned()), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 2, "n": null, "new": [1]}), alice_owned(), ts);
    // `application/json; charset=utf-8` as well.
    let r = patch_as(&s, "r1", "application/json; charset=utf-8", json!({"data": {"keep": 3}}), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 3, "n": null, "new": [1]}), alice_owned(), ts);

    let r = s.patch(&record("r1"), ALICE, json!({})).await;
    expect(&r, 400, provide_data());
    for member in ["data", "permissions"] {
        let r = s.patch(&record("r1"), ALICE, json!({member: null})).await;
        let description = "\"None\" is not a mapping type: Does not implement dict-like functionality.";
        expect(&r, 400, invalid("body", json!(member), description, &format!("{member} in body: {description}")));
    }
    // An id in the body must match.
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"id": "other"}})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            json!("id"),
            "Object id does not match existing object",
            "Object id does not match existing object",
        ),
    );
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"id": "r1", "x": 1}})).await;
    expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 3, "n": null, "new": [1], "x": 1}), alice_owned(), ts);
    // Missing object.
    let r = s.patch(&record("zz"), ALICE, json!({"data": {"x": 1}})).await;
    expect(&r, 404, not_found("zz", "record"));
}

// ------------------------------------------------------------------------------------------------
// PATCH-MERGE-RFC7396

#[tokio::test]
async fn patch_merge_rfc7396_is_recursive_and_null_removes() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": {"b": "c"}, "b": {"x": 1, "y": 2}, "c": 3, "l": [1, 2]})).await;

    let body = json!({"data": {"a": {"d": "e"}, "b": {"y": null}, "c": null, "l": [3]}});
    let r = patch_as(&s, "r1", MERGE_PATCH, body, &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"b": "c", "d": "e"}, "b": {"x": 1}, "l": [3]}), alice_owned(), ts);

    // Permissions: keys present replace, null clears; the editor stays in write.
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"permissions": {"read": ["u1", "u2"]}}), &[]).await;
    let perms = json!({"read": ["u1", "u2"], "write": [ALICE_ID]});
    let data = json!({"a": {"b": "c", "d": "e"}, "b": {"x": 1}, "l": [3]});
    let ts = expect_patched(&r, "r1", data.clone(), perms, ts);
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"permissions": {"read": null}}), &[]).await;
    let ts = expect_patched(&r, "r1", data.clone(), alice_owned(), ts);
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"permissions": {"write": null}}), &[]).await;
    let ts = expect_patched(&r, "r1", data.clone(), alice_owned(), ts);

    let r = patch_as(&s, "r1", MERGE_PATCH, json!({}), &[]).await;
    expect(&r, 400, provide_data());
    // Nested null inside a new object.
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"data": {"new": {"k": null, "v": 1}}}), &[]).await;
    let mut data = data;
    data["new"] = json!({"v": 1});
    expect_patched(&r, "r1", data, alice_owned(), ts);
}

// ------------------------------------------------------------------------------------------------
// PATCH-JSON-PATCH

#[tokio::test]
async fn patch_json_patch_data_and_permission_operations() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"c": 3, "l": [1, 2]})).await;

    // As kinto-http.js sends them: permission ops without value, escaped principals.
    let ops = json!([
        {"op": "add", "path": "/permissions/read/system.Everyone"},
        {"op": "add", "path": "/permissions/read/~1buckets~1b1~1groups~1g1"},
        {"op": "add", "path": "/data/z", "value": 3},
        {"op": "replace", "path": "/data/c", "value": "r"},
    ]);
    let r = patch_as(&s, "r1", JSON_PATCH, ops, &[]).await;
    let perms = json!({"read": ["system.Everyone", "/buckets/b1/groups/g1"], "write": [ALICE_ID]});
    let ts = expect_patched(&r, "r1", json!({"c": "r", "l": [1, 2], "z": 3}), perms, ts);

    let ops = json!([
        {"op": "remove", "path": "/permissions/read/system.Everyone"},
        {"op": "remove", "path": "/data/z"},
        {"op": "move", "from": "/data/c", "path": "/data/d"},
        {"op": "copy", "from": "/data/l", "path": "/data/l2"},
        {"op": "test", "path": "/data/d", "value": "r"},
        {"op": "add", "path": "/data/l/-", "value": 9},
        {"op": "add", "path": "/permissions/write/bob"},
    ]);
    let r = patch_as(&s, "r1", JSON_PATCH, ops, &[]).await;
    let perms = json!({"read": ["/buckets/b1/groups/g1"], "write": [ALICE_ID, "bob"]});
    let ts = expect_patched(&r, "r1", json!({"l": [1, 2, 9], "d": "r", "l2": [1, 2]}), perms, ts);

    // The editor cannot remove itself from write; a given value is ignored for read/write.
    let ops = json!([
        {"op": "remove", "path": format!("/permissions/write/{ALICE_ID}")},
        {"op": "add", "path": "/permissions/read/~1buckets~1b1~1groups~1g2", "value": "anything"},
    ]);
    let r = patch_as(&s, "r1", JSON_PATCH, ops, &[]).await;
    let perms = json!({"read": ["/buckets/b1/groups/g1", "/buckets/b1/groups/g2"], "write": [ALICE_ID, "bob"]});
    let ts = expect_patched(&r, "r1", json!({"l": [1, 2, 9], "d": "r", "l2": [1, 2]}), perms.clone(), ts);

    // An empty list of operations just bumps the timestamp.
    let r = patch_as(&s, "r1", JSON_PATCH, json!([]), &[]).await;
    expect_patched(&r, "r1", json!({"l": [1, 2, 9], "d": "r", "l2": [1, 2]}), perms, ts);
}

#[tokio::test]
async fn patch_json_patch_failures() {
    let s = start().await;
    setup(&s).await;
    make(&s, "r1", json!({"c": 3})).await;
    let before = s.get(&record("r1"), ALICE).await.json;

    let cases = [
        (
            json!([{"op": "remove", "path": "/data/missing"}]),
            patch_failed("can't remove a non-existent object 'missing'"),
        ),
        (
            json!([{"op": "replace", "path": "/data/missing", "value": 1}]),
            patch_failed("can't replace a non-existent object 'missing'"),
        ),
        (
            json!([{"op": "remove", "path": "/permissions/read/nobody"}]),
            patch_failed("can't remove a non-existent object 'nobody'"),
        ),
        (
            json!([{"op": "add", "path": "/permissions/record:create/x"}]),
            patch_failed("The operation does not contain a 'value' member"),
        ),
        // A failing op anywhere rolls back the whole patch.
        (
            json!([{"op": "add", "path": "/data/x", "value": 1}, {"op": "remove", "path": "/data/missing"}]),
            patch_failed("can't remove a non-existent object 'missing'"),
        ),
        (
            json!([{"op": "bogus", "path": "/data/x"}]),
            invalid(
                "body",
                json!("0.op"),
                "\"bogus\" is not one of test, add, remove, replace, move, copy",
                "0.op in body: \"bogus\" is not one of test, add, remove, replace, move, copy",
            ),
        ),
        (
            json!([{"op": "add", "path": "nopath", "value": 1}]),
            invalid(
                "body",
                json!("0.path"),
                "String does not match expected pattern",
                "0.path in body: String does not match expected pattern",
            ),
        ),
        (
            json!([{"op": "add", "path": "/data/id", "value": "other"}]),
            invalid(
                "body",
                json!("id"),
                "Object id does not match existing object",
                "Object id does not match existing object",
            ),
        ),
    ];
    for (ops, body) in cases {
        let r = patch_as(&s, "r1", JSON_PATCH, ops.clone(), &[]).await;
        assert_eq!(r.json, body, "{ops}");
        assert_eq!(r.status, 400, "{ops}");
    }
    // A failing test op.
    let r = patch_as(&s, "r1", JSON_PATCH, json!([{"op": "test", "path": "/data/c", "value": 4}]), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!((&r.json["errno"], &r.json["details"][0]["name"]), (&json!(107), &Value::Null));
    assert!(r.json["message"].as_str().expect("message").starts_with("body: JSON Patch operation failed: "));
    // Unknown keys in an operation.
    let r =
        patch_as(&s, "r1", JSON_PATCH, json!([{"op": "add", "path": "/data/x", "value": 1, "extra": 1}]), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["details"][0]["name"], json!("0"));
    // An object body is not a list of operations.
    let r = patch_as(&s, "r1", JSON_PATCH, json!({"op": "add", "path": "/data/x", "value": 1}), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!((&r.json["errno"], &r.json["error"]), (&json!(107), &json!("Invalid parameters")));
    assert!(r.json["message"].as_str().expect("message").ends_with("is not iterable"), "{}", r.text);

    // Nothing changed.
    assert_eq!(s.get(&record("r1"), ALICE).await.json, before);
}

// ------------------------------------------------------------------------------------------------
// PATCH-PERMS

#[tokio::test]
async fn patch_perms_plain_json() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": 1})).await;
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"read": ["u1"]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), json!({"read": ["u1"], "write": [ALICE_ID]}), ts);
    // null is ignored, untouched keys stay.
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"read": ["u3"], "write": null}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), json!({"read": ["u3"], "write": [ALICE_ID]}), ts);
    // Replacing write keeps the editor.
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"write": [BOB_ID]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), json!({"read": ["u3"], "write": [ALICE_ID, BOB_ID]}), ts);
    // [] clears.
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"b": 2}, "permissions": {"read": []}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1, "b": 2}), json!({"write": [ALICE_ID, BOB_ID]}), ts);
    // Bob edits: he is added (already there) and alice stays.
    let r = s.patch(&record("r1"), BOB, json!({"data": {"c": 3}})).await;
    expect_patched(&r, "r1", json!({"a": 1, "b": 2, "c": 3}), json!({"write": [ALICE_ID, BOB_ID]}), ts);
    // Invalid permission name.
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"admin": ["u1"]}})).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

// ------------------------------------------------------------------------------------------------
// PATCH-RESPONSE-BEHAVIOR

#[tokio::test]
async fn patch_response_behavior() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": 1, "c": "keep"})).await;

    let r = s
        .call_h(
            Method::PATCH,
            &record("r1"),
            ALICE,
            Some(json!({"data": {"a": 2, "q": 7, "c": "keep"}})),
            &[("Response-Behavior", "light")],
        )
        .await;
    expect(&r, 200, json!({"data": {"a": 2, "q": 7}}));
    let ts2 = r.etag();
    assert!(ts2 > ts);
    expect_ts_headers(&r, ts2);

    let r = s
        .call_h(
            Method::PATCH,
            &record("r1"),
            ALICE,
            Some(json!({"data": {"a": 3, "q": 7, "c": "keep"}})),
            &[("Response-Behavior", "diff")],
        )
        .await;
    expect(&r, 200, json!({"data": {}}));
    let ts3 = r.etag();
    assert!(ts3 > ts2);
    expect_ts_headers(&r, ts3);

    // Permissions-only light patch.
    let r = s
        .call_h(
            Method::PATCH,
            &record("r1"),
            ALICE,
            Some(json!({"permissions": {"read": ["x"]}})),
            &[("Response-Behavior", "light")],
        )
        .await;
    expect(&r, 200, json!({"data": {}}));

    let r = s
        .call_h(Method::PATCH, &record("r1"), ALICE, Some(json!({"data": {"a": 4}})), &[("Response-Behavior", "full")])
        .await;
    expect_patched(&r, "r1", json!({"a": 4, "q": 7, "c": "keep"}), json!({"read": ["x"], "write": [ALICE_ID]}), ts3);

    let r = s
        .call_h(Method::PATCH, &record("r1"), ALICE, Some(json!({"data": {"a": 5}})), &[("Response-Behavior", "bogus")])
        .await;
    expect(
        &r,
        400,
        invalid(
            "header",
            json!("Response-Behavior"),
            "\"bogus\" is not one of full, light, diff",
            "Response-Behavior in header: \"bogus\" is not one of full, light, diff",
        ),
    );
    assert_eq!(s.get(&record("r1"), ALICE).await.json["data"]["a"], json!(4));
}

// ------------------------------------------------------------------------------------------------
// TS-ALWAYS-BUMP

#[tokio::test]
async fn ts_always_bump_on_unchanged_writes() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": 1})).await;
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"data": {}}), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = patch_as(&s, "r1", JSON_PATCH, json!([]), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = s.call(Method::PUT, &record("r1"), ALICE, None).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"write": [ALICE_ID]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    // The list timestamp follows.
    let r = s.head(RECORDS, ALICE).await;
    expect_ts_headers(&r, ts);
}
