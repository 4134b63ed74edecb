//! The running device layer: this device's identity, the LAN data listener, mDNS discovery,
//! the pairing invitation (and its short-lived pairing port), joining another device, revoking
//! devices and applying other devices' revocation notices. The admin endpoints and the CLI
//! drive it; events (paired, failed attempt, revoked, ...) are kept for the UI and
//! desktop notifications.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::activity::EventLog;
pub use super::activity::{Event, EventKind};
use super::discovery::{Announcement, Discovery, Nearby};
use super::identity::{DeviceId, DeviceIdentity};
use super::listener::{self, Connections};
use super::pairing::{self, Channel, Invitation, InvitationState, Paired, PairingError, PeerInfo};
use super::pending::{Pending, PendingSet};
use super::revocation::{self, ApplyError, Removal, RevocationNotice};
use super::tls::{self, ALPN_DATA, ALPN_PAIR, PinSet, Trust};
use super::{SharingConfig, SharingError, peer};
use crate::storage::sqlite::now_ms;
use crate::storage::{DeviceRow, StorageError, Store};

/// The path paired devices post revocation notices to (over the LAN listener).
pub const NOTICES_PATH: &str = "/v1/__devices__/notices";

/// The invitation being shown, and the last pairing it produced.
#[derive(Default)]
struct PairingSlot {
    live: Option<(Arc<Mutex<Invitation>>, u16, CancellationToken)>,
    last: Option<Paired>,
}

/// What the admin endpoints show about the invitation.
#[derive(Debug, Clone, Serialize)]
pub struct PairingView {
    pub state: String,
    pub code: Option<String>,
    pub expires_in_seconds: u64,
    pub attempts_left: u8,
    pub pairing_port: Option<u16>,
    /// The text to encode as a QR code: `kintoun:1?d=<device id>&p=<pairing port>&c=<code>`.
    pub qr_payload: Option<String>,
    /// The last device paired through a code here, with the check string to compare.
    pub last_paired: Option<PairedView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairedView {
    pub device: String,
    pub display_id: String,
    pub name: String,
    pub sas: String,
}

impl From<&Paired> for PairedView {
    fn from(paired: &Paired) -> Self {
        PairedView {
            device: paired.peer.compact(),
            display_id: paired.peer.display(),
            name: paired.info.name.clone(),
            sas: paired.sas.clone(),
        }
    }
}

/// A peer waiting for the user's confirmation, as the admin endpoints show it.
#[derive(Debug, Clone, Serialize)]
pub struct PendingView {
    pub device: String,
    pub display_id: String,
    pub name: String,
    pub sas: String,
    /// When it will be forgotten unless confirmed (ms since the epoch).
    pub expires_at: i64,
}

impl PendingView {
    fn of(pending: &Pending, now: Instant) -> PendingView {
        let left = pending.expires_at.saturating_duration_since(now).as_millis();
        PendingView {
            device: pending.paired.peer.compact(),
            display_id: pending.paired.peer.display(),
            name: pending.paired.info.name.clone(),
            sas: pending.paired.sas.clone(),
            expires_at: now_ms() + i64::try_from(left).unwrap_or(i64::MAX / 2),
        }
    }
}

/// The answer to confirming (or rejecting) a pending peer.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmedView {
    pub device: String,
    pub display_id: String,
    pub name: String,
    /// `paired` or `rejected`.
    pub state: String,
}

/// The outcome of revoking a device.
#[derive(Debug, Clone, Serialize)]
pub struct RevocationReport {
    pub device: String,
    #[serde(flatten)]
    pub removal: Removal,
    pub connections_closed: usize,
    /// Devices that applied the signed notice, and those that could not be told.
    pub notified: Vec<String>,
    pub not_notified: Vec<String>,
}

/// The device layer while LAN sharing is on.
pub struct Sharing {
    identity: Arc<DeviceIdentity>,
    config: SharingConfig,
    store: Store,
    pins: Arc<PinSet>,
    connections: Arc<Connections>,
    data_addr: SocketAddr,
    discovery: Option<Discovery>,
    pairing: Mutex<PairingSlot>,
    pending: Mutex<PendingSet>,
    events: Arc<EventLog>,
    shutdown: CancellationToken,
    /// The LAN listener's accept loop (it owns the listening socket).
    accepting: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Sharing {
    /// Loads the paired devices, opens the LAN listener (serving `app` to pinned devices, each
    /// request as `device:<id>`) and starts discovery.
    pub async fn start(
        config: SharingConfig,
        identity: DeviceIdentity,
        store: Store,
        app: axum::Router,
        events: Arc<EventLog>,
    ) -> Result<Arc<Sharing>, SharingError> {
        let identity = Arc::new(identity);
        let paired = store.read(|tx| tx.devices()).await?;
        let pins = Arc::new(PinSet::new(paired.iter().filter_map(|d| DeviceId::parse(&d.id).ok())));
        let listener = TcpListener::bind((config.address, config.port))
            .await
            .map_err(|e| SharingError::Listen(format!("{}:{}: {e}", config.address, config.port)))?;
        let data_addr = listener.local_addr().map_err(|e| SharingError::Listen(e.to_string()))?;
        let server_tls = tls::server_config(&identity, Trust::Pinned(pins.clone()), ALPN_DATA)?;
        let connections = Arc::new(Connections::default());
        let shutdown = CancellationToken::new();
        let accepting = tokio::spawn(listener::serve(
            listener,
            server_tls,
            pins.clone(),
            connections.clone(),
            app,
            shutdown.clone(),
        ));
        let announcement = Announcement {
            id: identity.id(),
            name: config.device_name.clone(),
            data_port: data_addr.port(),
            pairing_port: None,
        };
        let discovery = match Discovery::start(&config.interfaces, &announcement) {
            Ok(discovery) => Some(discovery),
            Err(err) => {
                tracing::warn!(error = %err, "LAN discovery is off: other devices must be given this device's address");
                None
            }
        };
        tracing::info!(device = %identity.id(), name = %config.device_name, address = %data_addr, paired = paired.len(), "LAN sharing on");
        Ok(Arc::new(Sharing {
            identity,
            config,
            store,
            pins,
            connections,
            data_addr,
            discovery,
            pairing: Mutex::default(),
            pending: Mutex::default(),
            events,
            shutdown,
            accepting: Mutex::new(Some(accepting)),
        }))
    }

    pub fn id(&self) -> DeviceId {
        self.identity.id()
    }

    /// This device's key (for outgoing connections to paired devices).
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    pub fn name(&self) -> &str {
        &self.config.device_name
    }

    pub fn data_addr(&self) -> SocketAddr {
        self.data_addr
    }

    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    pub fn nearby(&self) -> Vec<Nearby> {
        self.discovery.as_ref().map(Discovery::nearby).unwrap_or_default()
    }

    pub async fn paired(&self) -> Result<Vec<DeviceRow>, StorageError> {
        self.store.read(|tx| tx.devices()).await
    }

    /// Where a paired device may be reached: the addresses it announces now (mDNS), then the
    /// last address it was seen at (kept with the pairing).
    pub fn peer_addresses(&self, device: &DeviceRow) -> Vec<SocketAddr> {
        let mut addresses: Vec<SocketAddr> = self
            .nearby()
            .into_iter()
            .filter(|n| n.id == device.id)
            .flat_map(|n| n.addresses.iter().map(|ip| SocketAddr::new(*ip, n.data_port)).collect::<Vec<_>>())
            .collect();
        if let Ok(stored) = device.address.parse::<SocketAddr>() {
            if !addresses.contains(&stored) {
                addresses.push(stored);
            }
        }
        addresses
    }

    /// Sends one JSON request to a paired device over TLS pinned to its key, trying each of its
    /// addresses in turn.
    pub async fn ask_peer(
        &self,
        device: &DeviceRow,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(http::StatusCode, bytes::Bytes), peer::PeerError> {
        let id = DeviceId::parse(&device.id).map_err(|e| peer::PeerError::new(e.to_string()))?;
        let mut last = peer::PeerError::new(format!("no known address for {}", device.name));
        for address in self.peer_addresses(device) {
            match peer::request(&self.identity, id, address, method.clone(), path, body).await {
                Ok(answer) => return Ok(answer),
                Err(err) => last = err,
            }
        }
        Err(last)
    }

    /// Events after `since` (serial numbers grow from 1 and go on across restarts).
    pub fn events(&self, since: u64) -> Vec<Event> {
        self.events.since(since)
    }

    fn event(&self, kind: EventKind) {
        self.events.push(kind);
    }

    fn announce(&self, pairing_port: Option<u16>) {
        if let Some(discovery) = &self.discovery {
            let announcement = Announcement {
                id: self.identity.id(),
                name: self.config.device_name.clone(),
                data_port: self.data_addr.port(),
                pairing_port,
            };
            if let Err(err) = discovery.announce(&announcement) {
                tracing::warn!(error = %err, "mDNS announcement failed");
            }
        }
    }

    fn my_info(&self) -> PeerInfo {
        PeerInfo { name: self.config.device_name.clone(), data_port: self.data_addr.port() }
    }

    /// Shows a new pairing code (replacing any live one) and opens the pairing port.
    pub async fn invite(self: &Arc<Self>) -> Result<PairingView, SharingError> {
        self.cancel_invitation();
        let listener = TcpListener::bind((self.config.address, 0))
            .await
            .map_err(|e| SharingError::Listen(format!("pairing port: {e}")))?;
        let port = listener.local_addr().map_err(|e| SharingError::Listen(e.to_string()))?.port();
        let invitation = Arc::new(Mutex::new(Invitation::new(Instant::now())));
        let cancel = self.shutdown.child_token();
        if let Ok(mut slot) = self.pairing.lock() {
            slot.live = Some((invitation.clone(), port, cancel.clone()));
        }
        tokio::spawn(self.clone().pairing_port(listener, invitation, cancel));
        self.announce(Some(port));
        self.event(EventKind::PairingStarted { code_expires_in_seconds: pairing::CODE_TTL.as_secs() });
        Ok(self.pairing_view())
    }

    /// Withdraws the code being shown.
    pub fn cancel_invitation(&self) {
        let live = self.pairing.lock().ok().and_then(|mut slot| slot.live.take());
        if let Some((_, _, cancel)) = live {
            cancel.cancel();
        }
    }

    pub fn pairing_view(&self) -> PairingView {
        let now = Instant::now();
        let Ok(slot) = self.pairing.lock() else {
            return PairingView {
                state: "none".into(),
                code: None,
                expires_in_seconds: 0,
                attempts_left: 0,
                pairing_port: None,
                qr_payload: None,
                last_paired: None,
            };
        };
        let last_paired = slot.last.as_ref().map(PairedView::from);
        let live = slot.live.as_ref().and_then(|(inv, port, _)| inv.lock().ok().map(|inv| (inv.clone(), *port)));
        match live {
            Some((invitation, port)) => {
                let state = match invitation.usable(now) {
                    Ok(()) => "live".to_owned(),
                    Err(PairingError::Expired) => "expired".to_owned(),
                    Err(_) => match invitation.state() {
                        InvitationState::Burned => "burned".to_owned(),
                        _ => "used".to_owned(),
                    },
                };
                let live = state == "live";
                PairingView {
                    code: live.then(|| invitation.display_code()),
                    expires_in_seconds: invitation.expires_in(now).as_secs(),
                    attempts_left: invitation.attempts_left(),
                    pairing_port: live.then_some(port),
                    qr_payload: live.then(|| {
                        format!(
                            "kintoun:1?d={}&p={}&c={}",
                            self.identity.id().compact(),
                            port,
                            pairing::normalize_code(&invitation.display_code())
                        )
                    }),
                    state,
                    last_paired,
                }
            }
            None => PairingView {
                state: "none".into(),
                code: None,
                expires_in_seconds: 0,
                attempts_left: 0,
                pairing_port: None,
                qr_payload: None,
                last_paired,
            },
        }
    }

    /// Serves pairing attempts one at a time until success, burn, expiry or cancellation.
    async fn pairing_port(
        self: Arc<Self>,
        listener: TcpListener,
        invitation: Arc<Mutex<Invitation>>,
        cancel: CancellationToken,
    ) {
        let deadline =
            invitation.lock().map(|inv| inv.created_at() + pairing::CODE_TTL).unwrap_or_else(|_| Instant::now());
        let config = match tls::server_config(&self.identity, Trust::ProvenKey, ALPN_PAIR) {
            Ok(config) => config,
            Err(err) => {
                tracing::error!(error = %err, "pairing TLS configuration");
                return;
            }
        };
        let acceptor = TlsAcceptor::from(config);
        loop {
            let (tcp, remote) = tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep_until(deadline.into()) => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                },
            };
            let attempt = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                self.pairing_attempt(&acceptor, tcp, &invitation),
            );
            let outcome = match attempt.await {
                Ok(outcome) => outcome,
                Err(_) => {
                    if let Ok(mut inv) = invitation.lock() {
                        inv.failed();
                    }
                    Err(PairingError::Io("the joining device stopped answering".into()))
                }
            };
            let attempts_left = invitation.lock().map(|inv| inv.attempts_left()).unwrap_or(0);
            match outcome {
                Ok((paired, spki)) => {
                    let address = SocketAddr::new(remote.ip(), paired.info.data_port);
                    self.hold(paired.clone(), spki, address);
                    if let Ok(mut slot) = self.pairing.lock() {
                        slot.last = Some(paired);
                    }
                    break;
                }
                Err(err) => {
                    tracing::info!(%remote, error = %err, attempts_left, "pairing attempt failed");
                    self.event(EventKind::PairingFailed { reason: err.to_string(), attempts_left, device: None });
                }
            }
            if invitation.lock().map(|inv| inv.usable(Instant::now()).is_err()).unwrap_or(true) {
                break;
            }
        }
        let state = invitation
            .lock()
            .map(|inv| match inv.usable(Instant::now()) {
                Ok(()) if cancel.is_cancelled() => "cancelled".to_owned(),
                Ok(()) | Err(PairingError::Expired) => "expired".to_owned(),
                Err(_) => format!("{:?}", inv.state()).to_lowercase(),
            })
            .unwrap_or_default();
        self.event(EventKind::PairingClosed { state });
        self.announce(None);
    }

    async fn pairing_attempt(
        &self,
        acceptor: &TlsAcceptor,
        tcp: tokio::net::TcpStream,
        invitation: &Arc<Mutex<Invitation>>,
    ) -> Result<(Paired, Vec<u8>), PairingError> {
        let mut tls = acceptor.accept(tcp).await?;
        let (joiner, spki) =
            tls::peer_of(tls.get_ref().1).ok_or_else(|| PairingError::Protocol("no client certificate".into()))?;
        let channel = Channel { exporter: peer::exporter(tls.get_ref().1)?, inviter: self.identity.id(), joiner };
        let (begin, end) = (invitation.clone(), invitation.clone());
        let paired = pairing::run_inviter(
            &mut tls,
            &channel,
            &self.my_info(),
            move || begin.lock().map_err(|_| PairingError::NoCode)?.begin_attempt(Instant::now()),
            move |ok| {
                if let Ok(mut inv) = end.lock() {
                    if ok { inv.succeeded() } else { inv.failed() }
                }
            },
        )
        .await?;
        Ok((paired, spki))
    }

    /// Keeps a peer that passed the PAKE until the user confirms it (or rejects it, or
    /// [`pending::CONFIRM_TTL`](super::pending::CONFIRM_TTL) passes). It is not pinned yet.
    fn hold(self: &Arc<Self>, paired: Paired, spki: Vec<u8>, address: SocketAddr) {
        let Ok(mut pending) = self.pending.lock() else { return };
        let held = pending.insert(paired, spki, address, Instant::now());
        drop(pending);
        let paired = &held.paired;
        tracing::info!(device = %paired.peer, name = %paired.info.name, sas = %paired.sas, "pairing waits for confirmation");
        self.event(EventKind::PairingConfirm {
            device: paired.peer.compact(),
            name: paired.info.name.clone(),
            sas: paired.sas.clone(),
        });
        let this = Arc::downgrade(self);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep_until(held.expires_at.into()) => {
                    if let Some(this) = this.upgrade() {
                        this.expire_pending();
                    }
                }
            }
        });
    }

    /// Forgets the pending peers whose confirmation time is up.
    fn expire_pending(&self) {
        let expired = self.pending.lock().map(|mut p| p.expire(Instant::now())).unwrap_or_default();
        for pending in expired {
            tracing::info!(device = %pending.paired.peer, "pairing not confirmed in time: forgotten");
            self.event(EventKind::PairingFailed {
                reason: "not confirmed in time".into(),
                attempts_left: self.attempts_left(),
                device: Some(pending.paired.peer.compact()),
            });
        }
    }

    fn attempts_left(&self) -> u8 {
        self.pairing_view().attempts_left
    }

    /// The peers waiting for the user's confirmation.
    pub fn pending(&self) -> Vec<PendingView> {
        let now = Instant::now();
        self.pending
            .lock()
            .map(|p| p.waiting(now).iter().map(|p| PendingView::of(p, now)).collect())
            .unwrap_or_default()
    }

    /// The user confirmed that both screens show the same check string: pins the peer.
    pub async fn confirm(&self, device: DeviceId) -> Result<ConfirmedView, SharingError> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| SharingError::Internal("pending peers lock".into()))?
            .confirm(&device, Instant::now())
            .ok_or_else(|| SharingError::NotPending(device.compact()))?;
        self.remember(&pending).await?;
        let paired = &pending.paired;
        tracing::info!(device = %paired.peer, name = %paired.info.name, "paired (confirmed)");
        self.event(EventKind::Paired {
            device: paired.peer.compact(),
            name: paired.info.name.clone(),
            sas: paired.sas.clone(),
        });
        Ok(ConfirmedView {
            device: paired.peer.compact(),
            display_id: paired.peer.display(),
            name: paired.info.name.clone(),
            state: "paired".into(),
        })
    }

    /// The user rejected a pending peer: it is forgotten. `None` if it was not pending.
    pub fn reject(&self, device: DeviceId) -> Option<ConfirmedView> {
        let pending = self.pending.lock().ok()?.reject(&device, Instant::now())?;
        let paired = &pending.paired;
        tracing::info!(device = %paired.peer, name = %paired.info.name, "pairing rejected");
        self.event(EventKind::PairingFailed {
            reason: "rejected: the check strings did not match".into(),
            attempts_left: self.attempts_left(),
            device: Some(paired.peer.compact()),
        });
        Some(ConfirmedView {
            device: paired.peer.compact(),
            display_id: paired.peer.display(),
            name: paired.info.name.clone(),
            state: "rejected".into(),
        })
    }

    /// Pins a confirmed device.
    async fn remember(&self, pending: &Pending) -> Result<(), StorageError> {
        let row = DeviceRow {
            id: pending.paired.peer.compact(),
            spki: pending.spki.clone(),
            name: pending.paired.info.name.chars().take(64).collect(),
            address: pending.address.to_string(),
            paired_at: now_ms(),
        };
        self.store.write(move |tx| tx.put_device(&row)).await?;
        self.pins.insert(pending.paired.peer);
        Ok(())
    }

    /// Joins another device showing `code`. `target` is a device id (any form, or its first
    /// group), a device name heard on the LAN, or the `ip:port` of its pairing port.
    /// The joined peer then waits for the user's confirmation ([`Sharing::confirm`]).
    pub async fn join(self: &Arc<Self>, target: &str, code: &str) -> Result<PairedView, SharingError> {
        // The code may have just appeared, and an older announcement (a closed pairing port) may
        // still be cached: give the new one a moment to arrive. A refused connection spends no attempt.
        let deadline = Instant::now() + std::time::Duration::from_secs(3);
        let (paired, spki, addr) = loop {
            let addr = match self.resolve_pairing_target(target) {
                Err(SharingError::NotInviting(_) | SharingError::UnknownDevice(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
                resolved => resolved?,
            };
            match peer::join(&self.identity, &self.my_info(), addr, code).await {
                Err(PairingError::Io(_)) if Instant::now() < deadline && addr.to_string() != target => {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                joined => {
                    let (paired, spki) = joined?;
                    break (paired, spki, addr);
                }
            }
        };
        self.hold(paired.clone(), spki, SocketAddr::new(addr.ip(), paired.info.data_port));
        Ok(PairedView::from(&paired))
    }

    fn resolve_pairing_target(&self, target: &str) -> Result<SocketAddr, SharingError> {
        if let Ok(addr) = target.parse::<SocketAddr>() {
            return Ok(addr);
        }
        let wanted = target.trim();
        let wanted_id = DeviceId::parse(wanted).ok().map(|id| id.compact());
        let short = wanted.replace('-', "").to_ascii_uppercase();
        let nearby = self.nearby();
        let matches: Vec<&Nearby> = nearby
            .iter()
            .filter(|n| {
                Some(&n.id) == wanted_id.as_ref()
                    || n.name.eq_ignore_ascii_case(wanted)
                    || (short.len() >= 4 && n.id.starts_with(&short))
            })
            .collect();
        let device = match matches.as_slice() {
            [one] => *one,
            [] => return Err(SharingError::UnknownDevice(target.to_owned())),
            _ => return Err(SharingError::Ambiguous(target.to_owned())),
        };
        let port = device.pairing_port.ok_or_else(|| SharingError::NotInviting(device.name.clone()))?;
        let ip = device
            .addresses
            .iter()
            .find(|ip| ip.is_ipv4())
            .or(device.addresses.first())
            .ok_or_else(|| SharingError::UnknownDevice(target.to_owned()))?;
        Ok(SocketAddr::new(*ip, port))
    }

    /// Revokes a paired device: ACLs, groups and key in one transaction, then the pin and open
    /// connections, then a signed notice to every other paired device.
    pub async fn revoke(&self, device: DeviceId) -> Result<RevocationReport, SharingError> {
        let removal = self.store.write(move |tx| revocation::remove_device(tx, &device)).await?;
        if !removal.was_paired {
            return Err(SharingError::UnknownDevice(device.compact()));
        }
        self.pins.remove(&device);
        let connections_closed = self.connections.close_device(&device);
        tracing::info!(%device, acls = removal.acls, groups = removal.groups, connections_closed, "device revoked");
        self.event(EventKind::Revoked { device: device.compact(), by: self.identity.id().compact() });
        let notice = RevocationNotice::sign(&self.identity, &device, now_ms());
        let body = serde_json::to_value(&notice).map_err(|e| SharingError::Internal(e.to_string()))?;
        let (mut notified, mut not_notified) = (Vec::new(), Vec::new());
        for other in self.paired().await? {
            let Ok(id) = DeviceId::parse(&other.id) else { continue };
            match self.ask_peer(&other, http::Method::POST, NOTICES_PATH, Some(&body)).await {
                Ok((status, _)) if status.is_success() => notified.push(other.id),
                Ok((status, body)) => {
                    tracing::warn!(device = %id, %status, body = %String::from_utf8_lossy(&body), "revocation notice refused");
                    not_notified.push(other.id);
                }
                Err(err) => {
                    tracing::warn!(device = %id, error = %err, "revocation notice not delivered");
                    not_notified.push(other.id);
                }
            }
        }
        Ok(RevocationReport { device: device.compact(), removal, connections_closed, notified, not_notified })
    }

    /// Applies a notice another device (`sender`, authenticated by TLS) sent.
    pub async fn receive_notice(
        &self,
        sender: DeviceId,
        notice: RevocationNotice,
    ) -> Result<Option<Removal>, SharingError> {
        if DeviceId::parse(&notice.by).ok() != Some(sender) {
            return Err(SharingError::Notice(revocation::NoticeError::UnknownSigner));
        }
        let me = self.identity.id();
        let applied =
            self.store.write(move |tx| revocation::apply_notice(tx, &notice, &me)).await.map_err(|e| match e {
                ApplyError::Notice(err) => SharingError::Notice(err),
                ApplyError::Storage(err) => SharingError::Storage(err),
            })?;
        let Some((revoked, removal)) = applied else { return Ok(None) };
        self.pins.remove(&revoked);
        self.connections.close_device(&revoked);
        tracing::info!(device = %revoked, by = %sender, "device revoked by a signed notice");
        self.event(EventKind::Revoked { device: revoked.compact(), by: sender.compact() });
        Ok(Some(removal))
    }

    /// Stops the listener, the pairing port and discovery.
    pub fn stop(&self) {
        self.shutdown.cancel();
        if let Some(discovery) = &self.discovery {
            discovery.stop();
        }
    }

    /// Stops, then waits until the LAN port is closed (so it can be bound again at once).
    pub async fn stop_and_wait(&self) {
        self.stop();
        let accepting = self.accepting.lock().ok().and_then(|mut handle| handle.take());
        if let Some(accepting) = accepting {
            let _ = accepting.await;
        }
    }
}

impl From<ApplyError> for SharingError {
    fn from(err: ApplyError) -> Self {
        match err {
            ApplyError::Notice(err) => SharingError::Notice(err),
            ApplyError::Storage(err) => SharingError::Storage(err),
        }
    }
}
