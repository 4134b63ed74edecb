//! Kintoun: a Kinto-compatible JSON storage server (Kinto HTTP API 1.23) on SQLite.
//!
//! How the crate is laid out, following a request:
//!
//! * [`serve`] is the one way to start the server: a listener, [`Settings`], a shutdown
//!   future. The CLI (`kintoun serve`), the desktop app and the tests all call it.
//! * [`http`] is the shell: axum hands every request to `http::dispatch`, which applies
//!   Kinto's URL rules (version prefix, trailing slash, 404/405), CORS, readonly mode and the
//!   Content-Type/Accept checks, authenticates ([`auth`]) and routes to an endpoint.
//! * [`resource`] is the engine for buckets, collections, groups and records: a parsed `Call`
//!   runs synchronously inside one storage transaction, checking permissions (`auth::permission`),
//!   validating, assigning ids and timestamps, and building the response.
//! * [`storage`] defines the `Tx` operations and runs jobs: reads on a pool of read-only
//!   SQLite connections, writes on one writer thread with group commit (`storage::sqlite`).
//! * [`error`] is the errno table: every failure becomes Kinto's error body there and only there.
//! * [`settings`] reads defaults, a TOML or Kinto `.ini` file, `KINTO_*`/`KINTOUN_*` variables.

pub mod auth;
pub mod error;
pub mod http;
pub mod json;
pub mod plugins;
pub mod pyfmt;
pub mod resource;
pub mod secrets;
pub mod settings;
pub mod sharing;
pub mod storage;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub use settings::Settings;

use storage::Store;
use storage::sqlite::{SqliteBackend, SqliteOptions};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Storage(#[from] storage::sqlite::OpenError),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("no data directory: set data_dir or KINTOUN_DATA_DIR")]
    NoDataDir,
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("LAN sharing: {0}")]
    Sharing(#[from] sharing::SharingError),
}

/// The data directory: the configured one, or the platform's (`~/.local/share/kintoun`).
pub fn data_dir(settings: &Settings) -> Option<PathBuf> {
    settings.data_dir.clone().or_else(|| {
        directories::ProjectDirs::from("org", "Kintoun", "kintoun").map(|dirs| dirs.data_dir().to_path_buf())
    })
}

/// Opens the storage of these settings (creating the data directory).
pub fn open_store(settings: &Settings) -> Result<(Store, Arc<SqliteBackend>), ServeError> {
    let dir = data_dir(settings).ok_or(ServeError::NoDataDir)?;
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir { path: dir.clone(), source })?;
    let backend = Arc::new(SqliteBackend::open(&SqliteOptions {
        path: dir.join("kintoun.sqlite"),
        durability: settings.durability,
        readers: settings.storage_readers,
    })?);
    Ok((Store::new(backend.clone()), backend))
}

/// Serves the Kinto API on `listener` until `shutdown` completes, then lets queued writes
/// commit and closes the storage.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let dir = data_dir(&settings).ok_or(ServeError::NoDataDir)?;
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir { path: dir.clone(), source })?;
    let userid_secret = secrets::userid_secret(settings.userid_hmac_secret.as_deref(), &dir)
        .map_err(|source| ServeError::DataDir { path: dir.clone(), source })?;
    let (store, backend) = open_store(&settings)?;
    let mut settings = settings;
    settings.data_dir = Some(dir.clone());
    let state = http::state::AppState {
        settings: Arc::new(settings),
        store,
        userid_secret: userid_secret.into(),
        verified_accounts: Arc::default(),
    };
    let app = http::router(state.clone());
    // Household devices: the owner's /v1/__devices__ endpoints; the LAN listener when `lan_sharing`.
    let (app, devices) = sharing::attach::attach(app, &state, &dir).await?;
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    if let Some(devices) = devices {
        devices.stop();
    }
    let closing = backend.clone();
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
    served.map_err(ServeError::Io)
}
