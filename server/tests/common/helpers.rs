//! Request and assertion helpers shared by several test files.
#![allow(dead_code)]

use reqwest::Method;
use serde_json::Value;

use super::{Reply, TestServer};

pub async fn call(s: &TestServer, method: Method, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
    s.call(method, path, auth, body).await
}

pub async fn get(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    call(s, Method::GET, path, auth, None).await
}

pub async fn put(s: &TestServer, path: &str, auth: Option<&str>, body: Value) -> Reply {
    call(s, Method::PUT, path, auth, Some(body)).await
}

pub async fn post(s: &TestServer, path: &str, auth: Option<&str>, body: Value) -> Reply {
    call(s, Method::POST, path, auth, Some(body)).await
}

pub async fn patch(s: &TestServer, path: &str, auth: Option<&str>, body: Value) -> Reply {
    call(s, Method::PATCH, path, auth, Some(body)).await
}

pub async fn delete(s: &TestServer, path: &str, auth: Option<&str>) -> Reply {
    call(s, Method::DELETE, path, auth, None).await
}

/// Asserts that a `Next-Page` URL is `<base>?<expected params>&_token=<non-empty>` (any parameter order).
#[track_caller]
pub fn assert_next_page(url: &str, base: &str, expected: &[(&str, &str)]) {
    let (path, query) = url.split_once('?').unwrap_or_else(|| panic!("query string in {url}"));
    assert_eq!(path, base, "Next-Page base");
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let token = params.iter().position(|(k, _)| k == "_token").unwrap_or_else(|| panic!("_token in {url}"));
    assert!(!params.remove(token).1.is_empty(), "non-empty token");
    params.sort();
    let mut expected: Vec<(String, String)> =
        expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    expected.sort();
    assert_eq!(params, expected, "Next-Page parameters of {url}");
}

pub const UNAUTHORIZED: &str =
    r#"{"code":401,"errno":104,"error":"Unauthorized","message":"Please authenticate yourself to use this endpoint."}"#;

pub const FORBIDDEN: &str =
    r#"{"code":403,"errno":121,"error":"Forbidden","message":"This user cannot access this resource."}"#;
