//! `POST /v1/batch` (BATCH-*): validates the batch, merges `defaults` into each subrequest,
//! runs every resource subrequest in order inside one storage transaction, and answers one
//! response per subrequest. A 409 rolls the whole batch back; a 5xx fails it.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Detail};
use crate::http::dispatch::{self, Prepared};
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::state::AppState;
use crate::resource::body::{BodyInput, py_repr, py_str};
use crate::resource::{self, Call};

const METHODS: &[&str] = &["GET", "HEAD", "DELETE", "TRACE", "POST", "PUT", "PATCH"];
const FIELDS: &[&str] = &["method", "path", "headers", "body"];

/// One validated subrequest.
#[derive(Debug, Clone, PartialEq)]
struct SubRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

fn invalid(name: &str, description: impl Into<String>) -> ApiError {
    ApiError::Invalid(vec![Detail::body(name, description)])
}

fn unknown_keys(map: &Map<String, Value>, allowed: &[&str]) -> Option<String> {
    let extra: Map<String, Value> =
        map.iter().filter(|(k, _)| !allowed.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    (!extra.is_empty()).then(|| format!("Unrecognized keys in mapping: \"{}\"", py_repr(&Value::Object(extra))))
}

/// Deep merge: `defaults` under `request`, request values winning.
fn merge(defaults: &Value, request: &Value) -> Value {
    match (defaults, request) {
        (Value::Object(base), Value::Object(over)) => {
            let mut merged = base.clone();
            for (key, value) in over {
                let combined = match merged.get(key) {
                    Some(existing) => merge(existing, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), combined);
            }
            Value::Object(merged)
        }
        (_, over) => over.clone(),
    }
}

fn parse_subrequest(index: usize, value: &Value) -> Result<SubRequest, ApiError> {
    let name = format!("requests.{index}");
    let Value::Object(map) = value else {
        return Err(invalid(
            &name,
            format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(value)),
        ));
    };
    if let Some(message) = unknown_keys(map, FIELDS) {
        return Err(invalid(&name, message));
    }
    let method = match map.get("method") {
        None => "GET".to_owned(),
        Some(Value::String(m)) if METHODS.contains(&m.as_str()) => m.clone(),
        Some(other) => {
            return Err(invalid(
                &format!("{name}.method"),
                format!("\"{}\" is not one of {}", py_str(other), METHODS.join(", ")),
            ));
        }
    };
    let path = match map.get("path") {
        None => return Err(invalid(&format!("{name}.path"), "Required")),
        Some(Value::String(p)) if p.starts_with('/') => p.clone(),
        Some(_) => return Err(invalid(&format!("{name}.path"), "String does not match expected pattern")),
    };
    let headers = match map.get("headers") {
        None => Vec::new(),
        Some(Value::Object(h)) => {
            let mut headers = Vec::with_capacity(h.len());
            for (key, value) in h {
                match value {
                    Value::String(v) => headers.push((key.clone(), v.clone())),
                    _ => {
                        return Err(invalid(
                            &format!("{name}.headers"),
                            format!("{} contains non string value", py_repr(&Value::Object(h.clone()))),
                        ));
                    }
                }
            }
            headers
        }
        Some(other) => {
            return Err(invalid(
                &format!("{name}.headers"),
                format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(other)),
            ));
        }
    };
    let body = match map.get("body") {
        None => None,
        // Arrays are accepted too, so JSON-Patch bodies can be batched.
        Some(body @ (Value::Object(_) | Value::Array(_))) => Some(body.clone()),
        Some(other) => {
            return Err(invalid(
                &format!("{name}.body"),
                format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(other)),
            ));
        }
    };
    Ok(SubRequest { method, path, headers, body })
}

/// Validates the batch body (BATCH-REQUEST, BATCH-LIMIT).
fn parse_batch(value: &Value, max: Option<usize>) -> Result<Vec<SubRequest>, ApiError> {
    let Value::Object(map) = value else {
        return Err(invalid(
            "",
            format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(value)),
        ));
    };
    if let Some(message) = unknown_keys(map, &["defaults", "requests"]) {
        return Err(invalid("", message));
    }
    let defaults = match map.get("defaults") {
        None => Value::Object(Map::new()),
        Some(Value::Object(d)) => {
            let allowed = FIELDS;
            if let Some(message) = unknown_keys(d, allowed) {
                return Err(invalid("defaults", message));
            }
            Value::Object(d.clone())
        }
        Some(other) => {
            return Err(invalid(
                "defaults",
                format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(other)),
            ));
        }
    };
    let requests = match map.get("requests") {
        None => return Err(invalid("requests", "Required")),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(invalid("requests", format!("\"{}\" is not iterable", py_str(other)))),
    };
    if let Some(max) = max {
        if requests.len() > max {
            return Err(invalid("requests", format!("Number of requests is limited to {max}")));
        }
    }
    let mut parsed = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        let sub = parse_subrequest(index, &merge(&defaults, request))?;
        if sub.path.contains("/batch") {
            return Err(invalid("requests", "Recursive call on /batch endpoint is forbidden."));
        }
        parsed.push(sub);
    }
    Ok(parsed)
}

/// The subrequest as a request of its own: the outer headers, overridden by its own.
fn build_request(outer: &ApiRequest, sub: &SubRequest) -> ApiRequest {
    let mut headers: HeaderMap = outer.headers.clone();
    headers.remove(http::header::CONTENT_LENGTH);
    for (name, value) in &sub.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    let body = match &sub.body {
        Some(body) => {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
            bytes::Bytes::from(crate::json::to_vec(body))
        }
        None => bytes::Bytes::new(),
    };
    let full =
        if sub.path == "/v1" || sub.path.starts_with("/v1/") { sub.path.clone() } else { format!("/v1{}", sub.path) };
    let (path, query) = match full.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (full, String::new()),
    };
    ApiRequest {
        method: Method::from_bytes(sub.method.as_bytes()).unwrap_or(Method::GET),
        path,
        query,
        headers,
        body,
        origin_url: outer.origin_url.clone(),
        transport_identity: outer.transport_identity.clone(),
    }
}

/// A redirect answer is followed once, re-sending method, headers and body.
fn follow_redirect(request: &ApiRequest, response: &ApiResponse) -> Option<ApiRequest> {
    if response.status.as_u16() != 307 {
        return None;
    }
    let location = response.headers.get(http::header::LOCATION)?.to_str().ok()?;
    let target = location.strip_prefix(&request.origin_url).unwrap_or(location);
    let mut next = request.clone();
    match target.split_once('?') {
        Some((path, query)) => {
            next.path = path.to_owned();
            next.query = query.to_owned();
        }
        None => {
            next.path = target.to_owned();
            next.query = String::new();
        }
    }
    Some(next)
}

/// What a subrequest became before the transaction.
enum Slot {
    Answered(ApiRequest, Result<ApiResponse, ApiError>),
    Resource(ApiRequest, usize),
}

/// Header names as Kinto writes them in subresponses (`ETag`, `Content-Type`).
fn title_case(name: &str) -> String {
    match name {
        "etag" => "ETag".to_owned(),
        "www-authenticate" => "WWW-Authenticate".to_owned(),
        _ => name
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

fn subresponse(state: &AppState, request: &ApiRequest, outcome: Result<ApiResponse, ApiError>) -> Value {
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => ApiResponse::from_error(&err, &state.settings.error_info_link, state.settings.retry_after_seconds),
    };
    dispatch::finish(state, request, &mut response);
    let mut headers = Map::new();
    for (name, value) in &response.headers {
        if let Ok(text) = value.to_str() {
            headers.insert(title_case(name.as_str()), json!(text));
        }
    }
    let body = if response.body.is_empty() {
        json!("")
    } else {
        serde_json::from_slice::<Value>(&response.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into_owned()))
    };
    let path = percent_encoding::percent_decode_str(&request.path).decode_utf8_lossy().into_owned();
    json!({"status": response.status.as_u16(), "path": path, "headers": headers, "body": body})
}

/// Runs a batch.
pub async fn run(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let input = BodyInput::parse(&request.body);
    let subrequests = parse_batch(input.value()?, state.settings.batch_max_requests)?;
    let mut slots = Vec::with_capacity(subrequests.len());
    let mut calls: Vec<Call> = Vec::new();
    for sub in &subrequests {
        let mut api = build_request(request, sub);
        let mut prepared = dispatch::prepare(state, &api).await;
        if let Ok(Prepared::Done(response)) = &prepared {
            if let Some(next) = follow_redirect(&api, response) {
                api = next;
                prepared = dispatch::prepare(state, &api).await;
            }
        }
        match prepared {
            Ok(Prepared::Done(response)) => slots.push(Slot::Answered(api, Ok(response))),
            Ok(Prepared::Service(route, user_id)) => {
                let outcome = dispatch::service_response(state, &api, &route, user_id).await;
                slots.push(Slot::Answered(api, outcome));
            }
            Ok(Prepared::Resource(call)) if call.attachment.is_some() => slots.push(Slot::Answered(
                api,
                Err(ApiError::BadRequest("Attachments cannot be sent in a batch: use the attachment endpoint.".into())),
            )),
            Ok(Prepared::Resource(mut call)) => {
                if let Err(err) = dispatch::hash_account_password(&mut call).await {
                    slots.push(Slot::Answered(api, Err(err)));
                    continue;
                }
                calls.push(*call);
                slots.push(Slot::Resource(api, calls.len() - 1));
            }
            Ok(Prepared::Batch) => slots
                .push(Slot::Answered(api, Err(invalid("requests", "Recursive call on /batch endpoint is forbidden.")))),
            Err(err) => slots.push(Slot::Answered(api, Err(err))),
        }
    }
    let mut outcomes: Vec<Option<Result<ApiResponse, ApiError>>> = if calls.is_empty() {
        Vec::new()
    } else {
        let settings = state.settings.clone();
        let calls = Arc::new(calls);
        let results = state
            .store
            .write_with(move |tx| {
                let mut results = Vec::with_capacity(calls.len());
                let mut keep = true;
                let mut orphans = Vec::new();
                for call in calls.iter() {
                    let result = resource::execute_with_effects(tx, &settings, call).map(|(response, mut released)| {
                        orphans.append(&mut released);
                        response
                    });
                    if let Err(err) = &result {
                        if err.status() >= 500 || err.status() == 409 {
                            keep = false;
                        }
                    }
                    results.push(result);
                }
                (Ok::<_, ApiError>((results, orphans)), keep)
            })
            .await?;
        let (results, orphans) = results;
        dispatch::remove_orphans(state, orphans).await;
        if let Some(err) = results.iter().find_map(|r| r.as_ref().err().filter(|e| e.status() >= 500)) {
            return Err(err.clone());
        }
        results.into_iter().map(Some).collect()
    };
    let mut responses = Vec::with_capacity(slots.len());
    for slot in slots {
        match slot {
            Slot::Answered(api, outcome) => responses.push(subresponse(state, &api, outcome)),
            Slot::Resource(api, index) => {
                let outcome = outcomes
                    .get_mut(index)
                    .and_then(Option::take)
                    .unwrap_or_else(|| Err(ApiError::Internal("missing batch result".into())));
                responses.push(subresponse(state, &api, outcome));
            }
        }
    }
    Ok(ApiResponse::json(200, &json!({"responses": responses})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(err: ApiError) -> String {
        err.body("")["message"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn defaults_merge_deeply_with_request_winning() {
        let defaults = json!({"method": "PUT", "headers": {"A": "1", "B": "1"}, "body": {"data": {"x": 1}}});
        let request = json!({"path": "/x", "headers": {"B": "2"}, "body": {"data": {"y": 2}}});
        assert_eq!(
            merge(&defaults, &request),
            json!({"method": "PUT", "path": "/x", "headers": {"A": "1", "B": "2"}, "body": {"data": {"x": 1, "y": 2}}})
        );
    }

    #[test]
    fn validation_messages_match_kinto() {
        assert_eq!(message(parse_batch(&json!({}), Some(25)).expect_err("error")), "requests in body: Required");
        assert_eq!(
            message(parse_batch(&json!({"requests": [{"method": "get", "path": "/"}]}), Some(25)).expect_err("error")),
            "requests.0.method in body: \"get\" is not one of GET, HEAD, DELETE, TRACE, POST, PUT, PATCH"
        );
        assert_eq!(
            message(parse_batch(&json!({"requests": [{"path": "/buckets/batch"}]}), Some(25)).expect_err("error")),
            "requests in body: Recursive call on /batch endpoint is forbidden."
        );
        assert_eq!(
            message(parse_batch(&json!({"requests": [{"path": "/", "headers": {"a": 1}}]}), Some(25)).expect_err("e")),
            "requests.0.headers in body: {'a': 1} contains non string value"
        );
        let many: Vec<Value> = (0..26).map(|_| json!({"path": "/"})).collect();
        assert_eq!(
            message(parse_batch(&json!({"requests": many}), Some(25)).expect_err("error")),
            "Number of requests is limited to 25"
        );
    }

    #[test]
    fn header_names_are_title_cased() {
        assert_eq!(title_case("etag"), "ETag");
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-content-type-options"), "X-Content-Type-Options");
    }
}
