//! The HTTP shell: axum hands every request to [`dispatch::dispatch`] as an [`ApiRequest`];
//! routing, CORS, redirects and errors follow Kinto's rules there rather than axum's.

pub mod attachment;
pub mod batch;
pub mod connect;
pub mod cors;
pub mod dispatch;
pub mod events;
pub mod extension;
pub mod guards;
pub mod message;
pub mod openapi;
pub mod owner_guard;
pub mod routes;
pub mod service;
pub mod state;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;

use crate::auth::TransportIdentity;
use crate::error::ApiError;
use message::{ApiRequest, ApiResponse};
use state::AppState;

/// The axum application: one handler for everything.
pub fn router(state: AppState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut limit = state.settings.max_body_bytes;
    if parts.uri.path().ends_with("/attachment") {
        // Uploads may be larger than API bodies (multipart overhead included).
        let upload = crate::plugins::attachments::AttachmentConfig::from_settings(&state.settings).max_size_bytes;
        let upload =
            if upload == 0 { usize::MAX } else { usize::try_from(upload).unwrap_or(usize::MAX).saturating_add(65_536) };
        limit = limit.max(upload);
    }
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    // Only the LAN listener authenticates peers itself, and it speaks TLS: absolute URLs it
    // gives out (Next-Page, attachments) must say https.
    let scheme = if parts.extensions.get::<TransportIdentity>().is_some() { "https" } else { "http" };
    let mut api = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body: bytes::Bytes::new(),
        origin_url: format!("{scheme}://{host}"),
        transport_identity: parts.extensions.get::<TransportIdentity>().map(|identity| identity.0.as_str().into()),
    };
    let (response, stream) = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            api.body = bytes;
            dispatch::dispatch(&state, api).await
        }
        Err(_) => (dispatch::error_response(&state, &api, &ApiError::PayloadTooLarge { limit }), None),
    };
    state.stats.record(response.status.as_u16());
    into_response(response, stream)
}

/// The axum response; `stream` (an event stream) replaces the buffered body.
fn into_response(api: ApiResponse, stream: Option<Body>) -> Response {
    let mut response = Response::new(stream.unwrap_or_else(|| Body::from(api.body)));
    *response.status_mut() = api.status;
    *response.headers_mut() = api.headers;
    response
}
