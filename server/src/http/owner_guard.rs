//! What the owner endpoints with their own axum routers (`/v1/__devices__`, `/v1/__sync__`)
//! share: who calls (as the server authenticates any request: the LAN listener's transport
//! identity, else the credentials, after the loopback Host check), the `admin_principals`
//! check, and their JSON answers and Kinto error bodies.

use axum::response::{IntoResponse, Response};

use crate::auth::{Presented, TransportIdentity};
use crate::error::ApiError;
use crate::http::state::AppState;

/// The caller's user id (`None`: anonymous).
pub async fn caller(app: &AppState, parts: &http::request::Parts) -> Result<Option<String>, ApiError> {
    let transport = parts.extensions.get::<TransportIdentity>().map(|identity| identity.0.as_str());
    if transport.is_none() {
        let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
        crate::http::guards::check_host(&app.settings, host)?;
    }
    let presented = Presented { headers: &parts.headers, transport };
    crate::auth::authenticate(
        presented,
        &app.settings,
        &app.userid_secret,
        &app.store,
        &app.verified_accounts,
        &app.sessions,
    )
    .await
}

/// The caller's user id when it is an admin principal; else 401 (anonymous) or 403.
pub async fn require_owner(app: &AppState, parts: &http::request::Parts) -> Result<String, ApiError> {
    let user = caller(app, parts).await?;
    crate::http::service::require_admin(app, user.clone()).await?;
    user.ok_or_else(|| crate::auth::deny(&app.settings, None))
}

/// A JSON answer (axum's `json` feature is not compiled in).
pub fn reply(status: http::StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Kinto's error body for `err`.
pub fn error_reply(app: &AppState, err: ApiError) -> Response {
    let status = http::StatusCode::from_u16(err.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    reply(status, &err.body(&app.settings.error_info_link))
}
