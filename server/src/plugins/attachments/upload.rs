//! Parsing an attachment upload (ATT-POST) and its errors (ATT-ERRORS), in kinto-attachment's
//! order: Content-Type, boundary, `attachment` part, filename, size, extension, `data` then
//! `permissions` JSON, unknown fields. Messages are the reference's (kinto-attachment 8.0.0).

use bytes::Bytes;
use serde_json::{Map, Value};

use super::config::{AttachmentConfig, split_extension};
use super::pyjson;
use crate::error::{ApiError, Location};
use crate::pyfmt::py_str_repr as py_repr;

/// The file part's name.
pub const FILE_FIELD: &str = "attachment";

/// A parsed upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// As sent by the client (may contain `/`, never used to name the stored file).
    pub filename: String,
    /// The mimetype to record: per-extension override, else the part's Content-Type (without
    /// parameters, case kept), else `text/plain` (what Python's `cgi` assumes).
    pub mimetype: String,
    pub bytes: Bytes,
    /// The `data` part: fields to merge into the record (PATCH semantics).
    pub data: Option<Map<String, Value>>,
    /// The `permissions` part, unvalidated (validate it as a record PUT/PATCH would).
    pub permissions: Option<Value>,
}

impl Upload {
    /// The extension to keep on the stored file: `.PNG` → `png`; none unless short and alphanumeric.
    pub fn stored_extension(&self) -> Option<String> {
        let ext = split_extension(&self.filename).trim_start_matches('.');
        let ok = !ext.is_empty() && ext.len() <= 16 && ext.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| ext.to_ascii_lowercase())
    }
}

/// One multipart part.
struct Part {
    name: Option<String>,
    /// `Some` only for a non-empty filename (WebOb treats `filename=""` as a text field).
    filename: Option<String>,
    content_type: Option<String>,
    bytes: Bytes,
}

/// kinto-attachment's errno 109 (INVALID_POSTED_DATA) errors.
pub fn invalid_posted_data(message: impl Into<String>) -> ApiError {
    ApiError::InvalidPostedData(message.into())
}

/// `400 errno 107 "Invalid parameters"`, `message: "body: <description>"`, details name `null`.
fn invalid_body(description: impl Into<String>) -> ApiError {
    ApiError::invalid(Location::Body, None, description)
}

/// Parses a `multipart/form-data` body (ATT-POST) and enforces ATT-ERRORS. `config` should
/// be the collection's (see [`AttachmentConfig::for_collection`]).
pub async fn parse_upload(
    content_type: Option<&str>,
    body: Bytes,
    config: &AttachmentConfig,
) -> Result<Upload, ApiError> {
    let content_type = content_type.unwrap_or("");
    if !content_type.to_ascii_lowercase().contains("multipart/form-data") {
        return Err(ApiError::BadRequest("Content-Type should be multipart/form-data".into()));
    }
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::BadRequest("Invalid boundary in multipart form: b''".into()))?;
    let parts = read_parts(body, boundary).await;

    // The last `attachment` part wins (WebOb's MultiDict.get).
    let file = parts.iter().rev().find(|p| p.name.as_deref() == Some(FILE_FIELD));
    let Some(file) = file else {
        return Err(invalid_posted_data("Attachment missing."));
    };
    let Some(filename) = file.filename.clone() else {
        return Err(invalid_body("Filename is required."));
    };
    let size = file.bytes.len() as u64;
    if config.max_size_bytes > 0 && size > config.max_size_bytes {
        return Err(invalid_body(format!(
            "File size ({size} bytes) exceeds the limit ({} bytes).",
            config.max_size_bytes
        )));
    }
    if !config.extension_allowed(&filename) {
        return Err(invalid_body("File extension is not allowed."));
    }
    let declared = file.content_type.as_deref().map(essence).filter(|t| !t.is_empty()).unwrap_or("text/plain");
    let mimetype = config.mimetype_for(&filename, declared);

    let data = match json_field(&parts, "data")? {
        None => None,
        Some(Value::Object(map)) => Some(map),
        // kinto-attachment fails with a 500 here; answer as a record PUT does.
        Some(other) => {
            let text = match &other {
                Value::Null => "None".to_owned(),
                Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
                Value::String(s) => s.clone(),
                other => crate::json::to_string(other),
            };
            return Err(ApiError::invalid_body(
                "data",
                format!("\"{text}\" is not a mapping type: Does not implement dict-like functionality."),
            ));
        }
    };
    let permissions = json_field(&parts, "permissions")?;

    if let Some(part) = parts.iter().find(|p| !matches!(p.name.as_deref(), Some(FILE_FIELD | "data" | "permissions"))) {
        let name = part.name.as_deref().map_or_else(|| "None".to_owned(), py_repr);
        return Err(invalid_posted_data(format!("body: {name} not in ('data', 'permissions')")));
    }

    Ok(Upload { filename, mimetype, bytes: file.bytes.clone(), data, permissions })
}

/// Reads every part; like Python's `cgi`, a malformed body just ends the list of parts.
async fn read_parts(body: Bytes, boundary: String) -> Vec<Part> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                tracing::debug!(error = %err, "malformed multipart body");
                break;
            }
        };
        let name = field.name().map(str::to_owned);
        let filename = field.file_name().filter(|f| !f.is_empty()).map(str::to_owned);
        let content_type =
            field.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        match field.bytes().await {
            Ok(bytes) => parts.push(Part { name, filename, content_type, bytes }),
            Err(err) => {
                tracing::debug!(error = %err, "truncated multipart part");
                break;
            }
        }
    }
    parts
}

/// The last text part called `name`, decoded as JSON.
fn json_field(parts: &[Part], name: &str) -> Result<Option<Value>, ApiError> {
    let Some(part) = parts.iter().rev().find(|p| p.name.as_deref() == Some(name)) else {
        return Ok(None);
    };
    if part.filename.is_some() {
        return Err(invalid_posted_data(format!("body: '{name}' field should be passed as form data, not files")));
    }
    let text = String::from_utf8_lossy(&part.bytes);
    pyjson::parse(&text)
        .map(Some)
        .map_err(|reason| invalid_posted_data(format!("body: {name} is not valid JSON ({reason})")))
}

/// `Text/Plain; charset=utf-8` → `Text/Plain` (Python's `cgi` keeps the case).
fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

#[cfg(test)]
#[path = "upload_tests.rs"]
mod tests;
