//! Polling for changes and the kinto.js sync flow (KINTO_API.md §5.5 SYNC-SINCE, SYNC-BEFORE, SYNC-TO,
//! SYNC-TOMBSTONES, SYNC-ETAG-UNFILTERED; §16 SYNC-FLOW-KINTOJS). Expected values were checked against the
//! reference Kinto 26.5.0.
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

fn bad_param(name: &str, description: &str) -> Value {
    let message = if description.contains(name) {
        description.to_owned()
    } else {
        format!("{name} in querystring: {description}")
    };
    invalid("querystring", json!(name), description, &message)
}

fn tombstone(id: &str, ts: i64) -> Value {
    json!({"id": id, "last_modified": ts, "deleted": true})
}

/// PUTs a record as alice and returns its data.
async fn put_record(s: &Srv, id: &str, data: Value) -> Value {
    let r = s.put(&record(id), ALICE, json!({"data": data})).await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    r.json["data"].clone()
}

/// DELETEs a record as alice and returns its tombstone.
async fn delete_record(s: &Srv, id: &str) -> Value {
    let r = s.delete(&record(id), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["data"].clone()
}

fn lm(v: &Value) -> i64 {
    v["last_modified"].as_i64().unwrap_or_else(|| panic!("last_modified in {v}"))
}

/// Asserts a 200 list with exactly `data` and the list ETag/Last-Modified.
#[track_caller]
fn expect_changes(r: &Reply, data: &[&Value], list_ts: i64) {
    expect(r, 200, json!({"data": data}));
    expect_ts_headers(r, list_ts);
}

/// A state with records r1..r3, then (after `since`): r4 created, r1 deleted, r3 updated.
struct History {
    since: i64,
    r2: Value,
    r3: Value,
    r4: Value,
    t1: Value,
    list_ts: i64,
}

async fn history(s: &Srv) -> History {
    setup(s).await;
    put_record(s, "r1", json!({"n": 1})).await;
    let r2 = put_record(s, "r2", json!({"n": 2})).await;
    let r3 = put_record(s, "r3", json!({"n": 3})).await;
    let since = lm(&r3);
    let r4 = put_record(s, "r4", json!({"n": 4})).await;
    let t1 = delete_record(s, "r1").await;
    let r3 = put_record(s, "r3", json!({"n": 33})).await;
    let list_ts = lm(&r3);
    History { since, r2, r3, r4, t1, list_ts }
}

// ------------------------------------------------------------------------------------------------
// SYNC-SINCE

#[tokio::test]
async fn sync_since_returns_changes_with_tombstones() {
    let s = start().await;
    let h = history(&s).await;

    for since in [h.since.to_string(), format!("%22{}%22", h.since)] {
        let r = s.get(&format!("{RECORDS}?_since={since}"), ALICE).await;
        expect_changes(&r, &[&h.r3, &h.t1, &h.r4], h.list_ts);
        assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
        let r = s.get(&format!("{RECORDS}?_since={since}&_sort=-last_modified"), ALICE).await;
        expect_changes(&r, &[&h.r3, &h.t1, &h.r4], h.list_ts);
        let r = s.get(&format!("{RECORDS}?_since={since}&_sort=last_modified"), ALICE).await;
        expect_changes(&r, &[&h.r4, &h.t1, &h.r3], h.list_ts);
    }
    // Nothing newer than the list timestamp: empty, same ETag.
    let r = s.get(&format!("{RECORDS}?_since=%22{}%22", h.list_ts), ALICE).await;
    expect_changes(&r, &[], h.list_ts);
    // `_since=0` returns everything including tombstones.
    let r = s.get(&format!("{RECORDS}?_since=0"), ALICE).await;
    expect_changes(&r, &[&h.r3, &h.t1, &h.r4, &h.r2], h.list_ts);
    // Counting ignores tombstones.
    let r = s.head(&format!("{RECORDS}?_since={}", h.since), ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("total-objects"), Some("2"));
    assert_eq!(r.header("total-records"), Some("2"));
    expect_ts_headers(&r, h.list_ts);
    // `_since` is `gt_last_modified`.
    let r = s.get(&format!("{RECORDS}?gt_last_modified={}", h.since), ALICE).await;
    expect_changes(&r, &[&h.r3, &h.t1, &h.r4], h.list_ts);
}

#[tokio::test]
async fn sync_since_before_to_invalid_values() {
    let s = start().await;
    setup(&s).await;
    let cases = [
        ("_since=abc", bad_param("_since", "\"abc\" is not a number")),
        ("_since=%22abc%22", bad_param("_since", "\"abc\" is not a number")),
        ("_since=-1", bad_param("_since", "-1 is less than minimum value 0")),
        ("_since=99999999999999", bad_param("_since", "Invalid value for _since")),
        ("_since=", bad_param("_since", "Invalid value for _since")),
        ("_before=abc", bad_param("_before", "\"abc\" is not a number")),
        ("_before=-5", bad_param("_before", "-5 is less than minimum value 0")),
        ("_before=99999999999999", bad_param("_before", "Invalid value for _before")),
        ("_to=abc", bad_param("_to", "\"abc\" is not a number")),
    ];
    for (query, body) in cases {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect(&r, 400, body);
    }
}

// ------------------------------------------------------------------------------------------------
// SYNC-BEFORE / SYNC-TO

#[tokio::test]
async fn sync_before_and_deprecated_to() {
    let s = start().await;
    let h = history(&s).await;
    let before = lm(&h.t1);
    for query in [format!("_before={before}"), format!("_before=%22{before}%22"), format!("lt_last_modified={before}")]
    {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect_changes(&r, &[&h.r4, &h.r2], h.list_ts);
        assert_eq!(r.header("alert"), None);
    }
    // Tombstones are included by `_before` too.
    let r = s.get(&format!("{RECORDS}?_before={}", h.list_ts), ALICE).await;
    expect_changes(&r, &[&h.t1, &h.r4, &h.r2], h.list_ts);
    // Combined window.
    let r = s.get(&format!("{RECORDS}?_since={}&_before={}", h.since, h.list_ts), ALICE).await;
    expect_changes(&r, &[&h.t1, &h.r4], h.list_ts);

    // `_to` behaves like `_before` and adds a deprecation Alert.
    let r = s.get(&format!("{RECORDS}?_to={before}"), ALICE).await;
    expect_changes(&r, &[&h.r4, &h.r2], h.list_ts);
    let alert: Value = serde_json::from_str(r.header("alert").expect("Alert header")).expect("Alert is JSON");
    assert_eq!(
        alert,
        json!({"code": "soft-eol", "message": "_to is now deprecated, you should use _before instead",
               "url": "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters"})
    );
}

// ------------------------------------------------------------------------------------------------
// SYNC-TOMBSTONES

#[tokio::test]
async fn sync_tombstones_appear_only_with_last_modified_filters() {
    let s = start().await;
    let h = history(&s).await;
    let r = s.get(RECORDS, ALICE).await;
    expect_changes(&r, &[&h.r3, &h.r4, &h.r2], h.list_ts);
    for query in [
        "_since=0".to_owned(),
        format!("_before={}", h.list_ts + 1),
        "min_last_modified=0".to_owned(),
        format!("max_last_modified={}", h.list_ts),
        "not_last_modified=1".to_owned(),
        format!("_to={}", h.list_ts + 1),
    ] {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect_changes(&r, &[&h.r3, &h.t1, &h.r4, &h.r2], h.list_ts);
    }
    let r = s.get(&format!("{RECORDS}?last_modified={}", lm(&h.t1)), ALICE).await;
    expect_changes(&r, &[&h.t1], h.list_ts);
    // Tombstones are paginated like other objects.
    let r = s.get(&format!("{RECORDS}?_since=0&_limit=2"), ALICE).await;
    expect_changes(&r, &[&h.r3, &h.t1], h.list_ts);
    let next = r.header("next-page").expect("Next-Page").to_owned();
    let r = s.get(&next, ALICE).await;
    expect_changes(&r, &[&h.r4, &h.r2], h.list_ts);
    assert_eq!(r.header("next-page"), None);
    // A GET of the deleted object is still a 404.
    let r = s.get(&record("r1"), ALICE).await;
    expect(&r, 404, not_found("r1", "record"));
}

#[tokio::test]
async fn sync_tombstones_follow_readability() {
    let s = start().await;
    setup(&s).await;
    let bob_read = json!({"read": [BOB_ID]});
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}, "permissions": bob_read.clone()})).await;
    assert_eq!(r.status, 201);
    let r3 = s.put(&record("r3"), ALICE, json!({"data": {"a": 3}, "permissions": bob_read})).await;
    assert_eq!(r3.status, 201);
    let r3 = r3.json["data"].clone();
    let r2 = put_record(&s, "r2", json!({"a": 2})).await;
    let t1 = delete_record(&s, "r1").await;

    // Bob could only read r1 through its own ACL, gone with the deletion: he never sees the tombstone.
    let r = s.get(&format!("{RECORDS}?_since=0"), BOB).await;
    expect_changes(&r, &[&r3], lm(&t1));
    // Alice (bucket owner) does.
    let r = s.get(&format!("{RECORDS}?_since=0"), ALICE).await;
    expect_changes(&r, &[&t1, &r2, &r3], lm(&t1));
    // A collection reader sees every tombstone.
    let r = s.patch("/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&format!("{RECORDS}?_since=0"), BOB).await;
    expect_changes(&r, &[&t1, &r2, &r3], lm(&t1));
}

// ------------------------------------------------------------------------------------------------
// SYNC-ETAG-UNFILTERED

#[tokio::test]
async fn sync_etag_is_the_whole_list_timestamp() {
    let s = start().await;
    setup(&s).await;
    let bob_read = json!({"read": [BOB_ID]});
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}, "permissions": bob_read})).await;
    let r1 = r.json["data"].clone();
    put_record(&s, "r2", json!({"a": 2})).await;
    let r3 = put_record(&s, "r3", json!({"a": 3})).await;
    let list_ts = lm(&r3);
    for query in ["", "?a=99", "?_limit=1", "?a=1", "?_since=0&_limit=1", "?_sort=a&_limit=2", "?_fields=id"] {
        let r = s.get(&format!("{RECORDS}{query}"), ALICE).await;
        assert_eq!(r.status, 200, "{query}");
        expect_ts_headers(&r, list_ts);
        let r = s.head(&format!("{RECORDS}{query}"), ALICE).await;
        expect_ts_headers(&r, list_ts);
    }
    // Bob only sees r1, but the ETag is the list's.
    let r = s.get(RECORDS, BOB).await;
    expect_changes(&r, &[&r1], list_ts);
    // Following pages keeps the ETag.
    let r = s.get(&format!("{RECORDS}?_limit=1"), ALICE).await;
    let r = s.get(r.header("next-page").expect("Next-Page"), ALICE).await;
    expect_ts_headers(&r, list_ts);
    // A deletion moves it.
    let t = delete_record(&s, "r2").await;
    let r = s.get(&format!("{RECORDS}?a=99"), ALICE).await;
    expect_changes(&r, &[], lm(&t));
}

// ------------------------------------------------------------------------------------------------
// SYNC-FLOW-KINTOJS

/// Pulls like kinto.js: `_since="<etag>"&_sort=-last_modified`, following every Next-Page; returns the
/// records of all pages and the ETag of the last page (quotes stripped).
async fn pull(s: &Srv, since: Option<i64>, extra: &str) -> (Vec<Value>, i64) {
    let mut url = format!("{RECORDS}?_sort=-last_modified{extra}");
    if let Some(since) = since {
        url = format!("{RECORDS}?_since=%22{since}%22&_sort=-last_modified{extra}");
    }
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let r = s.get(&url, ALICE).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        all.extend(r.json["data"].as_array().expect("list").iter().cloned());
        pages += 1;
        assert!(pages < 20);
        match r.header("next-page") {
            Some(next) => url = next.to_owned(),
            None => return (all, r.etag()),
        }
    }
}

#[tokio::test]
async fn sync_flow_kintojs() {
    let s = start().await;
    setup(&s).await;
    // Another device populated the collection.
    let mut server_side = Vec::new();
    for i in 1..=5 {
        server_side.push(put_record(&s, &format!("r{i}"), json!({"title": format!("t{i}")})).await);
    }

    // 2. metadata pull, with an ignored cache buster.
    let r = s.get("/v1/buckets/b1/collections/c1?_expected=123", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["id"], json!("c1"));

    // 3. first pull (no _since), in pages of 2.
    let (first, last_modified) = pull(&s, None, "&_limit=2").await;
    let expected: Vec<Value> = server_side.iter().rev().cloned().collect();
    assert_eq!(first, expected);
    assert_eq!(last_modified, lm(&server_side[4]));
    // Nothing changed: an empty list with the same ETag (no "server was flushed").
    let (again, etag) = pull(&s, Some(last_modified), "").await;
    assert_eq!(again, Vec::<Value>::new());
    assert_eq!(etag, last_modified);

    // Concurrent remote changes: r2 updated, r3 deleted, r6 created, x1 created.
    let r2_remote = put_record(&s, "r2", json!({"title": "remote"})).await;
    let t3 = delete_record(&s, "r3").await;
    let r6 = put_record(&s, "r6", json!({"title": "t6"})).await;
    let x1_remote = put_record(&s, "x1", json!({"title": "remote x1"})).await;

    // 4. push local changes in one batch.
    let rec = |id: &str| format!("/buckets/b1/collections/c1/records/{id}");
    let lm_of = |i: usize| format!("\"{}\"", lm(&server_side[i]));
    let batch = json!({
        "defaults": {"headers": {"Accept": "application/json"}},
        "requests": [
            {"method": "PUT", "path": rec("n1"), "headers": {"If-None-Match": "*"},
             "body": {"data": {"id": "n1", "title": "new"}}},
            {"method": "PUT", "path": rec("r1"), "headers": {"If-Match": lm_of(0)},
             "body": {"data": {"id": "r1", "title": "local r1"}}},
            {"method": "PUT", "path": rec("r2"), "headers": {"If-Match": lm_of(1)},
             "body": {"data": {"id": "r2", "title": "local r2"}}},
            {"method": "DELETE", "path": rec("r4"), "headers": {"If-Match": lm_of(3)}},
            {"method": "DELETE", "path": rec("r3"), "headers": {"If-Match": lm_of(2)}},
            {"method": "PUT", "path": rec("x1"), "headers": {"If-None-Match": "*"},
             "body": {"data": {"id": "x1", "title": "local x1"}}},
        ]
    });
    let r = s.post("/v1/batch", ALICE, batch).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let responses = r.json["responses"].as_array().expect("responses").clone();
    assert_eq!(responses.len(), 6);
    let statuses: Vec<i64> = responses.iter().map(|x| x["status"].as_i64().expect("status")).collect();
    assert_eq!(statuses, vec![201, 200, 412, 200, 404, 412]);
    let paths: Vec<&str> = responses.iter().map(|x| x["path"].as_str().expect("path")).collect();
    assert_eq!(
        paths,
        ["n1", "r1", "r2", "r4", "r3", "x1"].map(|id| format!("/v1/buckets/b1/collections/c1/records/{id}"))
    );
    let n1 = responses[0]["body"]["data"].clone();
    assert_eq!(n1["title"], json!("new"));
    let r1 = responses[1]["body"]["data"].clone();
    assert_eq!(r1["title"], json!("local r1"));
    assert_eq!(responses[2]["body"], precondition_failed(Some(r2_remote.clone())));
    assert_eq!(responses[2]["headers"]["ETag"], json!(format!("\"{}\"", lm(&r2_remote))));
    let t4 = responses[3]["body"]["data"].clone();
    assert_eq!(t4, tombstone("r4", lm(&t4)));
    assert_eq!(responses[4]["body"], not_found("r3", "record"));
    assert_eq!(responses[5]["body"], precondition_failed(Some(x1_remote.clone())));
    for (i, x) in responses.iter().enumerate() {
        if let Some(ts) = x["body"]["data"]["last_modified"].as_i64() {
            assert_eq!(x["headers"]["ETag"], json!(format!("\"{ts}\"")), "subresponse {i}");
        }
    }

    // 5. CLIENT_WINS re-push of the r2 conflict with the remote timestamp.
    let batch = json!({"requests": [
        {"method": "PUT", "path": rec("r2"), "headers": {"If-Match": format!("\"{}\"", lm(&r2_remote))},
         "body": {"data": {"id": "r2", "title": "local r2"}}},
    ]});
    let r = s.post("/v1/batch", ALICE, batch).await;
    assert_eq!(r.json["responses"][0]["status"], json!(200), "{}", r.text);
    let r2 = r.json["responses"][0]["body"]["data"].clone();

    // 6. final pull, excluding the published ids.
    let (changes, etag) = pull(&s, Some(last_modified), "&exclude_id=n1,r1,r4,r2").await;
    assert_eq!(changes, vec![x1_remote.clone(), r6.clone(), t3.clone()]);
    assert_eq!(etag, lm(&r2));
    // Without exclusion everything since the first pull shows up, newest first.
    let (changes, _) = pull(&s, Some(last_modified), "&_limit=3").await;
    let mut expected = vec![r2.clone(), t4, r1, n1, x1_remote, r6, t3];
    expected.sort_by_key(|v| -lm(v));
    assert_eq!(changes, expected);
    // 7. next sync: nothing new.
    let (changes, again) = pull(&s, Some(etag), "").await;
    assert!(changes.is_empty());
    assert_eq!(again, etag);
}
