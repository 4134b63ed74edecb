//! `Srv`: a test server that can also be the reference Kinto. With `KINTO_REF_URL=http://127.0.0.1:PORT`
//! in the environment, tests written with it run against a reference Kinto instead (settings passed to
//! `start_with` are then ignored): every bucket id `bX` of a test is transparently renamed to a unique
//! `<prefix>bX` in requests and renamed back in responses, so that tests sharing one reference server do not
//! see each other. Plus the request and assertion helpers those tests share.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use super::{Reply, TestServer};

// `Srv` wraps a Kintoun test server. With `KINTO_REF_URL=http://127.0.0.1:PORT` in the environment the
// same tests run against a reference Kinto instead (settings passed to `start_with` are then ignored):
// every bucket id `bX` of a test is transparently renamed to a unique `<prefix>bX` in requests and
// renamed back in responses, so that tests sharing one reference server do not see each other.

pub const ALICE: Option<&str> = Some("alice:secret");
pub const BOB: Option<&str> = Some("bob:secret");
pub const ANON: Option<&str> = None;

/// `basicauth:` user ids of the users above under the reference HMAC secret (copied from the reference).
pub const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
pub const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";

pub static NEXT_PREFIX: AtomicUsize = AtomicUsize::new(0);

pub struct Srv {
    /// `http://127.0.0.1:PORT` (no `/v1`).
    pub root: String,
    pub client: reqwest::Client,
    /// Bucket id prefix (empty against Kintoun).
    pub prefix: String,
    _server: Option<TestServer>,
}

pub async fn start() -> Srv {
    start_with("").await
}

pub async fn start_with(extra_toml: &str) -> Srv {
    if let Ok(root) = std::env::var("KINTO_REF_URL") {
        let n = NEXT_PREFIX.fetch_add(1, Ordering::SeqCst);
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        return Srv { root, client, prefix: format!("z{}x{n}", std::process::id()), _server: None };
    }
    let server = super::start_with(extra_toml).await;
    Srv { root: server.root.clone(), client: server.client.clone(), prefix: String::new(), _server: Some(server) }
}

impl Srv {
    pub fn fwd(&self, text: &str) -> String {
        if self.prefix.is_empty() {
            return text.to_owned();
        }
        text.replace("/buckets/b", &format!("/buckets/{}b", self.prefix))
            .replace("~1buckets~1b", &format!("~1buckets~1{}b", self.prefix))
    }

    pub fn back(&self, text: &str) -> String {
        if self.prefix.is_empty() { text.to_owned() } else { text.replace(&self.prefix, "") }
    }

    /// Sends a request; `path` is `/v1/...` or an absolute URL (e.g. a `Next-Page` value). A body gets
    /// `Content-Type: application/json` unless `headers` set one.
    pub async fn send(
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

    pub async fn call(&self, method: Method, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
        self.send(method, path, auth, body.map(|b| b.to_string()), &[]).await
    }

    pub async fn call_h(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send(method, path, auth, body.map(|b| b.to_string()), headers).await
    }

    pub async fn get(&self, path: &str, auth: Option<&str>) -> Reply {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn head(&self, path: &str, auth: Option<&str>) -> Reply {
        self.call(Method::HEAD, path, auth, None).await
    }

    pub async fn put(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, auth, Some(body)).await
    }

    pub async fn post(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    pub async fn patch(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, auth, Some(body)).await
    }

    pub async fn delete(&self, path: &str, auth: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, auth, None).await
    }
}

/// `Last-Modified` value for a millisecond timestamp (second precision, floor).
pub fn http_date(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).expect("non-negative timestamp");
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Sorts every ACE of a `permissions` member (ACEs have set semantics).
pub fn normalize(mut body: Value) -> Value {
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
pub fn expect(r: &Reply, status: u16, body: Value) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(normalize(r.json.clone()), normalize(body), "body");
}

/// Asserts `ETag: "<ts>"` and the matching `Last-Modified`.
#[track_caller]
pub fn expect_ts_headers(r: &Reply, ts: i64) {
    assert_eq!(r.header("etag"), Some(format!("\"{ts}\"").as_str()), "ETag; body was {}", r.text);
    assert_eq!(r.header("last-modified"), Some(http_date(ts).as_str()), "Last-Modified");
}

pub fn ts_of(r: &Reply) -> i64 {
    r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("integer last_modified: {}", r.text))
}

pub fn ids(r: &Reply) -> Vec<String> {
    r.json["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data list: {}", r.text))
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A 400 errno 107 body with a single detail.
pub fn invalid(location: &str, name: Value, description: &str, message: &str) -> Value {
    json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": message,
           "details": [{"location": location, "name": name, "description": description}]})
}

pub fn unauthorized() -> Value {
    json!({"code": 401, "errno": 104, "error": "Unauthorized",
           "message": "Please authenticate yourself to use this endpoint."})
}

pub fn forbidden() -> Value {
    json!({"code": 403, "errno": 121, "error": "Forbidden", "message": "This user cannot access this resource."})
}

pub fn not_found(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 110, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

pub fn missing_parent(id: &str, kind: &str) -> Value {
    json!({"code": 404, "errno": 111, "error": "Not Found", "details": {"id": id, "resource_name": kind}})
}

pub fn precondition_failed(existing: Option<Value>) -> Value {
    let mut body = json!({"code": 412, "errno": 114, "error": "Precondition Failed",
                          "message": "Resource was modified meanwhile"});
    if let Some(existing) = existing {
        body["details"] = json!({"existing": existing});
    }
    body
}

pub const RECORDS: &str = "/v1/buckets/b1/collections/c1/records";

pub fn record(id: &str) -> String {
    format!("{RECORDS}/{id}")
}

/// Creates bucket `b1` and collection `c1` as alice; returns the collection timestamp.
pub async fn setup(s: &Srv) -> i64 {
    let r = s.call(Method::PUT, "/v1/buckets/b1", ALICE, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.call(Method::PUT, "/v1/buckets/b1/collections/c1", ALICE, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    ts_of(&r)
}
