//! What every request handler shares: settings, the store, the resolved secrets.

use std::sync::{Arc, OnceLock};

use crate::auth::session::SessionTokens;
use crate::changes::ChangeBus;
use crate::http::events::Streams;
use crate::plugins::accounts::VerifiedCache;
use crate::plugins::apps::AppRegistry;
use crate::settings::Settings;
use crate::stats::Stats;
use crate::storage::Store;

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    /// The key for Basic Auth user ids (`userid_hmac_secret`, or the generated one).
    pub userid_secret: Arc<str>,
    /// Accounts whose password was verified recently.
    pub verified_accounts: Arc<VerifiedCache>,
    /// Bearer tokens minted in-process (the desktop window's owner session).
    pub sessions: SessionTokens,
    /// Live counters for `/__stats__`.
    pub stats: Stats,
    /// Connected apps: pending connection requests and approved origins.
    pub apps: Arc<AppRegistry>,
    /// A message after every committed write (the storage's bus, see [`crate::changes`]).
    pub changes: ChangeBus,
    /// The open change streams (`.../events`).
    pub streams: Streams,
    /// The routers of layers with their own endpoints (`Route::Extension`: the device layer's
    /// `/v1/__devices__`), set once when the server is assembled.
    pub extensions: Arc<OnceLock<axum::Router>>,
}
