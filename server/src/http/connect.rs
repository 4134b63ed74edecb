//! The connect-flow endpoints ([`crate::plugins::apps`]): `/connect` for apps (any origin may
//! ask; only the owner's approval grants anything) and `/__apps__` for the owner.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::routes::Route;
use crate::http::service::require_admin;
use crate::http::state::AppState;
use crate::plugins::apps::{ConnectBody, list_apps};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    code: String,
    code_verifier: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    approve: bool,
}

/// A JSON body of type `T`, or Kinto's 400 naming what is wrong.
fn parse<T: for<'de> Deserialize<'de>>(request: &ApiRequest) -> Result<T, ApiError> {
    serde_json::from_slice(&request.body).map_err(|e| ApiError::invalid_body("body", format!("body: {e}")))
}

/// Answers one of the connect-flow routes.
pub async fn answer(
    state: &AppState,
    request: &ApiRequest,
    route: &Route,
    user_id: Option<String>,
) -> Result<ApiResponse, ApiError> {
    let origin = request.header("origin");
    match route {
        Route::Connect => {
            let body: ConnectBody = parse(request)?;
            let pending = state.apps.request(body, origin)?;
            let poll = format!("/v1/connect/{}", pending.id);
            Ok(ApiResponse::json(
                201,
                &json!({"id": pending.id, "status": pending.status, "expires_at": pending.expires_at, "poll": poll}),
            ))
        }
        Route::ConnectRequest(id) => Ok(ApiResponse::json(200, &state.apps.status(id, origin)?)),
        Route::ConnectToken(id) => {
            let body: TokenBody = parse(request)?;
            let token = state.apps.exchange(&state.store, id, origin, &body.code, &body.code_verifier).await?;
            Ok(ApiResponse::json(201, &token))
        }
        Route::Apps => {
            require_admin(state, user_id).await?;
            let apps = state.store.read(|tx| list_apps(tx)).await?;
            let body = json!({"pending": state.apps.pending(), "apps": apps});
            Ok(ApiResponse::json(200, &body))
        }
        Route::AppRequest(id) => {
            require_admin(state, user_id).await?;
            let decision: Decision = parse(request)?;
            let decided = state.apps.decide(&state.store, id, decision.approve).await?;
            let body = serde_json::to_value(&decided).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(ApiResponse::json(200, &body))
        }
        Route::App(id) => {
            require_admin(state, user_id).await?;
            let app = state.apps.revoke(&state.store, id).await?;
            let body: Value = serde_json::to_value(&app).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(ApiResponse::json(200, &json!({"data": body, "deleted": true})))
        }
        _ => Err(ApiError::Internal("not a connect route".into())),
    }
}
