//! Plugs the device layer into a [`crate::Server`]: the device key (secret `device-key` in the
//! server's [`SecretStore`]), the owner's `/v1/__devices__` endpoints merged into the app, and —
//! when `lan_sharing` is on — the LAN listener serving that same app to pinned devices (each
//! request as `device:<id>`, see [`super::listener`]).

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use super::admin::AdminState;
use super::identity::{DeviceIdentity, SECRET_NAME};
use super::{Sharing, SharingConfig, SharingError};
use crate::http::state::AppState;
use crate::secrets::SecretStore;

/// Reads the device key seed from the secrets store, creating it once.
pub fn device_key_seed(secrets: &SecretStore) -> Result<String, SharingError> {
    let (seed, source) = secrets
        .get_or_create(SECRET_NAME, DeviceIdentity::generate_seed_hex)
        .map_err(|e| SharingError::Internal(format!("device key: {e}")))?;
    tracing::debug!(?source, "device key loaded");
    Ok(seed)
}

/// Reads the device layer's events (cheap to clone).
#[derive(Clone)]
pub struct DeviceEvents {
    running: Arc<ArcSwapOption<Sharing>>,
}

impl DeviceEvents {
    /// The events after serial `since` (what `GET /v1/__devices__/events?since=N` lists).
    pub fn since(&self, since: u64) -> Vec<super::service::Event> {
        self.running.load().as_ref().map(|sharing| sharing.events(since)).unwrap_or_default()
    }
}

/// This install's device layer: its identity, and the running LAN side once started.
pub struct Devices {
    seed: String,
    identity: DeviceIdentity,
    running: Arc<ArcSwapOption<Sharing>>,
}

impl Devices {
    /// Loads (or creates) the device key; the keyring may block, so this runs off the runtime.
    pub async fn open(secrets: &SecretStore) -> Result<Devices, SharingError> {
        let secrets = secrets.clone();
        let seed = tokio::task::spawn_blocking(move || device_key_seed(&secrets))
            .await
            .map_err(|e| SharingError::Internal(e.to_string()))??;
        let identity = DeviceIdentity::from_seed_hex(&seed)?;
        Ok(Devices { seed, identity, running: Arc::default() })
    }

    /// This device's identity.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// The `/v1/__devices__` endpoints, to merge in front of the server's app.
    pub fn routes(&self, state: &AppState) -> axum::Router {
        super::admin::routes(AdminState { sharing: self.running.clone(), this: self.identity.id(), app: state.clone() })
    }

    /// Starts the LAN listener and discovery serving `app` when `lan_sharing` is on.
    pub async fn start(&self, state: &AppState, app: axum::Router) -> Result<Option<Arc<Sharing>>, SharingError> {
        let Some(config) = SharingConfig::from_settings(&state.settings) else {
            return Ok(None);
        };
        let identity = DeviceIdentity::from_seed_hex(&self.seed)?;
        let sharing = Sharing::start(config, identity, state.store.clone(), app).await?;
        self.running.store(Some(sharing.clone()));
        Ok(Some(sharing))
    }

    /// A handle that reads the LAN side's events (pairings to confirm, revocations...) from
    /// outside the server, e.g. for desktop notifications; empty while sharing is off.
    pub fn events(&self) -> DeviceEvents {
        DeviceEvents { running: self.running.clone() }
    }

    /// Stops the LAN side, if it runs.
    pub fn stop(&self) {
        if let Some(sharing) = self.running.swap(None) {
            sharing.stop();
        }
    }
}
