//! The IPC commands the window calls (`invoke(...)`): the owner's session for the web UI, and
//! what the status page shows. Credentials cross here and nowhere else.

use std::path::PathBuf;

use serde::Serialize;
use tauri::State;

use crate::app::AppState;
use crate::error::DesktopError;
use crate::server::Status;

/// What the web UI needs to talk to the server as the owner.
#[derive(Debug, Serialize)]
pub struct Session {
    pub url: String,
    /// Per-launch bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    pub user: String,
    pub data_dir: PathBuf,
}

/// How long `session` waits for a server that is still starting.
const STARTUP_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The UI's session: the server URL and a bearer token that authenticates as the owner. The
/// window may load before the server is up: this waits for the start to finish.
#[tauri::command]
pub async fn session(state: State<'_, AppState>) -> Result<Session, DesktopError> {
    state.control.started(STARTUP_WAIT).await;
    let (url, token, user) = state.control.session()?;
    Ok(Session { url, token, user, data_dir: state.control.status().data_dir })
}

/// The status page's view: the server's state plus where things are kept.
#[derive(Debug, Serialize)]
pub struct StatusView {
    #[serde(flatten)]
    pub status: Status,
    pub config_path: PathBuf,
    pub log_dir: PathBuf,
    pub version: &'static str,
}

#[tauri::command]
pub fn status(state: State<'_, AppState>) -> StatusView {
    let status = state.control.status();
    let log_dir = status.data_dir.join("logs");
    StatusView { status, config_path: state.config_path(), log_dir, version: env!("CARGO_PKG_VERSION") }
}

/// The owner's password, for the status page's "Show password" (only on request).
#[tauri::command]
pub fn owner_password(state: State<'_, AppState>) -> Result<String, DesktopError> {
    state.control.owner()?.password.ok_or(DesktopError::NoOwnerPassword)
}

/// The most recent log lines (oldest first), 200 unless told.
#[tauri::command]
pub fn recent_logs(state: State<'_, AppState>, limit: Option<usize>) -> Vec<String> {
    state.logs.tail(limit.unwrap_or(200))
}

/// The way out of "port already in use": a free port, saved in the config file, and a restart.
#[tauri::command]
pub async fn use_another_port(app: tauri::AppHandle) -> Result<Status, DesktopError> {
    crate::app::use_another_port(&app).await
}
