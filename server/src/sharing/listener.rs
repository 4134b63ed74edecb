//! The LAN data listener: TLS 1.3 with pinned mutual authentication in front of the same axum
//! app as the loopback listener. Every request carries the extension
//! `auth::TransportIdentity("device:<id>")` of the pinned peer, so Kinto's permission checks
//! decide what a device may do. Each connection is registered under its device id with its own
//! cancellation token: revoking a device closes its open connections at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::identity::DeviceId;
use super::tls::{PinSet, peer_of};
use crate::auth::TransportIdentity;

/// Open LAN connections by device.
#[derive(Debug, Default)]
pub struct Connections {
    open: Mutex<HashMap<DeviceId, Vec<(u64, CancellationToken)>>>,
    next: std::sync::atomic::AtomicU64,
}

impl Connections {
    fn register(&self, device: DeviceId) -> (u64, CancellationToken) {
        let serial = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = CancellationToken::new();
        if let Ok(mut open) = self.open.lock() {
            open.entry(device).or_default().push((serial, token.clone()));
        }
        (serial, token)
    }

    fn unregister(&self, device: &DeviceId, serial: u64) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(list) = open.get_mut(device) {
                list.retain(|(s, _)| *s != serial);
                if list.is_empty() {
                    open.remove(device);
                }
            }
        }
    }

    /// Closes every open connection of `device`; how many there were.
    pub fn close_device(&self, device: &DeviceId) -> usize {
        let tokens = self.open.lock().ok().and_then(|mut open| open.remove(device)).unwrap_or_default();
        for (_, token) in &tokens {
            token.cancel();
        }
        tokens.len()
    }

    /// How many connections `device` has open.
    pub fn count(&self, device: &DeviceId) -> usize {
        self.open.lock().ok().and_then(|open| open.get(device).map(Vec::len)).unwrap_or(0)
    }
}

/// Accepts TLS connections on `listener` until `shutdown` is cancelled, serving `app` to
/// pinned devices only.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    pins: Arc<PinSet>,
    connections: Arc<Connections>,
    app: axum::Router,
    shutdown: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (tcp, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "LAN listener accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            acceptor: acceptor.clone(),
            pins: pins.clone(),
            connections: connections.clone(),
            app: app.clone(),
            shutdown: shutdown.child_token(),
        };
        tokio::spawn(connection.run(tcp, remote));
    }
}

struct Connection {
    acceptor: TlsAcceptor,
    pins: Arc<PinSet>,
    connections: Arc<Connections>,
    app: axum::Router,
    shutdown: CancellationToken,
}

impl Connection {
    async fn run(self, tcp: tokio::net::TcpStream, remote: SocketAddr) {
        let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), self.acceptor.accept(tcp));
        let tls = match handshake.await {
            Ok(Ok(tls)) => tls,
            Ok(Err(err)) => {
                tracing::info!(%remote, error = %err, "LAN TLS handshake refused");
                return;
            }
            Err(_) => return,
        };
        let Some((device, _)) = peer_of(tls.get_ref().1) else { return };
        let (serial, token) = self.connections.register(device);
        // A revocation between the handshake and the registration: the pin is already gone.
        if !self.pins.contains(&device) {
            self.connections.unregister(&device, serial);
            return;
        }
        tracing::debug!(%remote, %device, "LAN connection");
        let app = self.app;
        let principal = device.principal();
        let service = hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            // Replaces anything a client could have smuggled: the TLS handshake said who this is.
            request.extensions_mut().insert(TransportIdentity(principal.clone()));
            let app = app.clone();
            async move {
                use tower_service::Service;
                let mut app = app;
                app.call(request.map(axum::body::Body::new)).await
            }
        });
        let conn =
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).with_upgrades();
        tokio::select! {
            result = conn => {
                if let Err(err) = result {
                    tracing::debug!(%remote, error = %err, "LAN connection ended");
                }
            }
            _ = token.cancelled() => tracing::info!(%remote, %device, "LAN connection closed: device revoked"),
            _ = self.shutdown.cancelled() => {}
        }
        self.connections.unregister(&device, serial);
    }
}
