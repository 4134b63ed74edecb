//! Who calls an owner-only endpoint outside Kinto's routes (`/v1/__devices__`, `/v1/__sync__`):
//! the caller as the server authenticates any request (the LAN listener's transport identity,
//! else the credentials, after the loopback Host check), and the `admin_principals` check.

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
