//! Outgoing connections to devices: the pairing client (TLS to a pairing port, then the
//! joiner's side of the protocol) and one-shot HTTP requests to a paired device's data port over
//! TLS pinned to exactly that device's key.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::identity::{DeviceId, DeviceIdentity};
use super::pairing::{Channel, EXPORTER_LABEL, Paired, PairingError, PeerInfo, run_joiner};
use super::tls::{ALPN_DATA, ALPN_PAIR, Trust, client_config, peer_of, server_name};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const PAIRING_TIMEOUT: Duration = Duration::from_secs(20);

/// The TLS exporter value both sides of a pairing connection bind the PAKE to.
pub fn exporter(conn: &rustls::ConnectionCommon<impl Sized>) -> Result<[u8; 32], PairingError> {
    conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None).map_err(|e| PairingError::Protocol(e.to_string()))
}

/// Joins the device whose pairing port is `addr` with the typed `code`; returns the pairing and
/// the inviter's public key (SPKI) to pin.
pub async fn join(
    me: &DeviceIdentity,
    info: &PeerInfo,
    addr: SocketAddr,
    code: &str,
) -> Result<(Paired, Vec<u8>), PairingError> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| PairingError::Io(format!("no answer from {addr}")))??;
    let config = client_config(me, Trust::ProvenKey, ALPN_PAIR).map_err(|e| PairingError::Protocol(e.to_string()))?;
    let mut tls = TlsConnector::from(config).connect(server_name(), tcp).await?;
    let (inviter, spki) =
        peer_of(tls.get_ref().1).ok_or_else(|| PairingError::Protocol("no peer certificate".into()))?;
    let channel = Channel { exporter: exporter(tls.get_ref().1)?, inviter, joiner: me.id() };
    let paired = tokio::time::timeout(PAIRING_TIMEOUT, run_joiner(&mut tls, &channel, info, code))
        .await
        .map_err(|_| PairingError::Io("the other device stopped answering".into()))??;
    Ok((paired, spki))
}

/// Why a request to a device failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PeerError(String);

impl PeerError {
    pub fn new(message: impl Into<String>) -> PeerError {
        PeerError(message.into())
    }
}

/// Sends one JSON request to a paired device's data port (TLS pinned to `device`); returns the
/// status and body.
pub async fn request(
    me: &DeviceIdentity,
    device: DeviceId,
    addr: SocketAddr,
    method: http::Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<(http::StatusCode, bytes::Bytes), PeerError> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| PeerError(format!("no answer from {addr}")))?
        .map_err(|e| PeerError(format!("{addr}: {e}")))?;
    let config = client_config(me, Trust::Exactly(device), ALPN_DATA).map_err(|e| PeerError(e.to_string()))?;
    let tls = TlsConnector::from(config)
        .connect(server_name(), tcp)
        .await
        .map_err(|e| PeerError(format!("TLS with {addr}: {e}")))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| PeerError(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default()).unwrap_or_default();
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, addr.to_string())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(bytes::Bytes::from(bytes)))
        .map_err(|e| PeerError(e.to_string()))?;
    let response = tokio::time::timeout(PAIRING_TIMEOUT, sender.send_request(request))
        .await
        .map_err(|_| PeerError(format!("{addr} did not answer")))?
        .map_err(|e| PeerError(e.to_string()))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| PeerError(e.to_string()))?.to_bytes();
    Ok((status, body))
}
