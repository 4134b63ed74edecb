//! Kintoun: a Kinto-compatible JSON storage server (Kinto HTTP API 1.23) on SQLite.
//!
//! How the crate is laid out, following a request:
//!
//! * [`Server`] is the one way to run the server: [`Server::open`] prepares the data dir,
//!   secrets ([`secrets`]: OS keyring or 0600 files), storage and the owner account;
//!   [`Server::run`] serves a listener until a shutdown future completes. [`serve`] does both
//!   for the CLI (`kintoun serve`) and the tests; the desktop app keeps the `Server` to mint
//!   its window's session token and read [`stats`].
//! * [`http`] is the shell: axum hands every request to `http::dispatch`, which applies
//!   Kinto's URL rules (version prefix, trailing slash, 404/405), CORS, readonly mode and the
//!   Content-Type/Accept checks, authenticates ([`auth`]) and routes to an endpoint.
//! * [`resource`] is the engine for buckets, collections, groups and records: a parsed `Call`
//!   runs synchronously inside one storage transaction, checking permissions (`auth::permission`),
//!   validating, assigning ids and timestamps, and building the response.
//! * [`storage`] defines the `Tx` operations and runs jobs: reads on a pool of read-only
//!   SQLite connections, writes on one writer thread with group commit (`storage::sqlite`).
//!   After each durable commit the writer announces the lists it changed on the
//!   [`changes::ChangeBus`] ([`Server::changes`]); the live change streams (`http::events`,
//!   `GET .../events`, Server-Sent Events) and the replicator follow it.
//! * [`error`] is the errno table: every failure becomes Kinto's error body there and only there.
//! * [`sharing`] is the household-devices layer: device key, pairing, mDNS and, with
//!   `lan_sharing`, a pinned mutual-TLS LAN listener serving [`Server::app`] where each request
//!   authenticates as `device:<id>` ([`auth::TransportIdentity`]); [`Server::run`] starts and
//!   stops it.
//! * [`sync`] is the replicator: it keeps a local collection in step with a collection on
//!   another Kinto server (pull with `_since`, push with `/batch` and `If-Match`, a conflict
//!   inbox), one task per link, started and stopped by [`Server::run`]; owner endpoints
//!   under `/v1/__sync__`.
//! * [`settings`] reads defaults, a TOML or Kinto `.ini` file, `KINTO_*`/`KINTOUN_*` variables.

pub mod auth;
pub mod changes;
pub mod error;
pub mod http;
pub mod json;
pub mod owner_client;
pub mod plugins;
pub mod pyfmt;
pub mod resource;
pub mod secrets;
pub mod settings;
pub mod sharing;
pub mod stats;
pub mod storage;
pub mod sync;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use plugins::owner::Owner;
pub use settings::Settings;
pub use stats::{Stats, StatsSnapshot};

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
    #[error("secrets: {0}")]
    Secrets(#[from] secrets::SecretError),
    #[error(transparent)]
    Owner(#[from] plugins::owner::OwnerError),
    #[error("cannot load the stored state: {0}")]
    Load(String),
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
        path: dir.join(DATABASE_FILE),
        durability: settings.durability,
        readers: settings.storage_readers,
    })?);
    Ok((Store::new(backend.clone()), backend))
}

/// The database file's name in the data directory.
pub const DATABASE_FILE: &str = "kintoun.sqlite";

/// A server ready to run: storage open, secrets resolved, owner account in place.
pub struct Server {
    state: http::state::AppState,
    backend: Arc<SqliteBackend>,
    secrets: secrets::SecretStore,
    owner: Option<Owner>,
    devices: sharing::attach::Devices,
    sync: sync::Replicator,
}

impl Server {
    /// Prepares the data directory, the secrets (keyring or file), the storage and, on first
    /// start, the owner account.
    pub async fn open(settings: Settings) -> Result<Server, ServeError> {
        let dir = data_dir(&settings).ok_or(ServeError::NoDataDir)?;
        std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir { path: dir.clone(), source })?;
        let secrets = secrets::SecretStore::new(&dir, settings.secrets_backend);
        let userid_secret = match settings.userid_hmac_secret.clone() {
            Some(secret) => secret,
            None => {
                let (store, dir) = (secrets.clone(), dir.clone());
                tokio::task::spawn_blocking(move || userid_secret(&store, &dir))
                    .await
                    .map_err(|e| ServeError::Io(std::io::Error::other(e)))??
            }
        };
        let (store, backend) = open_store(&settings)?;
        let owner = plugins::owner::ensure(&settings, &store, &secrets).await?;
        let mut settings = settings;
        sharing::lan_settings::apply_saved(&mut settings, &sharing::lan_settings::load(&dir));
        let devices =
            sharing::attach::Devices::open(&secrets, sharing::lan_settings::LanSettings::of(&settings)).await?;
        let apps = plugins::apps::AppRegistry::load(&store).await.map_err(|e| ServeError::Load(e.to_string()))?;
        settings.data_dir = Some(dir.clone());
        let state = http::state::AppState {
            changes: store.changes().clone(),
            streams: http::events::Streams::new(settings.events_max_streams),
            settings: Arc::new(settings),
            store,
            userid_secret: userid_secret.into(),
            verified_accounts: Arc::default(),
            sessions: auth::session::SessionTokens::default(),
            stats: Stats::new(&dir.join(DATABASE_FILE)),
            apps: Arc::new(apps),
            extensions: Arc::default(),
        };
        let sync = sync::Replicator::new(state.store.clone(), state.settings.clone(), secrets.clone());
        sync.set_device_connector(sync::device::connector(devices.control().clone(), state.store.clone()));
        let sync_routes = sync::admin::routes(sync::admin::SyncAdmin { replicator: sync.clone(), app: state.clone() });
        let _ = state.extensions.set(devices.routes(&state).merge(sync_routes));
        Ok(Server { state, backend, secrets, owner, devices, sync })
    }

    /// The settings in force (`data_dir` resolved).
    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    pub fn data_dir(&self) -> &Path {
        self.state.settings.data_dir.as_deref().unwrap_or(Path::new("."))
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn secrets(&self) -> &secrets::SecretStore {
        &self.secrets
    }

    /// The owner account, when the settings have one.
    pub fn owner(&self) -> Option<&Owner> {
        self.owner.as_ref()
    }

    /// A new bearer token that authenticates as `user_id` until the server stops; never
    /// stored (the desktop app hands it to its window over IPC).
    pub fn session_token(&self, user_id: &str) -> String {
        self.state.sessions.mint(user_id)
    }

    /// Calls `listener` for every connection request an app makes (the desktop app shows its
    /// consent dialog); the owner answers through `POST /v1/__apps__/requests/{id}`.
    pub fn on_connect_request(&self, listener: plugins::apps::RequestListener) {
        self.state.apps.on_request(listener);
    }

    /// The change bus: one [`changes::Changed`] per list after every committed write, whatever
    /// made it (HTTP, batch, plugins, internal writes through [`Store::write`]).
    pub fn changes(&self) -> &changes::ChangeBus {
        &self.state.changes
    }

    /// The live counters (cheap to clone and keep).
    pub fn stats(&self) -> Stats {
        self.state.stats.clone()
    }

    /// The counters now, with object counts from the storage.
    pub async fn stats_snapshot(&self) -> StatsSnapshot {
        http::service::stats_snapshot(&self.state).await
    }

    /// This install's household-device layer (its device identity; the LAN side while it runs).
    pub fn devices(&self) -> &sharing::attach::Devices {
        &self.devices
    }

    /// The replicator (sync links with other Kinto servers). [`sync::Replicator::nudge`] tells
    /// it that local data changed.
    pub fn sync(&self) -> &sync::Replicator {
        &self.sync
    }

    /// The HTTP application, for a further listener (e.g. the LAN one): same routes (the
    /// owner's `/v1/__devices__` and `/v1/__sync__` endpoints included), same authentication,
    /// same storage.
    pub fn app(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// Serves `listener` until `shutdown` completes, then lets queued writes commit and closes
    /// the storage. With `lan_sharing` on, the LAN listener and discovery run alongside, each
    /// LAN request authenticated as the pinned device (`device:<id>`). The replicator's link
    /// tasks run alongside too, and are stopped before the storage closes.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let app = self.app();
        self.devices.start(&self.state, app.clone()).await?;
        if let Err(err) = self.sync.start().await {
            tracing::error!(error = %err, "the replicator cannot start: sync links are idle");
        }
        // Open change streams never end by themselves: end them first, or the graceful
        // shutdown would wait for them forever.
        let streams = self.state.streams.clone();
        let shutdown = async move {
            shutdown.await;
            streams.close();
        };
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        self.sync.stop().await;
        self.devices.stop();
        let closing = self.backend.clone();
        let _ = tokio::task::spawn_blocking(move || closing.close()).await;
        served.map_err(ServeError::Io)
    }
}

/// The Basic Auth HMAC key kept in the secrets store (moved there from the file of earlier
/// versions, `<data dir>/userid_hmac_secret`).
fn userid_secret(store: &secrets::SecretStore, dir: &Path) -> Result<String, ServeError> {
    const NAME: &str = "userid-hmac-secret";
    let legacy = dir.join("userid_hmac_secret");
    if let Ok(text) = std::fs::read_to_string(&legacy) {
        if store.get(NAME)?.is_none() && !text.trim().is_empty() {
            store.set(NAME, text.trim())?;
        }
        std::fs::remove_file(&legacy).map_err(|source| ServeError::DataDir { path: legacy.clone(), source })?;
    }
    Ok(store.get_or_create(NAME, secrets::random_hex)?.0)
}

/// Serves the Kinto API on `listener` until `shutdown` completes ([`Server::open`] then
/// [`Server::run`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::open(settings).await?.run(listener, shutdown).await
}
