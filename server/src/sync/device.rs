//! The replicator's remote when it is a paired device: a Kinto client over TLS 1.3 pinned to
//! exactly that device's key (and presenting this device's key, so the peer's permissions for
//! `device:<this id>` decide), at the first of the device's addresses that answers — those it
//! announces now on mDNS, then the last one it was seen at. No credentials travel: the TLS
//! handshake is the authentication. While LAN sharing is off, or once the device is no longer
//! paired (revoked on either side), there is no client and the link waits with that error.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::SyncError;
use super::client::KintoClient;
use super::runner::DeviceConnector;
use crate::sharing::attach::LanControl;
use crate::sharing::tls::{self, ALPN_DATA, Trust};
use crate::sharing::{DeviceId, Sharing};
use crate::storage::{LinkRow, Store};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The base URL of a device's Kinto API at `address` (scoped IPv6 addresses cannot be URLs).
fn base_url(address: SocketAddr) -> Option<String> {
    match address {
        SocketAddr::V6(v6) if v6.scope_id() != 0 => None,
        _ => Some(format!("https://{address}/v1")),
    }
}

/// A client for `device`, reached through the running LAN side.
pub async fn connect(sharing: &Sharing, store: &Store, device: &str) -> Result<KintoClient, SyncError> {
    let id = DeviceId::parse(device).map_err(|e| SyncError::DeviceUnavailable(format!("{device:?}: {e}")))?;
    let compact = id.compact();
    let row = store
        .read(move |tx| tx.devices())
        .await?
        .into_iter()
        .find(|row| row.id == compact)
        .ok_or_else(|| SyncError::DeviceUnavailable(format!("{} is no longer paired", id.display())))?;
    let config = tls::client_config(sharing.identity(), Trust::Exactly(id), ALPN_DATA)
        .map_err(|e| SyncError::Unsupported(format!("TLS for devices: {e}")))?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured((*config).clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("kintoun/", env!("CARGO_PKG_VERSION"), " (replicator)"))
        .build()
        .map_err(|e| SyncError::Unsupported(format!("cannot set up the device client: {e}")))?;
    let mut reasons = Vec::new();
    for address in sharing.peer_addresses(&row) {
        let Some(url) = base_url(address) else { continue };
        let client = KintoClient::new(http.clone(), &url, None)?;
        match client.hello().await {
            Ok(_) => return Ok(client),
            Err(err) => reasons.push(err.to_string()),
        }
    }
    Err(SyncError::DeviceUnavailable(match reasons.is_empty() {
        true => format!("no known address for {}", row.name),
        false => format!("{} cannot be reached: {}", row.name, reasons.join("; ")),
    }))
}

/// The connector the server gives its replicator: device links go through the LAN side.
pub fn connector(lan: Arc<LanControl>, store: Store) -> DeviceConnector {
    Arc::new(move |link: LinkRow| {
        let (lan, store) = (lan.clone(), store.clone());
        Box::pin(async move {
            let device = link
                .remote_device
                .clone()
                .ok_or_else(|| SyncError::Unsupported("a device link without a device".into()))?;
            let sharing = lan.running().ok_or_else(|| {
                SyncError::DeviceUnavailable("LAN sharing is off: links to devices wait until it is on".into())
            })?;
            connect(&sharing, &store, &device).await
        })
    })
}
