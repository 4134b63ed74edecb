//! CORS (CORS-*): origin matching against `cors_origins` globs, the headers every response
//! exposes, and preflight answers.

use serde_json::Value;

use crate::error::{ApiError, Detail, Location};
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::routes::Route;
use crate::settings::Settings;

/// Headers every API response exposes to browser clients.
pub const EXPOSED_HEADERS: &str = "Alert, Backoff, Cache-Control, Content-Length, Content-Type, ETag, Expires, \
     Last-Modified, Next-Page, Pragma, Retry-After, Total-Objects, Total-Records";

/// `*` matches any run of characters; everything else literally (case-sensitive).
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The `Access-Control-Allow-Origin` value for a request's `Origin`, or the 400 refusal.
/// `also_allowed`: the origin is allowed whatever `cors_origins` says (the server's own
/// origin, an approved app's, or any origin on the connect endpoints).
pub fn allow_origin(settings: &Settings, origin: &str, also_allowed: bool) -> Result<String, ApiError> {
    if settings.cors_origins.iter().any(|p| p == "*") {
        return Ok("*".to_owned());
    }
    if also_allowed || settings.cors_origins.iter().any(|p| glob_match(p, origin)) {
        return Ok(origin.to_owned());
    }
    Err(ApiError::invalid(Location::Header, Some("Origin"), format!("{origin} not allowed")))
}

fn mandatory(name: &str) -> Detail {
    Detail::new(Location::Header, Some(name), "this header is mandatory")
}

/// Answers `OPTIONS` on an API route (CORS-PREFLIGHT).
pub fn preflight(
    settings: &Settings,
    request: &ApiRequest,
    route: &Route,
    also_allowed: bool,
) -> Result<ApiResponse, ApiError> {
    let origin = request.header("origin");
    let method = request.header("access-control-request-method");
    let (Some(origin), Some(method)) = (origin, method) else {
        let mut details = Vec::new();
        if method.is_none() {
            details.push(mandatory("Access-Control-Request-Method"));
        }
        if origin.is_none() {
            details.push(mandatory("Origin"));
        }
        return Err(ApiError::Invalid(details));
    };
    let allowed_origin = allow_origin(settings, origin, also_allowed)?;
    if !route.methods().iter().any(|m| m.as_str() == method) && method != "OPTIONS" {
        return Err(ApiError::invalid(Location::Header, Some("Access-Control-Request-Method"), "Method not allowed"));
    }
    let mut allow_headers: Vec<String> = EXPOSED_HEADERS.split(", ").map(str::to_owned).collect();
    if let Some(requested) = request.header("access-control-request-headers") {
        for name in requested.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !allow_headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                allow_headers.push(name.to_owned());
            }
        }
    }
    let mut response = ApiResponse::json(200, &Value::Null)
        .with_header("access-control-allow-origin", allowed_origin)
        .with_header("access-control-allow-methods", route.allow_header(","))
        .with_header("access-control-allow-headers", allow_headers.join(","))
        .with_header("access-control-max-age", settings.cors_max_age_seconds.to_string());
    if request.header("access-control-request-private-network") == Some("true") {
        response.set_header("access-control-allow-private-network", "true");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_extension_origins() {
        assert!(glob_match("moz-extension://*", "moz-extension://abc"));
        assert!(!glob_match("moz-extension://*", "http://evil"));
        assert!(glob_match("http://localhost:*", "http://localhost:3000"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXcYYb"));
    }
}
