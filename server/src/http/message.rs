//! The server's own request and response values: what the HTTP shell, the batch endpoint and
//! the resource engine exchange, independent of hyper/axum.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;

use crate::error::ApiError;

/// A request as the dispatcher sees it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// The raw (percent-encoded) path, e.g. `/v1/buckets/b%201`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `http://host:port` as the client reached us (for absolute URLs).
    pub origin_url: String,
    /// Who the listener says the peer is ([`crate::auth::TransportIdentity`]).
    pub transport_identity: Option<std::sync::Arc<str>>,
}

impl ApiRequest {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query pairs; a repeated name keeps its last value.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(self.query.as_bytes()) {
            match pairs.iter_mut().find(|(n, _)| *n == name) {
                Some(existing) => existing.1 = value.into_owned(),
                None => pairs.push((name.into_owned(), value.into_owned())),
            }
        }
        pairs
    }
}

/// A response before the common headers (security, CORS, Backoff, Alert) are added.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiResponse {
    /// A JSON response serialized as Kinto does.
    pub fn json(status: u16, value: &Value) -> ApiResponse {
        ApiResponse::json_bytes(status, Bytes::from(crate::json::to_vec(value)))
    }

    /// A JSON response from already serialized bytes.
    pub fn json_bytes(status: u16, body: Bytes) -> ApiResponse {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        ApiResponse { status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), headers, body }
    }

    /// A response without body.
    pub fn empty(status: u16) -> ApiResponse {
        ApiResponse {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header (values that are not valid header text are skipped).
    pub fn with_header(mut self, name: &'static str, value: impl AsRef<str>) -> ApiResponse {
        self.set_header(name, value);
        self
    }

    pub fn set_header(&mut self, name: &'static str, value: impl AsRef<str>) {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            self.headers.insert(HeaderName::from_static(name), value);
        }
    }

    pub fn append_header(&mut self, name: &'static str, value: impl AsRef<str>) {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            self.headers.append(HeaderName::from_static(name), value);
        }
    }

    /// Kinto's error response for `err`, with the headers the error implies.
    pub fn from_error(err: &ApiError, info_link: &str, retry_after: u64) -> ApiResponse {
        let mut response = ApiResponse::json(err.status(), &err.body(info_link));
        match err {
            ApiError::Unauthorized { challenges } => {
                for challenge in challenges {
                    response.append_header("www-authenticate", challenge);
                }
            }
            ApiError::MethodNotAllowed { allow } => response.set_header("allow", allow),
            ApiError::PreconditionFailed { timestamp, .. } => {
                response.set_header("etag", format!("\"{timestamp}\""));
                response.set_header("last-modified", http_date(*timestamp));
            }
            ApiError::Conflict => response.set_header("retry-after", retry_after.to_string()),
            ApiError::Backend(message) => {
                tracing::error!(%message, "storage failure");
                response.set_header("retry-after", retry_after.to_string());
            }
            ApiError::TooManyStreams { limit } => {
                tracing::warn!(limit, "event stream refused: every slot is taken");
                response.set_header("retry-after", retry_after.to_string());
            }
            ApiError::Internal(message) => tracing::error!(%message, "internal error"),
            _ => {}
        }
        response
    }
}

/// An HTTP date (second precision, floor) for a millisecond timestamp.
pub fn http_date(timestamp_ms: i64) -> String {
    // HTTP dates stop at 9999-12-31T23:59:59.
    let seconds = timestamp_ms.div_euclid(1000).clamp(0, 253_402_300_799) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_floor_to_seconds() {
        assert_eq!(http_date(123), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_795_330_480_999), "Sun, 22 Nov 2026 06:54:40 GMT");
        assert_eq!(http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn query_pairs_keep_the_last_value() {
        let request = ApiRequest {
            method: Method::GET,
            path: "/".into(),
            query: "a=1&b=x%20y&a=2".into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            origin_url: String::new(),
            transport_identity: None,
        };
        assert_eq!(request.query_pairs(), vec![("a".to_owned(), "2".to_owned()), ("b".into(), "x y".into())]);
    }
}
