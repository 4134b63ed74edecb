//! The errno table and Kinto's error body: the only place where errors become HTTP.
//!
//! Every failure a request can meet is an [`ApiError`] variant; [`ApiError::status`],
//! [`ApiError::errno`] and [`ApiError::body`] turn it into
//! `{"code", "errno", "error", "message"?, "info"?, "details"?}` exactly as Kinto 26.5.0 does.

use serde_json::{Map, Value, json};

use crate::storage::StorageError;

/// Kinto's errno codes (ERR-ERRNO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    MissingAuthToken = 104,
    InvalidParameters = 107,
    InvalidPostedData = 109,
    InvalidResourceId = 110,
    MissingResource = 111,
    RequestTooLarge = 113,
    ModifiedMeanwhile = 114,
    MethodNotAllowed = 115,
    VersionNotAvailable = 116,
    Forbidden = 121,
    ConstraintViolated = 122,
    Backend = 201,
    ServiceDeprecated = 202,
    Undefined = 999,
}

/// Where a validation error was found (ERR-VALIDATION `location`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Querystring,
    Header,
    Path,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Body => "body",
            Location::Querystring => "querystring",
            Location::Header => "header",
            Location::Path => "path",
        }
    }
}

/// One entry of a validation error's `details` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub location: Location,
    /// `None` is emitted as JSON `null`; `Some("")` as an empty string (Kinto uses both).
    pub name: Option<String>,
    pub description: String,
}

impl Detail {
    pub fn new(location: Location, name: Option<&str>, description: impl Into<String>) -> Self {
        Detail { location, name: name.map(str::to_owned), description: description.into() }
    }

    pub fn body(name: &str, description: impl Into<String>) -> Self {
        Detail::new(Location::Body, Some(name), description)
    }

    fn to_json(&self) -> Value {
        json!({
            "location": self.location.as_str(),
            "name": self.name,
            "description": self.description,
        })
    }

    /// Kinto's message for a validation error built from its first detail.
    fn message(&self) -> String {
        match self.name.as_deref() {
            Some(name) if !name.is_empty() && self.description.contains(name) => self.description.clone(),
            Some(name) if !name.is_empty() => {
                format!("{name} in {}: {}", self.location.as_str(), self.description)
            }
            Some(_) => self.description.clone(),
            None => format!("{}: {}", self.location.as_str(), self.description),
        }
    }
}

/// Every way a request can fail.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 400 errno 107 with a list of validation details (ERR-VALIDATION).
    #[error("invalid parameters: {0:?}")]
    Invalid(Vec<Detail>),
    /// 400 errno 107 without details ("Bad Request"): undecodable URLs.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 400 errno 109 ("Bad Request"): an attachment upload's form is wrong (kinto-attachment).
    #[error("invalid posted data: {0}")]
    InvalidPostedData(String),
    /// 400 errno 999: a record's attachment may only be replaced through its endpoint.
    #[error("attachment metadata cannot be modified")]
    AttachmentImmutable,
    /// 415: the request's Content-Type is not one of `allowed`.
    #[error("unsupported content type")]
    UnsupportedMediaType { allowed: &'static [&'static str] },
    /// 406: the Accept header excludes JSON.
    #[error("not acceptable")]
    NotAcceptable,
    /// 401 with one `WWW-Authenticate` challenge per configured policy.
    #[error("authentication required")]
    Unauthorized { challenges: Vec<String> },
    /// 401 errno 999 for an anonymous listing of accounts (ACCT-READ).
    #[error("cannot read accounts")]
    CannotReadAccounts,
    /// 401 errno 104: a bearer token that is unknown, revoked, expired or sent from another
    /// origin than the one it is bound to.
    #[error("token refused: {0}")]
    TokenRefused(&'static str),
    /// 403 for an authenticated caller without the permission.
    #[error("forbidden")]
    Forbidden,
    /// 404 errno 110: the addressed object does not exist.
    #[error("object {id} not found")]
    ObjectNotFound { id: String, resource_name: &'static str },
    /// 404 errno 111: a parent object does not exist.
    #[error("parent {id} not found")]
    MissingParent { id: String, resource_name: &'static str },
    /// 404 errno 111: no route matches.
    #[error("unknown route")]
    UnknownRoute,
    /// 404 errno 116: another API version prefix.
    #[error("version not available")]
    VersionNotAvailable,
    /// 405 errno 115 with an `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// 412 errno 114; `existing` is the current object when there is one.
    #[error("precondition failed")]
    PreconditionFailed { existing: Option<Value>, timestamp: i64 },
    /// 409 errno 122.
    #[error("integrity constraint violated")]
    Conflict,
    /// 410 errno 202 once the end-of-service date is past.
    #[error("service deprecated")]
    Gone,
    /// 413 errno 113.
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    /// 503 errno 201: the storage failed or is unavailable.
    #[error("backend failure: {0}")]
    Backend(String),
    /// 503 errno 201 with `Retry-After`: every event stream slot is taken (`events_max_streams`).
    #[error("too many event streams (at most {limit})")]
    TooManyStreams { limit: usize },
    /// 500 errno 999: a bug.
    #[error("internal error: {0}")]
    Internal(String),
    /// A read-only job needed to write: the request is replayed on the writer (never sent).
    #[error("the request must run as a write")]
    NeedsWrite,
}

impl ApiError {
    /// A single body validation error (`name` may be empty, as Kinto does for the root).
    pub fn invalid_body(name: &str, description: impl Into<String>) -> Self {
        ApiError::Invalid(vec![Detail::body(name, description)])
    }

    pub fn invalid(location: Location, name: Option<&str>, description: impl Into<String>) -> Self {
        ApiError::Invalid(vec![Detail::new(location, name, description)])
    }

    pub fn invalid_object_id() -> Self {
        ApiError::invalid(Location::Path, None, "Invalid object id")
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Invalid(_)
            | ApiError::BadRequest(_)
            | ApiError::InvalidPostedData(_)
            | ApiError::AttachmentImmutable => 400,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::NotAcceptable => 406,
            ApiError::Unauthorized { .. } | ApiError::CannotReadAccounts | ApiError::TokenRefused(_) => 401,
            ApiError::Forbidden => 403,
            ApiError::ObjectNotFound { .. }
            | ApiError::MissingParent { .. }
            | ApiError::UnknownRoute
            | ApiError::VersionNotAvailable => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::PreconditionFailed { .. } => 412,
            ApiError::Conflict => 409,
            ApiError::Gone => 410,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::Backend(_) | ApiError::TooManyStreams { .. } => 503,
            ApiError::Internal(_) | ApiError::NeedsWrite => 500,
        }
    }

    pub fn errno(&self) -> Errno {
        match self {
            ApiError::Invalid(_)
            | ApiError::BadRequest(_)
            | ApiError::UnsupportedMediaType { .. }
            | ApiError::NotAcceptable => Errno::InvalidParameters,
            ApiError::Unauthorized { .. } | ApiError::TokenRefused(_) => Errno::MissingAuthToken,
            ApiError::Forbidden => Errno::Forbidden,
            ApiError::ObjectNotFound { .. } => Errno::InvalidResourceId,
            ApiError::MissingParent { .. } | ApiError::UnknownRoute => Errno::MissingResource,
            ApiError::VersionNotAvailable => Errno::VersionNotAvailable,
            ApiError::MethodNotAllowed { .. } => Errno::MethodNotAllowed,
            ApiError::PreconditionFailed { .. } => Errno::ModifiedMeanwhile,
            ApiError::Conflict => Errno::ConstraintViolated,
            ApiError::Gone => Errno::ServiceDeprecated,
            ApiError::PayloadTooLarge { .. } => Errno::RequestTooLarge,
            ApiError::Backend(_) | ApiError::TooManyStreams { .. } => Errno::Backend,
            ApiError::Internal(_)
            | ApiError::NeedsWrite
            | ApiError::CannotReadAccounts
            | ApiError::AttachmentImmutable => Errno::Undefined,
            ApiError::InvalidPostedData(_) => Errno::InvalidPostedData,
        }
    }

    /// The `error` member: the reason phrase, or "Invalid parameters" for validation errors.
    fn error_name(&self) -> &'static str {
        match self {
            ApiError::CannotReadAccounts => "Cannot read accounts.",
            ApiError::Invalid(_) | ApiError::UnsupportedMediaType { .. } | ApiError::NotAcceptable => {
                "Invalid parameters"
            }
            other => reason_phrase(other.status()),
        }
    }

    /// The error body; `info_link` is `error_info_link` for 500s.
    pub fn body(&self, info_link: &str) -> Value {
        let mut body = Map::new();
        body.insert("code".into(), json!(self.status()));
        body.insert("errno".into(), json!(self.errno() as u16));
        body.insert("error".into(), json!(self.error_name()));
        let (message, details): (Option<String>, Option<Value>) = match self {
            ApiError::Invalid(details) => {
                let mut sorted = details.clone();
                sorted.sort_by(|a, b| a.name.cmp(&b.name));
                (sorted.first().map(Detail::message), Some(Value::Array(sorted.iter().map(Detail::to_json).collect())))
            }
            ApiError::BadRequest(message) | ApiError::InvalidPostedData(message) => (Some(message.clone()), None),
            ApiError::AttachmentImmutable => (Some("Attachment metadata cannot be modified.".into()), None),
            ApiError::UnsupportedMediaType { allowed } => {
                let text = format!(
                    "Content-Type header should be one of [{}]",
                    allowed.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ")
                );
                let detail = Detail::new(Location::Header, Some("Content-Type"), text.clone());
                (Some(text), Some(json!([detail.to_json()])))
            }
            ApiError::NotAcceptable => {
                let text = "Accept header should be one of ['application/json']".to_owned();
                let detail = Detail::new(Location::Header, Some("Accept"), text.clone());
                (Some(text), Some(json!([detail.to_json()])))
            }
            ApiError::Unauthorized { .. } => (Some("Please authenticate yourself to use this endpoint.".into()), None),
            ApiError::TokenRefused(why) => (Some((*why).to_owned()), None),
            ApiError::Forbidden => (Some("This user cannot access this resource.".into()), None),
            ApiError::CannotReadAccounts => (None, None),
            ApiError::ObjectNotFound { id, resource_name } | ApiError::MissingParent { id, resource_name } => {
                (None, Some(json!({"id": id, "resource_name": resource_name})))
            }
            ApiError::UnknownRoute => (Some("The resource you are looking for could not be found.".into()), None),
            ApiError::VersionNotAvailable => {
                (Some("The requested API version is not available on this server.".into()), None)
            }
            ApiError::MethodNotAllowed { .. } => (Some("Method not allowed on this endpoint.".into()), None),
            ApiError::PreconditionFailed { existing, .. } => {
                (Some("Resource was modified meanwhile".into()), existing.as_ref().map(|e| json!({"existing": e})))
            }
            ApiError::Conflict => (Some("Integrity constraint violated, please retry.".into()), None),
            ApiError::Gone => {
                (Some("The service you are trying to connect no longer exists at this location.".into()), None)
            }
            ApiError::PayloadTooLarge { limit } => {
                (Some(format!("Request body is larger than the limit of {limit} bytes.")), None)
            }
            ApiError::Backend(_) | ApiError::TooManyStreams { .. } => (
                Some("Service temporary unavailable due to overloading or maintenance, please retry later.".into()),
                None,
            ),
            ApiError::Internal(_) | ApiError::NeedsWrite => {
                (Some("A programmatic error occurred, developers have been informed.".into()), None)
            }
        };
        if let Some(message) = message {
            body.insert("message".into(), json!(message));
        }
        if matches!(self, ApiError::Internal(_) | ApiError::NeedsWrite) {
            body.insert("info".into(), json!(info_link));
        }
        if let Some(details) = details {
            body.insert("details".into(), details);
        }
        Value::Object(body)
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Conflict(_) => ApiError::Conflict,
            StorageError::Unavailable(msg) => ApiError::Backend(msg),
            StorageError::Corrupt(msg) => ApiError::Internal(msg),
            StorageError::NeedsWrite => ApiError::NeedsWrite,
        }
    }
}

/// The HTTP reason phrase Kinto puts in `error`.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_prefixes_name_and_location() {
        let err = ApiError::invalid(Location::Querystring, Some("_limit"), "-1 is less than minimum value 0");
        let body = err.body("");
        assert_eq!(body["message"], "_limit in querystring: -1 is less than minimum value 0");
        assert_eq!(body["errno"], 107);
        assert_eq!(body["error"], "Invalid parameters");
    }

    #[test]
    fn validation_message_without_name_uses_location() {
        let body = ApiError::invalid_object_id().body("");
        assert_eq!(body["message"], "path: Invalid object id");
        assert_eq!(body["details"][0]["name"], Value::Null);
    }

    #[test]
    fn not_found_has_details_and_no_message() {
        let body = ApiError::ObjectNotFound { id: "zzz".into(), resource_name: "record" }.body("");
        assert_eq!(
            body,
            json!({"code":404,"errno":110,"error":"Not Found","details":{"id":"zzz","resource_name":"record"}})
        );
    }

    #[test]
    fn internal_error_carries_info_link() {
        let body = ApiError::Internal("x".into()).body("https://example/issues/");
        assert_eq!(body["info"], "https://example/issues/");
        assert_eq!(body["code"], 500);
        assert_eq!(body["errno"], 999);
    }

    #[test]
    fn unsupported_media_type_lists_allowed_types() {
        let body = ApiError::UnsupportedMediaType { allowed: &["application/json"] }.body("");
        assert_eq!(body["message"], "Content-Type header should be one of ['application/json']");
        assert_eq!(body["code"], 415);
    }
}
