//! The admin plugin: serves the web UI (`ui/dist`, built by `make ui`) at `/v1/admin/` and
//! advertises `capabilities.admin` like Kinto's `kinto.plugins.admin`.
//!
//! Release builds embed the files in the binary; debug builds read them from `ui/dist` on every
//! request (rust-embed), so a rebuilt UI shows without recompiling the server. Hashed assets
//! (`assets/*`) are cached forever, `index.html` is revalidated. Paths that do not name a file
//! fall back to `index.html` (the UI routes in the URL fragment, but deep links still load it).
//! Without a built UI every page answers 404 with a short page saying how to build it.

use std::borrow::Cow;

use http::Method;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::message::{ApiRequest, ApiResponse};

/// Where the plugin answers (`/v1/admin` redirects to it).
pub const PREFIX: &str = "/v1/admin/";

/// The kinto-admin version whose capability Kintoun's UI stands in for (`capabilities.admin.version`,
/// as Kinto 26.5.0's bundled admin reports it).
pub const KINTO_ADMIN_VERSION: &str = "6.6.0";

/// Kinto's admin CSP: scripts and styles from the server itself only.
const CSP: &str = "default-src 'self'; img-src data: *; script-src 'self' 'unsafe-inline' 'unsafe-eval'; \
                   style-src 'self' 'unsafe-inline'";

const NOT_BUILT: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Kintoun admin: not built</title></head>\n\
<body>\n<h1>The Kintoun web UI is not built</h1>\n<p>This server was compiled without the web UI, or \
<code>ui/dist</code> is missing. Build it with <code>make ui</code> (Node.js and npm), then reload this page \
(debug builds read <code>ui/dist</code> from disk; release builds embed it: rebuild with <code>make build</code>).</p>\n\
<p>The HTTP API itself works: <a href=\"../\">/v1/</a>.</p>\n</body></html>\n";

#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../ui/dist/"]
#[allow_missing = true]
struct Assets;

/// `capabilities.admin`.
pub fn capability() -> Value {
    json!({
        "description": "Serves the admin console.",
        "url": "https://github.com/Kinto/kinto-admin/",
        "version": KINTO_ADMIN_VERSION,
    })
}

/// Whether a request path belongs to the plugin: `/v1/admin` or anything under `/v1/admin/`.
pub fn handles(path: &str) -> bool {
    path == "/v1/admin" || path.starts_with(PREFIX)
}

/// Answers a request whose path [`handles`] accepted.
pub fn serve(request: &ApiRequest, public_origin: &str) -> Result<ApiResponse, ApiError> {
    if !matches!(request.method, Method::GET | Method::HEAD) {
        return Err(ApiError::MethodNotAllowed { allow: "GET, HEAD".into() });
    }
    let Some(sub) = request.path.strip_prefix(PREFIX) else {
        let query = if request.query.is_empty() { String::new() } else { format!("?{}", request.query) };
        return Ok(ApiResponse::empty(307).with_header("location", format!("{public_origin}{PREFIX}{query}")));
    };
    let Some(name) = asset_name(sub) else {
        return Ok(not_found("Not a file of the web UI."));
    };
    if let Some(file) = (!name.is_empty()).then(|| Assets::get(&name)).flatten() {
        let long_lived = name.starts_with("assets/");
        return Ok(file_response(request, &name, file.data, &file.metadata.sha256_hash(), long_lived));
    }
    if !name.is_empty() && looks_like_file(&name) {
        return Ok(not_found("No such file in the web UI."));
    }
    match Assets::get("index.html") {
        Some(index) => {
            let html = with_base(&index.data);
            let hash = index.metadata.sha256_hash();
            Ok(file_response(request, "index.html", Cow::Owned(html), &hash, false))
        }
        None => {
            tracing::warn!("GET {}: the web UI is not built (ui/dist is missing)", request.path);
            Ok(not_found(NOT_BUILT))
        }
    }
}

/// The asset name of a sub-path: percent-decoded, `index.html` for the root, `None` when it
/// tries to leave the folder.
fn asset_name(sub: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(sub).decode_utf8().ok()?;
    let unsafe_segment = |s: &str| s == ".." || s == "." || s.contains('\\') || s.contains('\0');
    if decoded.split('/').any(unsafe_segment) || decoded.starts_with('/') {
        return None;
    }
    Some(decoded.into_owned())
}

/// Whether the last segment has an extension (a missing file rather than a UI route).
fn looks_like_file(name: &str) -> bool {
    name.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

/// `index.html` built with relative asset URLs (for the desktop window), rooted at the plugin's
/// prefix so that it also works when served for a deeper path.
fn with_base(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    text.replacen("<head>", &format!("<head><base href=\"{PREFIX}\">"), 1).into_bytes()
}

fn file_response(request: &ApiRequest, name: &str, data: Cow<'_, [u8]>, hash: &[u8], long_lived: bool) -> ApiResponse {
    let etag = format!("\"{}\"", hex::encode(&hash[..hash.len().min(16)]));
    let cache = if long_lived { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mimetype = mime_guess::from_path(name).first_raw().unwrap_or("application/octet-stream");
    let content_type = if mimetype.starts_with("text/") || mimetype == "application/javascript" {
        format!("{mimetype}; charset=utf-8")
    } else {
        mimetype.to_owned()
    };
    let mut response = ApiResponse::empty(200)
        .with_header("content-type", content_type)
        .with_header("cache-control", cache)
        .with_header("etag", &etag)
        .with_header("content-security-policy", CSP);
    let fresh = request.header("if-none-match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    if fresh {
        response.status = http::StatusCode::NOT_MODIFIED;
    } else {
        response.set_header("content-length", data.len().to_string());
        response.body = bytes::Bytes::from(data.into_owned());
    }
    response
}

fn not_found(message: &str) -> ApiResponse {
    let body = if message.starts_with("<!doctype") { message.to_owned() } else { format!("{message}\n") };
    let content_type =
        if message.starts_with("<!doctype") { "text/html; charset=utf-8" } else { "text/plain; charset=utf-8" };
    let mut response =
        ApiResponse::empty(404).with_header("content-type", content_type).with_header("cache-control", "no-cache");
    response.set_header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'");
    response.body = bytes::Bytes::from(body);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_stay_inside_the_folder() {
        assert_eq!(asset_name("").as_deref(), Some(""));
        assert_eq!(asset_name("assets/app-1.js").as_deref(), Some("assets/app-1.js"));
        assert_eq!(asset_name("a%20b.css").as_deref(), Some("a b.css"));
        assert_eq!(asset_name("../Cargo.toml"), None);
        assert_eq!(asset_name("assets/%2e%2e/x"), None);
        assert_eq!(asset_name("a\\b"), None);
        assert_eq!(asset_name("%FF"), None);
    }

    #[test]
    fn routes_and_files_are_told_apart() {
        assert!(looks_like_file("assets/x.js"));
        assert!(!looks_like_file("buckets/b1"));
        assert!(handles("/v1/admin") && handles("/v1/admin/") && handles("/v1/admin/assets/x.js"));
        assert!(!handles("/v1/administrators"));
    }

    #[test]
    fn index_gets_a_base_href() {
        let html = with_base(b"<html><head><title>t</title></head></html>");
        assert!(String::from_utf8_lossy(&html).contains("<head><base href=\"/v1/admin/\"><title>"));
    }

    #[test]
    fn capability_is_kinto_admins() {
        let cap = capability();
        assert_eq!(cap["description"], "Serves the admin console.");
        assert_eq!(cap["url"], "https://github.com/Kinto/kinto-admin/");
        assert_eq!(cap["version"], KINTO_ADMIN_VERSION);
    }
}
