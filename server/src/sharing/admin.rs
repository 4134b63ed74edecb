//! The owner's HTTP endpoints for devices (used by `kintoun devices`/`kintoun pair` and the UI's
//! Devices page), and the endpoint paired devices post revocation notices to:
//!
//! | method & path | who | what |
//! |---|---|---|
//! | `GET /v1/__devices__` | admin principals | this device, paired devices (with open connections), nearby devices |
//! | `POST /v1/__devices__/pairing` | admin principals | show a new code: `{code, expires_in_seconds, attempts_left, pairing_port, qr_payload, ...}` |
//! | `GET /v1/__devices__/pairing` | admin principals | the code's state (`live`, `used`, `burned`, `expired`, `none`) and the last pairing's check string |
//! | `DELETE /v1/__devices__/pairing` | admin principals | withdraw the code |
//! | `GET /v1/__devices__/pairing/qr.svg` | admin principals | the live code's QR payload as an SVG image |
//! | `POST /v1/__devices__/join` `{device, code}` | admin principals | pair with a device showing `code` → `{device, display_id, name, sas}` (then pending) |
//! | `POST /v1/__devices__/{id}/confirm` | admin principals | the check strings match: pin the pending peer → `{device, display_id, name, state: "paired"}` |
//! | `DELETE /v1/__devices__/{id}` | admin principals | a pending peer: reject it → `{..., state: "rejected"}`; a paired one: revoke → `{device, was_paired, acls, groups, connections_closed, notified, not_notified}` |
//! | `GET /v1/__devices__/events?since=N` | admin principals | `{events: [{serial, at, type, ...}]}` for notifications |
//! | `POST /v1/__devices__/notices` | paired device | a signed revocation notice |

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::identity::DeviceId;
use super::revocation::RevocationNotice;
use super::{Sharing, SharingError};
use crate::error::ApiError;
use crate::http::state::AppState;

/// What the endpoints share.
#[derive(Clone)]
pub struct AdminState {
    /// Set while LAN sharing runs.
    pub sharing: Arc<ArcSwapOption<Sharing>>,
    /// This device, even when sharing is off.
    pub this: DeviceId,
    /// The server's state: settings, storage and authentication.
    pub app: AppState,
}

/// The routes, to merge into the app.
pub fn routes(state: AdminState) -> axum::Router {
    axum::Router::new()
        .route("/v1/__devices__", get(overview))
        .route("/v1/__devices__/pairing", post(invite).get(pairing_status).delete(cancel))
        .route("/v1/__devices__/pairing/qr.svg", get(pairing_qr))
        .route("/v1/__devices__/join", post(join))
        .route("/v1/__devices__/{id}/confirm", post(confirm))
        .route("/v1/__devices__/events", get(events))
        .route("/v1/__devices__/notices", post(notice))
        .route("/v1/__devices__/{id}", delete(revoke))
        .with_state(state)
}

/// A JSON response (axum's `json` feature is not compiled in).
fn reply(status: http::StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn ok(value: &impl serde::Serialize) -> Response {
    reply(http::StatusCode::OK, value)
}

fn error(state: &AdminState, err: ApiError) -> Response {
    let status = http::StatusCode::from_u16(err.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    reply(status, &err.body(&state.app.settings.error_info_link))
}

impl From<SharingError> for ApiError {
    fn from(err: SharingError) -> Self {
        match err {
            SharingError::UnknownDevice(id) | SharingError::NotPending(id) => {
                ApiError::ObjectNotFound { id, resource_name: "device" }
            }
            SharingError::Storage(err) => ApiError::from(err),
            SharingError::Listen(_) | SharingError::Tls(_) | SharingError::Internal(_) => {
                ApiError::Backend(err.to_string())
            }
            SharingError::Pairing(super::pairing::PairingError::Io(_)) => ApiError::Backend(err.to_string()),
            SharingError::Notice(_) => ApiError::Forbidden,
            _ => ApiError::BadRequest(err.to_string()),
        }
    }
}

/// The caller's user id as the server authenticates it (see [`crate::http::owner_guard`]).
async fn caller(state: &AdminState, parts: &http::request::Parts) -> Result<Option<String>, ApiError> {
    crate::http::owner_guard::caller(&state.app, parts).await
}

/// The caller if it is an admin principal (`admin_principals`), else the refusal.
async fn owner(state: &AdminState, parts: &http::request::Parts) -> Result<(), Response> {
    crate::http::owner_guard::require_owner(&state.app, parts).await.map(drop).map_err(|err| error(state, err))
}

/// The owner check, then the running LAN side: the prelude of the pairing endpoints.
async fn owned_sharing(state: &AdminState, parts: &http::request::Parts) -> Result<Arc<Sharing>, Response> {
    owner(state, parts).await?;
    running(state).map_err(|err| error(state, err))
}

/// The running LAN side, or the "sharing is off" refusal.
fn running(state: &AdminState) -> Result<Arc<Sharing>, ApiError> {
    state.sharing.load_full().ok_or_else(|| ApiError::from(SharingError::Off))
}

async fn overview(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let paired = match state.app.store.read(|tx| tx.devices()).await {
        Ok(paired) => paired,
        Err(err) => return error(&state, ApiError::from(err)),
    };
    let sharing = state.sharing.load_full();
    let nearby = sharing.as_ref().map(|s| s.nearby()).unwrap_or_default();
    let paired: Vec<Value> = paired
        .iter()
        .map(|d| {
            let id = DeviceId::parse(&d.id).ok();
            json!({
                "id": d.id,
                "display_id": id.map(|id| id.display()),
                "principal": id.map(|id| id.principal()),
                "name": d.name,
                "address": d.address,
                "paired_at": d.paired_at,
                "connections": match (&sharing, id) { (Some(s), Some(id)) => s.connections().count(&id), _ => 0 },
                "nearby": nearby.iter().any(|n| n.id == d.id),
            })
        })
        .collect();
    let paired_ids: Vec<&str> = paired.iter().filter_map(|d| d["id"].as_str()).collect();
    let nearby: Vec<Value> = nearby
        .iter()
        .map(|n| {
            let mut value = serde_json::to_value(n).unwrap_or(Value::Null);
            value["paired"] = Value::Bool(paired_ids.contains(&n.id.as_str()));
            value
        })
        .collect();
    ok(&json!({
        "lan_sharing": sharing.is_some(),
        "this": {
            "id": state.this.compact(),
            "display_id": state.this.display(),
            "principal": state.this.principal(),
            "name": sharing.as_ref().map(|s| s.name().to_owned()),
            "address": sharing.as_ref().map(|s| s.data_addr().to_string()),
        },
        "paired": paired,
        "pending": sharing.as_ref().map(|s| s.pending()).unwrap_or_default(),
        "nearby": nearby,
    }))
}

async fn invite(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    let sharing = match owned_sharing(&state, &parts).await {
        Ok(sharing) => sharing,
        Err(refusal) => return refusal,
    };
    match sharing.invite().await {
        Ok(view) => reply(http::StatusCode::CREATED, &view),
        Err(err) => error(&state, err.into()),
    }
}

async fn pairing_status(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    match owned_sharing(&state, &parts).await {
        Ok(sharing) => ok(&sharing.pairing_view()),
        Err(refusal) => refusal,
    }
}

async fn pairing_qr(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    let sharing = match owned_sharing(&state, &parts).await {
        Ok(sharing) => sharing,
        Err(refusal) => return refusal,
    };
    let Some(payload) = sharing.pairing_view().qr_payload else {
        return error(&state, ApiError::from(SharingError::NoLiveCode));
    };
    match qrcode::QrCode::new(payload.as_bytes()) {
        Ok(code) => {
            let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build();
            (http::StatusCode::OK, [(http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        Err(err) => error(&state, ApiError::Backend(format!("QR code: {err}"))),
    }
}

async fn cancel(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    match owned_sharing(&state, &parts).await {
        Ok(sharing) => {
            sharing.cancel_invitation();
            ok(&sharing.pairing_view())
        }
        Err(refusal) => refusal,
    }
}

#[derive(Deserialize)]
struct JoinBody {
    device: String,
    code: String,
}

async fn json_body<T: serde::de::DeserializeOwned>(state: &AdminState, body: axum::body::Body) -> Result<T, Response> {
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| error(state, ApiError::PayloadTooLarge { limit: 64 * 1024 }))?;
    serde_json::from_slice(&bytes).map_err(|e| error(state, ApiError::invalid_body("body", e.to_string())))
}

async fn join(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let body: JoinBody = match json_body(&state, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let sharing = match running(&state) {
        Ok(sharing) => sharing,
        Err(err) => return error(&state, err),
    };
    match sharing.join(&body.device, &body.code).await {
        Ok(view) => reply(http::StatusCode::CREATED, &view),
        Err(err) => error(&state, err.into()),
    }
}

/// The owner check, the device id from the path and the running LAN side.
async fn device_request(
    state: &AdminState,
    id: &str,
    request: axum::extract::Request,
) -> Result<(DeviceId, Arc<Sharing>), Response> {
    let (parts, _) = request.into_parts();
    owner(state, &parts).await?;
    let device = DeviceId::parse(id)
        .map_err(|err| error(state, ApiError::invalid(crate::error::Location::Path, Some("id"), err.to_string())))?;
    let sharing = running(state).map_err(|err| error(state, err))?;
    Ok((device, sharing))
}

async fn confirm(State(state): State<AdminState>, Path(id): Path<String>, request: axum::extract::Request) -> Response {
    let (device, sharing) = match device_request(&state, &id, request).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    match sharing.confirm(device).await {
        Ok(view) => ok(&view),
        Err(err) => error(&state, err.into()),
    }
}

async fn revoke(State(state): State<AdminState>, Path(id): Path<String>, request: axum::extract::Request) -> Response {
    let (device, sharing) = match device_request(&state, &id, request).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    if let Some(rejected) = sharing.reject(device) {
        return ok(&rejected);
    }
    match sharing.revoke(device).await {
        Ok(report) => ok(&report),
        Err(err) => error(&state, err.into()),
    }
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn events(
    State(state): State<AdminState>,
    Query(since): Query<Since>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let events = state.sharing.load_full().map(|s| s.events(since.since.unwrap_or(0))).unwrap_or_default();
    ok(&json!({ "events": events }))
}

async fn notice(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let sender = match caller(&state, &parts).await {
        Ok(Some(user)) => match user.strip_prefix("device:").map(DeviceId::parse) {
            Some(Ok(device)) => device,
            _ => return error(&state, ApiError::Forbidden),
        },
        Ok(None) => return error(&state, crate::auth::deny(&state.app.settings, None)),
        Err(err) => return error(&state, err),
    };
    let notice: RevocationNotice = match json_body(&state, body).await {
        Ok(notice) => notice,
        Err(refusal) => return refusal,
    };
    let sharing = match running(&state) {
        Ok(sharing) => sharing,
        Err(err) => return error(&state, err),
    };
    match sharing.receive_notice(sender, notice).await {
        Ok(applied) => ok(&json!({ "applied": applied.is_some(), "removal": applied })),
        Err(err) => error(&state, err.into()),
    }
}
