//! The remote Kinto HTTP client: a `reqwest::Client`, the server's base URL (`.../v1`) and an
//! optional `Authorization` header value. It speaks just what replication needs: the root view
//! (`batch_max_requests`, who we are, where attachments are served), the records list with
//! `_since` and `Next-Page`, single records, `/batch` with `If-Match` / `If-None-Match: *`, and
//! attachment files (download, and upload to a record's attachment endpoint). It remembers the `Backoff` and
//! `Retry-After` a server asks for ([`KintoClient::not_before`]).
//!
//! The seam: [`KintoClient::new`] takes any `reqwest::Client`, so device remotes get one built
//! with the devices' pinned mutual-TLS `rustls::ClientConfig` (`tls_backend_preconfigured`) and no
//! header; Kinto servers get [`default_http`] (the OS trust store) and Basic credentials.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// Characters kept as they are in a URL path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Why a request to the remote failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("{0:?} is not a Kinto server URL (http:// or https://, e.g. https://kinto.example.com/v1)")]
    BadUrl(String),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url}: 401 Unauthorized (the remote did not accept the credentials)")]
    Unauthorized { url: String },
    #[error("{url}: 403 Forbidden (these credentials may not do this)")]
    Forbidden { url: String },
    #[error("{url}: 404 Not Found")]
    NotFound { url: String },
    #[error("{url}: {status} {message}")]
    Status { url: String, status: u16, message: String },
    #[error("{url} does not answer like a Kinto server: {reason}")]
    Protocol { url: String, reason: String },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl ClientError {
    /// Whether the remote could not be reached at all (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. })
    }
}

/// The HTTP client for Kinto servers on the Internet: rustls (aws-lc-rs, as the rest of the
/// crate) verifying with the OS's trust store, no redirects followed, bounded waits.
pub fn default_http() -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("kintoun/", env!("CARGO_PKG_VERSION"), " (replicator)"))
        .build()
        .map_err(|e| ClientError::Setup(e.to_string()))
}

/// `Authorization: Basic ...` for a user and password.
pub fn basic_authorization(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// What the remote's root view says.
#[derive(Debug, Clone, PartialEq)]
pub struct Hello {
    /// `settings.batch_max_requests` (None: no limit announced).
    pub batch_max_requests: Option<usize>,
    /// The authenticated user id, if the credentials were accepted.
    pub user: Option<String>,
    /// Whether the remote takes attachments (`capabilities.attachments`).
    pub attachments: bool,
    /// Where relative attachment locations are served (`capabilities.attachments.base_url`).
    pub attachments_base_url: Option<String>,
}

/// A file to attach to a remote record.
#[derive(Debug, Clone)]
pub struct AttachmentFile {
    pub filename: String,
    pub mimetype: String,
    pub bytes: Vec<u8>,
}

/// One page of a records list.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub objects: Vec<Map<String, Value>>,
    /// The `Next-Page` URL.
    pub next: Option<String>,
}

/// One write of a `/batch`.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOp {
    /// `PUT` the record's fields: `If-Match: "<ts>"` when `if_match` is given, else
    /// `If-None-Match: *` (the remote must not have a live version).
    Put { id: String, data: Map<String, Value>, if_match: Option<i64> },
    /// `DELETE` with `If-Match: "<ts>"`.
    Delete { id: String, if_match: i64 },
}

impl BatchOp {
    pub fn id(&self) -> &str {
        match self {
            BatchOp::Put { id, .. } | BatchOp::Delete { id, .. } => id,
        }
    }
}

/// A remote Kinto server.
#[derive(Clone)]
pub struct KintoClient {
    http: reqwest::Client,
    base: String,
    origin: String,
    authorization: Option<String>,
    not_before: Arc<Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for KintoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KintoClient")
            .field("base", &self.base)
            .field("authorization", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The server's API root (`.../v1`) from what a user typed: `https://host`, `https://host/v1/`, ...
pub fn normalize_base(url: &str) -> Result<(String, String), ClientError> {
    let bad = || ClientError::BadUrl(url.to_owned());
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(bad());
    }
    let origin = parsed.origin().ascii_serialization();
    let path = parsed.path().trim_end_matches('/');
    let path = if path.ends_with("/v1") { path.to_owned() } else { format!("{path}/v1") };
    Ok((format!("{origin}{path}"), origin))
}

impl KintoClient {
    /// A client for the Kinto server at `url` (its API root, with or without `/v1`).
    pub fn new(http: reqwest::Client, url: &str, authorization: Option<String>) -> Result<KintoClient, ClientError> {
        let (base, origin) = normalize_base(url)?;
        Ok(KintoClient { http, base, origin, authorization, not_before: Arc::default() })
    }

    /// The API root, e.g. `https://kinto.example.com/v1`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Until when the remote asked us not to come back (`Backoff`, `Retry-After`).
    pub fn not_before(&self) -> Option<Instant> {
        self.not_before.lock().ok().and_then(|at| *at).filter(|at| *at > Instant::now())
    }

    fn remember_backoff(&self, headers: &HeaderMap) {
        let seconds = ["backoff", "retry-after"]
            .iter()
            .filter_map(|name| headers.get(*name)?.to_str().ok()?.trim().parse::<u64>().ok())
            .max();
        if let Some(seconds) = seconds {
            let until = Instant::now() + Duration::from_secs(seconds.min(24 * 3600));
            if let Ok(mut at) = self.not_before.lock() {
                *at = Some(at.map_or(until, |old| old.max(until)));
            }
            tracing::info!(remote = %self.base, seconds, "the remote asks us to back off");
        }
    }

    /// `{base}/buckets/{bucket}/collections/{collection}/records`.
    pub fn records_url(&self, bucket: &str, collection: &str) -> String {
        format!("{}{}", self.base, records_path(bucket, collection))
    }

    /// Sends a request; the status, headers and JSON body (`null` when there is none).
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, HeaderMap, Value), ClientError> {
        let mut request = self.http.request(method, url);
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        self.exchange(request).await
    }

    /// Sends a built request, remembers its `Backoff`; the status, headers and JSON body
    /// (`null` when there is none or it is not JSON).
    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<(StatusCode, HeaderMap, Value), ClientError> {
        let unreachable =
            |e: reqwest::Error| ClientError::Unreachable { url: self.base.clone(), reason: error_chain(&e) };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let headers = response.headers().clone();
        self.remember_backoff(&headers);
        let bytes = response.bytes().await.map_err(unreachable)?;
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Ok((status, headers, body))
    }

    /// The error for an unexpected answer.
    fn failure(&self, url: &str, status: StatusCode, body: &Value) -> ClientError {
        let url = url.to_owned();
        match status.as_u16() {
            401 => ClientError::Unauthorized { url },
            403 => ClientError::Forbidden { url },
            404 => ClientError::NotFound { url },
            code => ClientError::Status {
                url,
                status: code,
                message: body
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
            },
        }
    }

    /// Opens the remote collection's live change stream (`GET .../events`, Kintoun's SSE; see
    /// [`super::watch`]). `Ok(None)`: the remote has no such stream (a Kinto server: 404/405).
    pub async fn open_events(&self, bucket: &str, collection: &str) -> Result<Option<reqwest::Response>, ClientError> {
        let url = format!("{}{}/events", self.base, collection_path(bucket, collection));
        let mut request = self.http.get(&url).header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Unreachable { url: self.base.clone(), reason: error_chain(&e) })?;
        match response.status().as_u16() {
            200 => Ok(Some(response)),
            404 | 405 => Ok(None),
            code => Err(ClientError::Status {
                url,
                status: code,
                message: response.status().canonical_reason().unwrap_or("error").to_owned(),
            }),
        }
    }

    /// `GET {base}/`: the remote's settings and who we are there.
    pub async fn hello(&self) -> Result<Hello, ClientError> {
        let url = format!("{}/", self.base);
        let (status, _, body) = self.send(Method::GET, &url, None, &[]).await?;
        if !status.is_success() {
            return Err(self.failure(&url, status, &body));
        }
        let looks_like_kinto = body.get("http_api_version").is_some() && body.get("settings").is_some();
        if !looks_like_kinto {
            return Err(ClientError::Protocol { url, reason: "no http_api_version/settings in the root view".into() });
        }
        let attachments = &body["capabilities"]["attachments"];
        Ok(Hello {
            batch_max_requests: body["settings"]["batch_max_requests"].as_u64().and_then(|n| usize::try_from(n).ok()),
            user: body["user"]["id"].as_str().map(str::to_owned),
            attachments: attachments.is_object(),
            attachments_base_url: attachments["base_url"].as_str().filter(|u| !u.is_empty()).map(str::to_owned),
        })
    }

    /// The URL of an attachment `location` (absolute, or relative to the remote's `base_url`).
    pub fn attachment_url(&self, location: &str, base_url: Option<&str>) -> Option<String> {
        if location.starts_with("https://") || location.starts_with("http://") {
            return Some(location.to_owned());
        }
        let base = reqwest::Url::parse(base_url?).ok()?;
        base.join(location.trim_start_matches('/')).ok().map(String::from)
    }

    /// Downloads a file, at most `max_bytes` of it. The credentials go only to the remote
    /// itself, never to another host a `location` may name.
    pub async fn download(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
        let mut request = self.http.get(url);
        if let Some(authorization) =
            self.authorization.as_ref().filter(|_| url.starts_with(&format!("{}/", self.origin)))
        {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let unreachable = |e: reqwest::Error| ClientError::Unreachable { url: url.to_owned(), reason: error_chain(&e) };
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.failure(url, status, &Value::Null));
        }
        let too_big =
            || ClientError::Protocol { url: url.to_owned(), reason: format!("the file is over {max_bytes} bytes") };
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// `POST .../records/{id}/attachment` (multipart: the file, and `data`, the record's
    /// fields to merge, so that a record it creates is whole) with
    /// `If-Match: "<ts>"` when `if_match` is given, else `If-None-Match: *`. The status, headers
    /// and body (the attachment field on success).
    pub async fn upload_attachment(
        &self,
        (bucket, collection, id): (&str, &str, &str),
        file: AttachmentFile,
        data: &Map<String, Value>,
        if_match: Option<i64>,
    ) -> Result<(u16, HeaderMap, Value), ClientError> {
        let url = format!("{}/{}/attachment", self.records_url(bucket, collection), utf8_percent_encode(id, SEGMENT));
        let part = reqwest::multipart::Part::bytes(file.bytes).file_name(file.filename);
        let part = match part.mime_str(&file.mimetype) {
            Ok(part) => part,
            Err(_) => return Err(ClientError::Protocol { url, reason: format!("bad mimetype {:?}", file.mimetype) }),
        };
        let form = reqwest::multipart::Form::new()
            .part("attachment", part)
            .text("data", Value::Object(data.clone()).to_string());
        let mut request = self.http.post(&url).multipart(form);
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        request = match if_match {
            Some(ts) => request.header(reqwest::header::IF_MATCH, format!("\"{ts}\"")),
            None => request.header(reqwest::header::IF_NONE_MATCH, "*"),
        };
        let (status, headers, body) = self.exchange(request).await?;
        Ok((status.as_u16(), headers, body))
    }

    /// Checks that the records of a collection can be listed (`GET records?_limit=1`).
    pub async fn probe_collection(&self, bucket: &str, collection: &str) -> Result<(), ClientError> {
        let url = format!("{}?_limit=1", self.records_url(bucket, collection));
        let (status, _, body) = self.send(Method::GET, &url, None, &[]).await?;
        if status.is_success() { Ok(()) } else { Err(self.failure(&url, status, &body)) }
    }

    /// The first page URL of the changes after `since` (tombstones included), oldest first.
    pub fn changes_url(&self, bucket: &str, collection: &str, since: i64, limit: usize) -> String {
        format!("{}?_since={since}&_sort=last_modified&_limit={limit}", self.records_url(bucket, collection))
    }

    /// How many changes there are after `since` (`HEAD`, `Total-Records`), when the remote says.
    pub async fn count_changes(&self, bucket: &str, collection: &str, since: i64) -> Result<Option<u64>, ClientError> {
        let url = format!("{}?_since={since}", self.records_url(bucket, collection));
        let (status, headers, body) = self.send(Method::HEAD, &url, None, &[]).await?;
        if !status.is_success() {
            return Err(self.failure(&url, status, &body));
        }
        Ok(["total-records", "total-objects"]
            .iter()
            .find_map(|name| headers.get(*name)?.to_str().ok()?.parse::<u64>().ok()))
    }

    /// One page of a records list; `Next-Page` must stay on the same server.
    pub async fn page(&self, url: &str) -> Result<Page, ClientError> {
        let (status, headers, body) = self.send(Method::GET, url, None, &[]).await?;
        if !status.is_success() {
            return Err(self.failure(url, status, &body));
        }
        let protocol = |reason: &str| ClientError::Protocol { url: url.to_owned(), reason: reason.to_owned() };
        let list = body.get("data").and_then(Value::as_array).ok_or_else(|| protocol("no data list"))?;
        let mut objects = Vec::with_capacity(list.len());
        for object in list {
            let object = object.as_object().ok_or_else(|| protocol("a listed record is not an object"))?;
            if !object.get("id").is_some_and(Value::is_string)
                || !object.get("last_modified").is_some_and(Value::is_i64)
            {
                return Err(protocol("a listed record has no id or integer last_modified"));
            }
            objects.push(object.clone());
        }
        let next = headers.get("next-page").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(next) = &next {
            if !next.starts_with(&format!("{}/", self.origin)) {
                return Err(protocol("Next-Page points to another server"));
            }
        }
        Ok(Page { objects, next })
    }

    /// One record (`None`: missing or deleted).
    pub async fn get_record(
        &self,
        bucket: &str,
        collection: &str,
        id: &str,
    ) -> Result<Option<Map<String, Value>>, ClientError> {
        let url = format!("{}/{}", self.records_url(bucket, collection), utf8_percent_encode(id, SEGMENT));
        let (status, _, body) = self.send(Method::GET, &url, None, &[]).await?;
        match status.as_u16() {
            200 => body
                .get("data")
                .and_then(Value::as_object)
                .cloned()
                .map(Some)
                .ok_or_else(|| ClientError::Protocol { url, reason: "no data object".into() }),
            404 => Ok(None),
            _ => Err(self.failure(&url, status, &body)),
        }
    }

    /// Sends writes in one `/batch`; each write's status and body, in order.
    pub async fn batch(
        &self,
        bucket: &str,
        collection: &str,
        ops: &[BatchOp],
    ) -> Result<Vec<(u16, Value)>, ClientError> {
        let records = records_path(bucket, collection);
        let requests: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                BatchOp::Put { id, data, if_match } => {
                    let headers = match if_match {
                        Some(ts) => json!({"If-Match": format!("\"{ts}\"")}),
                        None => json!({"If-None-Match": "*"}),
                    };
                    json!({"method": "PUT", "path": format!("{records}/{}", utf8_percent_encode(id, SEGMENT)),
                           "headers": headers, "body": {"data": data}})
                }
                BatchOp::Delete { id, if_match } => json!({
                    "method": "DELETE",
                    "path": format!("{records}/{}", utf8_percent_encode(id, SEGMENT)),
                    "headers": {"If-Match": format!("\"{if_match}\"")},
                }),
            })
            .collect();
        let url = format!("{}/batch", self.base);
        let (status, _, body) = self.send(Method::POST, &url, Some(&json!({ "requests": requests })), &[]).await?;
        if !status.is_success() {
            return Err(self.failure(&url, status, &body));
        }
        let responses =
            body.get("responses").and_then(Value::as_array).filter(|r| r.len() == ops.len()).ok_or_else(|| {
                ClientError::Protocol {
                    url: url.clone(),
                    reason: "the batch answer does not match the requests".into(),
                }
            })?;
        Ok(responses
            .iter()
            .map(|r| (r["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0), r["body"].clone()))
            .collect())
    }
}

/// `/buckets/{bucket}/collections/{collection}/records`, segments percent-encoded.
fn collection_path(bucket: &str, collection: &str) -> String {
    format!(
        "/buckets/{}/collections/{}",
        utf8_percent_encode(bucket, SEGMENT),
        utf8_percent_encode(collection, SEGMENT)
    )
}

fn records_path(bucket: &str, collection: &str) -> String {
    format!("{}/records", collection_path(bucket, collection))
}

/// An error and its causes, e.g. "error sending request: connection refused".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_their_v1() {
        let base = |url: &str| normalize_base(url).map(|(base, _)| base);
        assert_eq!(base("http://127.0.0.1:8888").ok().as_deref(), Some("http://127.0.0.1:8888/v1"));
        assert_eq!(base("https://k.example/v1/").ok().as_deref(), Some("https://k.example/v1"));
        assert_eq!(base("https://k.example/kinto").ok().as_deref(), Some("https://k.example/kinto/v1"));
        for bad in ["ftp://x/v1", "not a url", "http://u:p@x/v1", "http://x/v1?q=1", ""] {
            assert!(matches!(normalize_base(bad), Err(ClientError::BadUrl(_))), "{bad}");
        }
    }

    #[test]
    fn attachment_urls_resolve_against_the_base_url() {
        let client = KintoClient::new(reqwest::Client::new(), "https://k.example/v1", None).expect("client");
        let base = Some("https://k.example/attachments/");
        assert_eq!(
            client.attachment_url("ab/ab.png", base).as_deref(),
            Some("https://k.example/attachments/ab/ab.png")
        );
        assert_eq!(client.attachment_url("http://cdn/x.png", None).as_deref(), Some("http://cdn/x.png"));
        assert_eq!(client.attachment_url("ab/ab.png", None), None);
    }

    #[test]
    fn basic_credentials_are_encoded() {
        assert_eq!(basic_authorization("bob", "s3cret"), "Basic Ym9iOnMzY3JldA==");
    }

    #[test]
    fn the_default_client_builds() {
        assert!(default_http().is_ok());
    }
}
