//! The owner's endpoints for sync links (used by `kintoun sync ...` and the UI), for
//! `admin_principals` only (401 anonymous, 403 others), errors in Kinto's format. They are an
//! extension of the Kinto pipeline (`Route::Extension`, see `http::routes::sync_route`), which
//! checks Host, CORS, methods and Content-Type first:
//!
//! | method & path | what |
//! |---|---|
//! | `GET /v1/__sync__/links` | `{data: [link]}`: each link with its checkpoints, last sync, last error, conflicts and live progress |
//! | `POST /v1/__sync__/links` `{local: {bucket, collection}, remote: {url, bucket, collection, user?, password?}, direction?}` | checks the remote, creates the local collection if missing → 201 `{data: link}` |
//! | `GET /v1/__sync__/links/{id}` | `{data: link}` |
//! | `DELETE /v1/__sync__/links/{id}` | stops and forgets the link (data stays) → `{data: {id, deleted: true}}` |
//! | `POST /v1/__sync__/links/{id}/sync` | sync now → 202 `{data: {run}}`; done when the link's `progress.completed_run` reaches `run` |
//! | `GET /v1/__sync__/links/{id}/conflicts` | `{data: [{record_id, mine, theirs, base, ...}]}` |
//! | `POST /v1/__sync__/links/{id}/conflicts/{record_id}` `{resolution: mine\|theirs\|merge, data?}` | settles it → `{data: {record_id, resolution, data, push}}` |

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::conflicts::{self, Resolution};
use super::link::{LinkView, NewLink};
use super::runner::Replicator;
use super::{SyncError, manage};
use crate::error::ApiError;
use crate::http::state::AppState;

/// What the endpoints share.
#[derive(Clone)]
pub struct SyncAdmin {
    pub replicator: Replicator,
    pub app: AppState,
}

/// The routes, merged into the server's extension router.
pub fn routes(state: SyncAdmin) -> axum::Router {
    axum::Router::new()
        .route("/v1/__sync__/links", get(list).post(create))
        .route("/v1/__sync__/links/{id}", get(show).delete(remove))
        .route("/v1/__sync__/links/{id}/sync", post(sync_now))
        .route("/v1/__sync__/links/{id}/conflicts", get(list_conflicts))
        .route("/v1/__sync__/links/{id}/conflicts/{record}", post(resolve))
        .with_state(state)
}

use crate::http::owner_guard::reply;

fn data(status: http::StatusCode, value: impl serde::Serialize) -> Response {
    reply(status, &json!({ "data": serde_json::to_value(value).unwrap_or(Value::Null) }))
}

fn error(state: &SyncAdmin, err: ApiError) -> Response {
    crate::http::owner_guard::error_reply(&state.app, err)
}

impl From<SyncError> for ApiError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::UnknownLink(id) => ApiError::ObjectNotFound { id, resource_name: "link" },
            SyncError::Storage(err) => ApiError::from(err),
            SyncError::Local(err) => err,
            other => ApiError::Backend(other.to_string()),
        }
    }
}

/// The owner check; the owner's user id.
async fn owner(state: &SyncAdmin, parts: &http::request::Parts) -> Result<String, Response> {
    crate::http::owner_guard::require_owner(&state.app, parts).await.map_err(|err| error(state, err))
}

/// A link as shown, with its conflicts count and live progress.
async fn view(state: &SyncAdmin, id: &str) -> Result<LinkView, ApiError> {
    // The progress first: a run records its outcome in the link before it counts as completed,
    // so the link read next is at least as new as the progress shown with it.
    let progress = state.replicator.progress(id).and_then(|p| serde_json::to_value(p).ok());
    let link_id = id.to_owned();
    let (link, conflicts) = state
        .replicator
        .store()
        .read(move |tx| Ok::<_, ApiError>((tx.sync_link(&link_id)?, tx.sync_conflicts(&link_id)?.len() as u64)))
        .await?;
    let link = link.ok_or_else(|| ApiError::ObjectNotFound { id: id.to_owned(), resource_name: "link" })?;
    Ok(LinkView::of(&link, conflicts, progress))
}

async fn list(State(state): State<SyncAdmin>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let progress = state.replicator.progress_all();
    let found =
        state.replicator.store().read(|tx| Ok::<_, ApiError>((tx.sync_links()?, tx.sync_conflict_counts()?))).await;
    match found {
        Ok((links, counts)) => {
            let views: Vec<LinkView> = links
                .iter()
                .map(|link| {
                    let conflicts = counts.iter().find(|(id, _)| *id == link.id).map_or(0, |(_, n)| *n);
                    let progress = progress.get(&link.id).and_then(|p| serde_json::to_value(p).ok());
                    LinkView::of(link, conflicts, progress)
                })
                .collect();
            data(http::StatusCode::OK, views)
        }
        Err(err) => error(&state, err),
    }
}

async fn body_bytes(state: &SyncAdmin, body: axum::body::Body) -> Result<bytes::Bytes, Response> {
    const LIMIT: usize = 64 * 1024;
    axum::body::to_bytes(body, LIMIT).await.map_err(|_| error(state, ApiError::PayloadTooLarge { limit: LIMIT }))
}

async fn create(State(state): State<SyncAdmin>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let user = match owner(&state, &parts).await {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    let bytes = match body_bytes(&state, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let new = match NewLink::parse(&bytes) {
        Ok(new) => new,
        Err(err) => return error(&state, err),
    };
    match manage::create(&state.replicator, new, &user).await {
        Ok(view) => data(http::StatusCode::CREATED, view),
        Err(err) => error(&state, err),
    }
}

async fn show(State(state): State<SyncAdmin>, Path(id): Path<String>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    match view(&state, &id).await {
        Ok(view) => data(http::StatusCode::OK, view),
        Err(err) => error(&state, err),
    }
}

async fn remove(State(state): State<SyncAdmin>, Path(id): Path<String>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    match manage::remove(&state.replicator, &id).await {
        Ok(link) => data(http::StatusCode::OK, json!({"id": link.id, "deleted": true})),
        Err(err) => error(&state, err),
    }
}

async fn sync_now(State(state): State<SyncAdmin>, Path(id): Path<String>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    if let Err(err) = view(&state, &id).await {
        return error(&state, err);
    }
    match state.replicator.sync_now(&id) {
        Ok(run) => data(http::StatusCode::ACCEPTED, json!({ "run": run })),
        Err(err) => error(&state, err.into()),
    }
}

async fn list_conflicts(
    State(state): State<SyncAdmin>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let link_id = id.clone();
    let found = state
        .replicator
        .store()
        .read(move |tx| match tx.sync_link(&link_id)? {
            Some(link) => Ok(conflicts::list(tx, &link)?),
            None => Err(ApiError::ObjectNotFound { id: link_id, resource_name: "link" }),
        })
        .await;
    match found {
        Ok(list) => data(http::StatusCode::OK, list),
        Err(err) => error(&state, err),
    }
}

async fn resolve(
    State(state): State<SyncAdmin>,
    Path((id, record)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refusal) = owner(&state, &parts).await {
        return refusal;
    }
    let bytes = match body_bytes(&state, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let resolution = match serde_json::from_slice::<Value>(&bytes) {
        Ok(body) => Resolution::parse(&body),
        Err(err) => Err(ApiError::invalid_body("", err.to_string())),
    };
    let resolution = match resolution {
        Ok(resolution) => resolution,
        Err(err) => return error(&state, err),
    };
    let (settings, link_id) = (state.app.settings.clone(), id.clone());
    let resolved: Result<conflicts::Resolved, ApiError> = state
        .replicator
        .store()
        .write(move |tx| match tx.sync_link(&link_id)? {
            Some(link) => conflicts::resolve(tx, &settings, &link, &record, resolution),
            None => Err(ApiError::ObjectNotFound { id: link_id, resource_name: "link" }),
        })
        .await;
    match resolved {
        Ok(mut resolved) => {
            let unused_files = std::mem::take(&mut resolved.unused_files);
            super::local::remove_unused_files(state.replicator.store(), state.app.settings.clone(), unused_files).await;
            if resolved.push {
                let _ = state.replicator.sync_now(&id);
            }
            data(http::StatusCode::OK, resolved)
        }
        Err(err) => error(&state, err),
    }
}
