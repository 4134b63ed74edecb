//! Plugs the device layer into a [`crate::Server`]: the device key (secret `device-key` in the
//! server's [`SecretStore`]), the owner's `/v1/__devices__` endpoints merged into the app, and —
//! when `lan_sharing` is on — the LAN listener serving that same app to pinned devices (each
//! request as `device:<id>`, see [`super::listener`]). The LAN settings may change while the
//! server runs ([`LanControl::reconfigure`]): the LAN side restarts with them, or keeps its
//! previous settings when the new ones cannot work (e.g. a port in use).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwapOption;

use super::activity::{Event, EventLog};
use super::admin::AdminState;
use super::identity::{DeviceIdentity, SECRET_NAME};
use super::lan_settings::LanSettings;
use super::{Sharing, SharingConfig, SharingError};
use crate::http::state::AppState;
use crate::secrets::SecretStore;
use crate::storage::Store;

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
    log: Arc<EventLog>,
}

impl DeviceEvents {
    /// The events after serial `since` (what `GET /v1/__devices__/events?since=N` lists).
    pub fn since(&self, since: u64) -> Vec<Event> {
        self.log.since(since)
    }
}

/// What the LAN side needs from the server to (re)start.
struct Attached {
    store: Store,
    app: axum::Router,
}

/// Starts, stops and reconfigures the LAN side; shared by the server and the admin endpoints.
pub struct LanControl {
    seed: String,
    running: Arc<ArcSwapOption<Sharing>>,
    log: Arc<EventLog>,
    /// The settings in force; the lock also keeps two reconfigurations from interleaving.
    settings: tokio::sync::Mutex<LanSettings>,
    attached: OnceLock<Attached>,
}

impl LanControl {
    /// The running LAN side, if sharing is on.
    pub fn running(&self) -> Option<Arc<Sharing>> {
        self.running.load_full()
    }

    /// The device events after serial `since`.
    pub fn events(&self, since: u64) -> Vec<Event> {
        self.log.since(since)
    }

    /// The settings in force.
    pub async fn settings(&self) -> LanSettings {
        self.settings.lock().await.clone()
    }

    /// Applies new LAN settings: stops the LAN side and starts it again with them (or leaves it
    /// off). When they cannot work, the previous settings are restored and the error returned.
    /// Pairings in progress are dropped by a restart; paired devices stay paired.
    pub async fn reconfigure(&self, new: LanSettings) -> Result<(), SharingError> {
        let mut current = self.settings.lock().await;
        if *current == new {
            return Ok(());
        }
        let Some(attached) = self.attached.get() else {
            *current = new;
            return Ok(());
        };
        let previous = self.running.swap(None);
        if let Some(sharing) = &previous {
            sharing.stop_and_wait().await;
        }
        let previous = previous.map(|sharing| sharing.data_addr());
        if let Err(err) = self.launch(attached, &new, previous).await {
            tracing::warn!(error = %err, "the new LAN settings do not work; keeping the previous ones");
            if let Err(again) = self.launch(attached, &current, previous).await {
                tracing::error!(error = %again, "the previous LAN settings no longer work either: LAN sharing is off");
            }
            return Err(err);
        }
        tracing::info!(sharing = new.lan_sharing, name = %new.effective_name(), "LAN settings changed");
        *current = new;
        Ok(())
    }

    /// Starts the LAN side with `settings`. With port 0 ("any"), the port it had before
    /// (`previous`) is tried first, so paired devices find it where they last saw it.
    async fn launch(
        &self,
        attached: &Attached,
        settings: &LanSettings,
        previous: Option<SocketAddr>,
    ) -> Result<(), SharingError> {
        let Some(config) = settings.config() else {
            return Ok(());
        };
        let start = |config| async {
            let identity = DeviceIdentity::from_seed_hex(&self.seed)?;
            Sharing::start(config, identity, attached.store.clone(), attached.app.clone(), self.log.clone()).await
        };
        let sharing = match previous.filter(|p| config.port == 0 && p.ip() == config.address) {
            Some(previous) => match start(SharingConfig { port: previous.port(), ..config.clone() }).await {
                Ok(sharing) => sharing,
                Err(_) => start(config).await?,
            },
            None => start(config).await?,
        };
        self.running.store(Some(sharing));
        Ok(())
    }

    /// Stops the LAN side, if it runs.
    pub fn stop(&self) {
        if let Some(sharing) = self.running.swap(None) {
            sharing.stop();
        }
    }
}

/// This install's device layer: its identity, and the running LAN side once started.
pub struct Devices {
    identity: DeviceIdentity,
    control: Arc<LanControl>,
}

impl Devices {
    /// Loads (or creates) the device key; the keyring may block, so this runs off the runtime.
    pub async fn open(secrets: &SecretStore, settings: LanSettings) -> Result<Devices, SharingError> {
        let secrets = secrets.clone();
        let seed = tokio::task::spawn_blocking(move || device_key_seed(&secrets))
            .await
            .map_err(|e| SharingError::Internal(e.to_string()))??;
        let identity = DeviceIdentity::from_seed_hex(&seed)?;
        let control = Arc::new(LanControl {
            seed,
            running: Arc::default(),
            log: Arc::default(),
            settings: tokio::sync::Mutex::new(settings),
            attached: OnceLock::new(),
        });
        Ok(Devices { identity, control })
    }

    /// This device's identity.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// The `/v1/__devices__` endpoints, to merge in front of the server's app.
    pub fn routes(&self, state: &AppState) -> axum::Router {
        super::admin::routes(AdminState { lan: self.control.clone(), this: self.identity.id(), app: state.clone() })
    }

    /// Starts the LAN listener and discovery serving `app` when `lan_sharing` is on; later
    /// changes of the LAN settings restart them with the same app.
    pub async fn start(&self, state: &AppState, app: axum::Router) -> Result<Option<Arc<Sharing>>, SharingError> {
        let attached = Attached { store: state.store.clone(), app };
        let settings = self.control.settings.lock().await;
        let attached = match self.control.attached.set(attached) {
            Ok(()) => self.control.attached.get(),
            Err(_) => return Err(SharingError::Internal("the LAN side was started twice".into())),
        };
        if let Some(attached) = attached {
            self.control.launch(attached, &settings, None).await?;
        }
        Ok(self.control.running())
    }

    /// The LAN side's controls (settings, restart).
    pub fn control(&self) -> &Arc<LanControl> {
        &self.control
    }

    /// A handle that reads the LAN side's events (pairings to confirm, revocations...) from
    /// outside the server, e.g. for desktop notifications; serials go on across restarts.
    pub fn events(&self) -> DeviceEvents {
        DeviceEvents { log: self.control.log.clone() }
    }

    /// Stops the LAN side, if it runs.
    pub fn stop(&self) {
        self.control.stop();
    }
}
