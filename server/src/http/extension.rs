//! Hands a request that passed the common checks (Host, CORS, methods, Content-Type,
//! authentication) to the router of a layer with its own endpoints (`Route::Extension`), and
//! brings its answer back into the pipeline, which adds the common headers and counts it.

use axum::body::Body;
use tower_service::Service;

use crate::auth::TransportIdentity;
use crate::error::ApiError;
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::state::AppState;

/// The largest answer an extension endpoint may give (JSON listings, a QR code as SVG).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Runs `request` through the extension routers.
pub async fn forward(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let Some(router) = state.extensions.get() else {
        return Err(ApiError::UnknownRoute);
    };
    let uri =
        if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
    let mut inner = http::Request::builder()
        .method(request.method.clone())
        .uri(uri)
        .body(Body::from(request.body.clone()))
        .map_err(|err| ApiError::BadRequest(format!("Invalid request: {err}")))?;
    *inner.headers_mut() = request.headers.clone();
    if let Some(identity) = &request.transport_identity {
        inner.extensions_mut().insert(TransportIdentity(identity.to_string()));
    }
    let response = match router.clone().call(inner).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_ANSWER_BYTES)
        .await
        .map_err(|err| ApiError::Internal(format!("extension answer: {err}")))?;
    Ok(ApiResponse { status: parts.status, headers: parts.headers, body })
}
