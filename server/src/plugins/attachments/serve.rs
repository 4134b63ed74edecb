//! Serving stored files (ATT-SERVE): `GET /attachments/<location>`.
//!
//! Files are user content served from the API's origin, so they must never run as pages:
//! `nosniff`, a sandboxing Content-Security-Policy and `Content-Disposition: attachment` for
//! every type a browser could render as a document or script (HTML, SVG, XML, JS…). Names are
//! content hashes, so responses are cacheable forever.

use std::io;

use bytes::Bytes;

use super::store::FileStore;
use crate::error::ApiError;
use crate::http::message::ApiResponse;

/// Kinto's default `error_info_link`, for the 500 body of an unreadable file.
const INFO_LINK: &str = "https://github.com/Kinto/kinto/issues/";

/// Types shown inline; anything else is served as a download.
fn renders_safely(mimetype: &str) -> bool {
    let inline_prefixes = ["image/", "audio/", "video/"];
    let inline_types = ["application/pdf", "text/plain", "text/csv", "application/json"];
    (inline_prefixes.iter().any(|p| mimetype.starts_with(p)) && mimetype != "image/svg+xml")
        || inline_types.contains(&mimetype)
}

/// `200` with the file, or Kinto's `404` body when the location is not a stored file.
pub async fn serve_file(store: &FileStore, location: &str) -> ApiResponse {
    let Some(path) = store.path_of(location) else {
        return not_found();
    };
    let read_path = path.clone();
    let read = tokio::task::spawn_blocking(move || {
        if !std::fs::metadata(&read_path)?.is_file() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        std::fs::read(&read_path)
    })
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => Bytes::from(bytes),
        Ok(Err(err)) if err.kind() == io::ErrorKind::NotFound => return not_found(),
        Ok(Err(err)) => return internal(format!("reading attachment {location}: {err}")),
        Err(err) => return internal(format!("reading attachment {location}: {err}")),
    };
    let mimetype = mime_guess::from_path(&path).first_raw().unwrap_or("application/octet-stream");
    let disposition = if renders_safely(mimetype) { "inline" } else { "attachment" };
    let mut response = ApiResponse::empty(200)
        .with_header("content-type", mimetype)
        .with_header("content-length", bytes.len().to_string())
        .with_header("x-content-type-options", "nosniff")
        .with_header("content-disposition", disposition)
        .with_header("cache-control", "public, max-age=31536000, immutable")
        .with_header("cross-origin-resource-policy", "cross-origin");
    // Chrome's PDF viewer refuses sandboxed documents; PDFs cannot run page scripts anyway.
    if mimetype != "application/pdf" {
        response.set_header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    }
    if let Some(hash) = content_hash(location) {
        response.set_header("etag", format!("\"{hash}\""));
    }
    response.body = bytes;
    response
}

/// The SHA-256 a location is named after (`ab/<64 hex>[.ext]`).
fn content_hash(location: &str) -> Option<&str> {
    let name = location.rsplit('/').next()?;
    let stem = name.split('.').next()?;
    (stem.len() == 64 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(stem)
}

fn not_found() -> ApiResponse {
    ApiResponse::from_error(&ApiError::UnknownRoute, INFO_LINK, 0)
}

fn internal(message: String) -> ApiResponse {
    ApiResponse::from_error(&ApiError::Internal(message), INFO_LINK, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(response: &'a ApiResponse, name: &str) -> Option<&'a str> {
        response.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn serves_stored_files_with_safe_headers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        let png = store.store(b"\x89PNG", Some("png")).expect("store");
        let response = serve_file(&store, &png.location).await;
        assert_eq!(response.status, 200);
        assert_eq!(&response.body[..], b"\x89PNG");
        assert_eq!(header(&response, "content-type"), Some("image/png"));
        assert_eq!(header(&response, "content-length"), Some("4"));
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&response, "content-disposition"), Some("inline"));
        assert_eq!(header(&response, "cache-control"), Some("public, max-age=31536000, immutable"));
        assert_eq!(header(&response, "etag"), Some(format!("\"{}\"", png.hash).as_str()));
        assert!(header(&response, "content-security-policy").is_some_and(|csp| csp.contains("sandbox")));
        assert!(response.status.is_success());

        let svg = store.store(b"<svg onload='alert(1)'/>", Some("svg")).expect("store");
        let response = serve_file(&store, &svg.location).await;
        assert_eq!(header(&response, "content-type"), Some("image/svg+xml"));
        assert_eq!(header(&response, "content-disposition"), Some("attachment"));

        let html = store.store(b"<script>alert(1)</script>", Some("html")).expect("store");
        let response = serve_file(&store, &html.location).await;
        assert_eq!(header(&response, "content-type"), Some("text/html"));
        assert_eq!(header(&response, "content-disposition"), Some("attachment"));

        let pdf = store.store(b"%PDF-1.4", Some("pdf")).expect("store");
        let response = serve_file(&store, &pdf.location).await;
        assert_eq!(header(&response, "content-disposition"), Some("inline"));
        assert_eq!(header(&response, "content-security-policy"), None);

        let raw = store.store(b"raw", None).expect("store");
        let response = serve_file(&store, &raw.location).await;
        assert_eq!(header(&response, "content-type"), Some("application/octet-stream"));
        assert_eq!(header(&response, "content-disposition"), Some("attachment"));
    }

    #[tokio::test]
    async fn missing_or_unsafe_locations_are_404() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        let stored = store.store(b"x", Some("txt")).expect("store");
        for location in ["ab/nothing.png", "../secret", "", stored.location.split('/').next().unwrap_or("")] {
            let response = serve_file(&store, location).await;
            assert_eq!(response.status, 404, "{location:?}");
            let body: serde_json::Value = serde_json::from_slice(&response.body).expect("json");
            assert_eq!(body["errno"], 111);
        }
    }
}
