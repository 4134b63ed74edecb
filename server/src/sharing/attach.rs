//! Plugs the device layer into a server: the device key (secret `device-key`), the owner's
//! `/v1/__devices__` endpoints merged into the app, and — when `lan_sharing` is on — the LAN
//! listener serving that same app to pinned devices, each request tagged with the device's
//! principal.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use futures_util::future::BoxFuture;

use super::admin::{AdminState, Authority};
use super::identity::{DeviceIdentity, SECRET_NAME};
use super::listener::Tagger;
use super::{Sharing, SharingConfig, SharingError};
use crate::http::state::AppState;

/// The principal a LAN request authenticated as by mutual TLS (`device:<id>`), set by the LAN
/// listener before the request reaches the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDevice(pub String);

/// Reads the device key seed from `<data dir>/secrets/device-key` (0600), creating it once.
pub fn device_key_seed(data_dir: &Path) -> std::io::Result<String> {
    let dir = data_dir.join("secrets");
    let path = dir.join(SECRET_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(&dir)?;
    let seed = DeviceIdentity::generate_seed_hex();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(seed.as_bytes())?;
    file.sync_all()?;
    tracing::warn!(path = %path.display(), "created the device key in a 0600 file (no OS keyring used)");
    Ok(seed)
}

/// Authentication as the app does it, with the LAN listener's device identity first.
struct AppAuthority {
    state: AppState,
    owners: Vec<String>,
}

impl Authority for AppAuthority {
    fn caller(&self, parts: &http::request::Parts) -> BoxFuture<'static, Option<String>> {
        if let Some(PeerDevice(principal)) = parts.extensions.get::<PeerDevice>() {
            let principal = principal.clone();
            return Box::pin(async move { Some(principal) });
        }
        let headers = parts.headers.clone();
        let state = self.state.clone();
        Box::pin(async move {
            crate::auth::authenticate(
                &headers,
                &state.settings,
                &state.userid_secret,
                &state.store,
                &state.verified_accounts,
            )
            .await
        })
    }

    fn is_owner(&self, user_id: &str) -> bool {
        !user_id.starts_with("device:") && self.owners.iter().any(|owner| owner == user_id)
    }
}

/// The owner principals: setting `admin_principals` (default `account:admin`).
fn owners(state: &AppState) -> Vec<String> {
    state
        .settings
        .extra
        .get("admin_principals")
        .and_then(|v| match v {
            serde_json::Value::Array(list) => Some(list.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect()),
            serde_json::Value::String(text) => {
                Some(text.split([' ', ',', '\n']).filter(|p| !p.is_empty()).map(str::to_owned).collect())
            }
            _ => None,
        })
        .unwrap_or_else(|| vec!["account:admin".to_owned()])
}

/// The app with the device endpoints, and the running device layer when `lan_sharing` is on.
pub async fn attach(
    app: axum::Router,
    state: &AppState,
    data_dir: &Path,
) -> Result<(axum::Router, Option<Arc<Sharing>>), SharingError> {
    let seed = device_key_seed(data_dir).map_err(|e| SharingError::Internal(format!("device key: {e}")))?;
    let identity = DeviceIdentity::from_seed_hex(&seed)?;
    let handle: Arc<ArcSwapOption<Sharing>> = Arc::default();
    let admin = AdminState {
        sharing: handle.clone(),
        this: identity.id(),
        store: state.store.clone(),
        authority: Arc::new(AppAuthority { state: state.clone(), owners: owners(state) }),
        info_link: state.settings.error_info_link.clone(),
    };
    let app = super::admin::routes(admin).merge(app);
    let Some(config) = SharingConfig::from_settings(&state.settings) else {
        return Ok((app, None));
    };
    let tag: Tagger = Arc::new(|device, extensions| {
        extensions.insert(PeerDevice(device.principal()));
    });
    let sharing = Sharing::start(config, identity, state.store.clone(), app.clone(), tag).await?;
    handle.store(Some(sharing.clone()));
    Ok((app, Some(sharing)))
}
