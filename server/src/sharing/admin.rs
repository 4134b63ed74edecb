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
//! | `GET /v1/__devices__/{id}/shares` | admin principals | the collections shared with that paired device (directly, through its bucket or a group) |
//! | `PUT /v1/__devices__/{id}/shares/{bid}/{cid}` `{access: read\|write}` | admin principals | share a collection with a paired device (its own ACEs on it become exactly that) |
//! | `DELETE /v1/__devices__/{id}/shares/{bid}/{cid}` | admin principals | stop sharing it (the device's own ACEs on it go) |
//! | `GET /v1/__devices__/shared` | paired device | what this device shares with the caller: `{device, name, shares: [{bucket, collection, access, via, title}]}` |
//! | `GET /v1/__devices__/shared-with-me` | admin principals | every paired device's answer to the above: `{devices: [{device, display_id, name, reachable, error, shares}]}` |
//! | `GET /v1/__devices__/settings` | admin principals | the LAN settings, which are locked by an environment variable (`pinned`), where the LAN side listens, the machine's interfaces |
//! | `PATCH /v1/__devices__/settings` | admin principals | change any of `lan_sharing`, `device_name`, `lan_interfaces`, `lan_address`, `lan_port`: applied at once (the LAN side restarts) and saved; 400 naming the key when a value is wrong, locked, or cannot work |

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::attach::LanControl;
use super::identity::DeviceId;
use super::lan_settings;
use super::revocation::RevocationNotice;
use super::shares::{self, Access};
use super::{Sharing, SharingError};
use crate::error::ApiError;
use crate::http::state::AppState;

/// What the endpoints share.
#[derive(Clone)]
pub struct AdminState {
    /// The LAN side (running while sharing is on) and its settings.
    pub lan: Arc<LanControl>,
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
        .route("/v1/__devices__/settings", get(settings).patch(change_settings))
        .route("/v1/__devices__/shared", get(shared_with_caller))
        .route("/v1/__devices__/shared-with-me", get(shared_with_me))
        .route("/v1/__devices__/{id}/shares", get(device_shares))
        .route("/v1/__devices__/{id}/shares/{bucket}/{collection}", put(put_share).delete(delete_share))
        .route("/v1/__devices__/{id}", delete(revoke))
        .with_state(state)
}

use crate::http::owner_guard::reply;

fn ok(value: &impl serde::Serialize) -> Response {
    reply(http::StatusCode::OK, value)
}

fn error(state: &AdminState, err: ApiError) -> Response {
    crate::http::owner_guard::error_reply(&state.app, err)
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

async fn caller(state: &AdminState, parts: &http::request::Parts) -> Result<Option<String>, ApiError> {
    crate::http::owner_guard::caller(&state.app, parts).await
}

/// The caller if it is an admin principal (`admin_principals`), else the refusal.
async fn owner(state: &AdminState, parts: &http::request::Parts) -> Result<(), Response> {
    let user = caller(state, parts).await.map_err(|err| error(state, err))?;
    crate::http::service::require_admin(&state.app, user).await.map_err(|err| error(state, err))
}

/// The owner check, then the running LAN side: the prelude of the pairing endpoints.
async fn owned_sharing(state: &AdminState, parts: &http::request::Parts) -> Result<Arc<Sharing>, Response> {
    owner(state, parts).await?;
    running(state).map_err(|err| error(state, err))
}

/// The running LAN side, or the "sharing is off" refusal.
fn running(state: &AdminState) -> Result<Arc<Sharing>, ApiError> {
    state.lan.running().ok_or_else(|| ApiError::from(SharingError::Off))
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
    let sharing = state.lan.running();
    let name = state.lan.settings().await.effective_name();
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
            "name": sharing.as_ref().map(|s| s.name().to_owned()).unwrap_or(name),
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
    let events = state.lan.events(since.since.unwrap_or(0));
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

/// The settings as the settings endpoints show them.
async fn settings_view(state: &AdminState) -> Value {
    let settings = state.lan.settings().await;
    let listening = state.lan.running().map(|sharing| sharing.data_addr());
    let from_env = state.app.settings.from_env.clone();
    tokio::task::spawn_blocking(move || lan_settings::view(&settings, &from_env, listening))
        .await
        .unwrap_or(Value::Null)
}

async fn settings(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    ok(&settings_view(&state).await)
}

/// Applies the change (restarting the LAN side), then saves it; a change that cannot work
/// (say, a port in use) leaves the previous settings running and nothing saved.
async fn change_settings(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let body: Value = match json_body(&state, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let data_dir = state.app.settings.data_dir.clone().unwrap_or_default();
    let before = state.lan.settings().await;
    let saved = lan_settings::load(&data_dir);
    let update = match lan_settings::update(&before, &saved, &body, &state.app.settings.from_env) {
        Ok(update) => update,
        Err(err) => return error(&state, err),
    };
    if let Err(err) = state.lan.reconfigure(update.settings.clone()).await {
        let key = match &err {
            SharingError::Listen(_) => "lan_port",
            _ => "lan_sharing",
        };
        return error(&state, ApiError::invalid_body(key, format!("These settings cannot work: {err}")));
    }
    let saved = update.saved;
    let written = tokio::task::spawn_blocking(move || lan_settings::save(&data_dir, &saved)).await;
    if let Err(err) = written.map_err(std::io::Error::other).and_then(|result| result) {
        tracing::error!(error = %err, "cannot save the LAN settings; putting the previous ones back");
        let _ = state.lan.reconfigure(before).await;
        return error(&state, ApiError::Backend(format!("cannot save the LAN settings: {err}")));
    }
    ok(&settings_view(&state).await)
}

/// A paired device named in the path (its id in any written form); LAN sharing may be off.
async fn paired_device(state: &AdminState, id: &str) -> Result<DeviceId, ApiError> {
    let missing = || ApiError::ObjectNotFound { id: id.to_owned(), resource_name: "device" };
    let device = DeviceId::parse(id).map_err(|_| missing())?;
    let paired = state.app.store.read(|tx| tx.devices()).await?;
    if !paired.iter().any(|row| row.id == device.compact()) {
        return Err(missing());
    }
    Ok(device)
}

async fn device_shares(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let device = match paired_device(&state, &id).await {
        Ok(device) => device,
        Err(err) => return error(&state, err),
    };
    match state.app.store.read(move |tx| shares::shares_of(tx, &device)).await {
        Ok(list) => ok(&json!({ "device": device.compact(), "shares": list })),
        Err(err) => error(&state, err.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    access: Access,
}

async fn put_share(
    State(state): State<AdminState>,
    Path((id, bucket, collection)): Path<(String, String, String)>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let body: ShareBody = match json_body(&state, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    change_share(&state, &id, bucket, collection, Some(body.access)).await
}

async fn delete_share(
    State(state): State<AdminState>,
    Path((id, bucket, collection)): Path<(String, String, String)>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    change_share(&state, &id, bucket, collection, None).await
}

async fn change_share(
    state: &AdminState,
    id: &str,
    bucket: String,
    collection: String,
    access: Option<Access>,
) -> Response {
    let device = match paired_device(state, id).await {
        Ok(device) => device,
        Err(err) => return error(state, err),
    };
    let (b, c) = (bucket.clone(), collection.clone());
    match state.app.store.write(move |tx| shares::set_share(tx, &device, &b, &c, access)).await {
        Ok(()) => {
            tracing::info!(device = %device, %bucket, %collection, ?access, "share changed");
            ok(&json!({ "device": device.compact(), "bucket": bucket, "collection": collection, "access": access }))
        }
        Err(err) => error(state, err),
    }
}

/// What this device shares with the paired device asking (over the LAN listener).
async fn shared_with_caller(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    let device = match caller(&state, &parts).await {
        Ok(Some(user)) => match user.strip_prefix("device:").map(DeviceId::parse) {
            Some(Ok(device)) => device,
            _ => return error(&state, ApiError::Forbidden),
        },
        Ok(None) => return error(&state, crate::auth::deny(&state.app.settings, None)),
        Err(err) => return error(&state, err),
    };
    let name = state.lan.settings().await.effective_name();
    match state.app.store.read(move |tx| shares::shares_of(tx, &device)).await {
        Ok(list) => ok(&json!({ "device": state.this.compact(), "name": name, "shares": list })),
        Err(err) => error(&state, err.into()),
    }
}

/// What every paired device shares with this one (each asked over the LAN at once).
async fn shared_with_me(State(state): State<AdminState>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    let sharing = match owned_sharing(&state, &parts).await {
        Ok(sharing) => sharing,
        Err(refusal) => return refusal,
    };
    match shares::shared_with_me(&sharing).await {
        Ok(devices) => ok(&json!({ "devices": devices })),
        Err(err) => error(&state, err.into()),
    }
}
