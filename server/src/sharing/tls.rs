//! TLS 1.3-only mutual TLS between devices (rustls with the aws-lc-rs provider). Trust comes
//! from pins, not from certificate authorities: a peer is accepted when the SHA-256 of its
//! certificate's public key (its device id) is pinned, and its handshake signature is really
//! verified with that key (`verify_tls13_signature`), which proves it holds the private key.
//! Names and validity dates are ignored. The pin set is an `ArcSwap`, so pairing and revocation
//! take effect for the next handshake without rebuilding any TLS configuration.

use std::collections::HashSet;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::identity::{DeviceId, DeviceIdentity};

/// ALPN of the data port (HTTP/1.1 carrying the Kinto API).
pub const ALPN_DATA: &[u8] = b"http/1.1";
/// ALPN of the pairing port.
pub const ALPN_PAIR: &[u8] = b"kintoun-pair/1";

/// The one crypto provider used everywhere (never the process default, which panics when
/// several providers are compiled in).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The device ids whose keys are accepted on the data port.
#[derive(Debug, Default)]
pub struct PinSet {
    pins: ArcSwap<HashSet<DeviceId>>,
}

impl PinSet {
    pub fn new(ids: impl IntoIterator<Item = DeviceId>) -> PinSet {
        PinSet { pins: ArcSwap::from_pointee(ids.into_iter().collect()) }
    }

    pub fn contains(&self, id: &DeviceId) -> bool {
        self.pins.load().contains(id)
    }

    pub fn insert(&self, id: DeviceId) {
        self.pins.rcu(|pins| {
            let mut pins = HashSet::clone(pins);
            pins.insert(id);
            pins
        });
    }

    pub fn remove(&self, id: &DeviceId) {
        self.pins.rcu(|pins| {
            let mut pins = HashSet::clone(pins);
            pins.remove(id);
            pins
        });
    }

    pub fn ids(&self) -> Vec<DeviceId> {
        self.pins.load().iter().copied().collect()
    }
}

/// Which peer keys a handshake accepts. There is no "accept anything" variant: even
/// [`Trust::ProvenKey`] checks the handshake signature.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Data port: any currently pinned device.
    Pinned(Arc<PinSet>),
    /// Connecting to one known device.
    Exactly(DeviceId),
    /// Pairing port only: any key whose holder proves possession; the PAKE that follows
    /// authenticates it, and nothing but the pairing protocol runs on such a connection.
    ProvenKey,
}

impl Trust {
    fn check(&self, cert: &CertificateDer<'_>) -> Result<DeviceId, rustls::Error> {
        let id = cert_device_id(cert)?;
        let accepted = match self {
            Trust::Pinned(pins) => pins.contains(&id),
            Trust::Exactly(expected) => *expected == id,
            Trust::ProvenKey => true,
        };
        if accepted {
            Ok(id)
        } else {
            tracing::debug!(device = %id, "TLS peer key is not pinned");
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }
}

/// The device id (SPKI hash) of a certificate.
pub fn cert_device_id(cert: &CertificateDer<'_>) -> Result<DeviceId, rustls::Error> {
    let parsed = ParsedCertificate::try_from(cert)?;
    Ok(DeviceId::of_spki(parsed.subject_public_key_info().as_ref()))
}

/// The SubjectPublicKeyInfo (DER) of a certificate.
pub fn cert_spki(cert: &CertificateDer<'_>) -> Result<Vec<u8>, rustls::Error> {
    let parsed = ParsedCertificate::try_from(cert)?;
    Ok(parsed.subject_public_key_info().as_ref().to_vec())
}

/// The peer's device id and SPKI after a completed handshake.
pub fn peer_of(conn: &rustls::CommonState) -> Option<(DeviceId, Vec<u8>)> {
    let cert = conn.peer_certificates()?.first()?;
    Some((cert_device_id(cert).ok()?, cert_spki(cert).ok()?))
}

/// Verifies peers (both directions) against a [`Trust`], checking handshake signatures.
#[derive(Debug)]
pub struct PinnedVerifier {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    pub fn new(trust: Trust) -> Arc<PinnedVerifier> {
        Arc::new(PinnedVerifier { trust, provider: provider() })
    }

    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.trust.check(end_entity).map(|_| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for PinnedVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.trust.check(end_entity).map(|_| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// A TLS 1.3 server configuration presenting `identity` and requiring a client key per `trust`.
pub fn server_config(
    identity: &DeviceIdentity,
    trust: Trust,
    alpn: &[u8],
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(PinnedVerifier::new(trust))
        .with_single_cert(vec![identity.cert()], identity.private_key())?;
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
}

/// A TLS 1.3 client configuration presenting `identity` and accepting a server per `trust`.
pub fn client_config(
    identity: &DeviceIdentity,
    trust: Trust,
    alpn: &[u8],
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(PinnedVerifier::new(trust))
        .with_client_auth_cert(vec![identity.cert()], identity.private_key())?;
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
}

/// The server name sent in handshakes (our verifiers ignore names).
pub fn server_name() -> ServerName<'static> {
    ServerName::IpAddress(std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::ResolvesClientCert;
    use rustls::sign::CertifiedKey;
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    fn device(byte: u8) -> DeviceIdentity {
        DeviceIdentity::from_seed_hex(&format!("{byte:02x}").repeat(32)).expect("fixed seed")
    }

    /// Runs one handshake over an in-memory pipe; returns what each side saw of the other.
    async fn handshake(
        server: Arc<rustls::ServerConfig>,
        client: Arc<rustls::ClientConfig>,
    ) -> (Result<Option<DeviceId>, String>, Result<Option<DeviceId>, String>) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let accept = async move {
            match TlsAcceptor::from(server).accept(a).await {
                Ok(mut stream) => {
                    use tokio::io::AsyncWriteExt;
                    let _ = stream.write_all(b"k").await;
                    let _ = stream.flush().await;
                    Ok(peer_of(stream.get_ref().1).map(|p| p.0))
                }
                Err(err) => Err(err.to_string()),
            }
        };
        let connect = async move {
            match TlsConnector::from(client).connect(server_name(), b).await {
                Ok(mut stream) => {
                    // The server verifies the client's certificate after the client finishes;
                    // reading the server's first byte makes the client see its verdict.
                    use tokio::io::AsyncReadExt;
                    let mut byte = [0u8; 1];
                    match stream.read_exact(&mut byte).await {
                        Ok(_) => Ok(peer_of(stream.get_ref().1).map(|p| p.0)),
                        Err(err) => Err(err.to_string()),
                    }
                }
                Err(err) => Err(err.to_string()),
            }
        };
        tokio::join!(accept, connect)
    }

    #[tokio::test]
    async fn pinned_peers_complete_a_mutual_tls13_handshake() -> Result<(), rustls::Error> {
        let (a, b) = (device(1), device(2));
        let server = server_config(&a, Trust::Pinned(Arc::new(PinSet::new([b.id()]))), ALPN_DATA)?;
        let client = client_config(&b, Trust::Exactly(a.id()), ALPN_DATA)?;
        let (server_saw, client_saw) = handshake(server, client).await;
        assert_eq!(server_saw, Ok(Some(b.id())));
        assert_eq!(client_saw, Ok(Some(a.id())));
        Ok(())
    }

    #[tokio::test]
    async fn an_unpinned_client_key_fails_the_handshake() -> Result<(), rustls::Error> {
        let (a, b, c) = (device(1), device(2), device(3));
        let pins = Arc::new(PinSet::new([b.id()]));
        let server = server_config(&a, Trust::Pinned(pins.clone()), ALPN_DATA)?;
        let client = client_config(&c, Trust::Exactly(a.id()), ALPN_DATA)?;
        let (server_saw, _) = handshake(server.clone(), client).await;
        assert!(server_saw.is_err(), "{server_saw:?}");
        // Unpinning B takes effect at B's next handshake, with the same configuration.
        pins.remove(&b.id());
        let (server_saw, _) = handshake(server, client_config(&b, Trust::Exactly(a.id()), ALPN_DATA)?).await;
        assert!(server_saw.is_err(), "{server_saw:?}");
        Ok(())
    }

    #[tokio::test]
    async fn a_wrong_server_key_fails_the_handshake() -> Result<(), rustls::Error> {
        let (a, b, c) = (device(1), device(2), device(3));
        let server = server_config(&c, Trust::Pinned(Arc::new(PinSet::new([b.id()]))), ALPN_DATA)?;
        let client = client_config(&b, Trust::Exactly(a.id()), ALPN_DATA)?;
        let (_, client_saw) = handshake(server, client).await;
        assert!(client_saw.is_err(), "{client_saw:?}");
        Ok(())
    }

    /// Presents B's certificate but signs the handshake with C's key.
    #[derive(Debug)]
    struct Impostor(Arc<CertifiedKey>);

    impl ResolvesClientCert for Impostor {
        fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }

        fn has_certs(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn the_handshake_signature_is_checked_against_the_pinned_key() -> Result<(), rustls::Error> {
        let (a, b, c) = (device(1), device(2), device(3));
        let server = server_config(&a, Trust::Pinned(Arc::new(PinSet::new([b.id()]))), ALPN_DATA)?;
        let signer = provider().key_provider.load_private_key(c.private_key())?;
        let stolen = Arc::new(CertifiedKey::new(vec![b.cert()], signer));
        let mut client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(PinnedVerifier::new(Trust::Exactly(a.id())))
            .with_client_cert_resolver(Arc::new(Impostor(stolen)));
        client.alpn_protocols = vec![ALPN_DATA.to_vec()];
        let (server_saw, _) = handshake(server, Arc::new(client)).await;
        let err = server_saw.expect_err("a copied certificate without its key must be refused");
        assert!(err.to_lowercase().contains("signature"), "{err}");
        Ok(())
    }

    #[tokio::test]
    async fn proven_key_trust_still_checks_signatures() -> Result<(), rustls::Error> {
        let (a, b, c) = (device(1), device(2), device(3));
        let server = server_config(&a, Trust::ProvenKey, ALPN_PAIR)?;
        let (server_saw, _) = handshake(server.clone(), client_config(&b, Trust::ProvenKey, ALPN_PAIR)?).await;
        assert_eq!(server_saw, Ok(Some(b.id())));
        let signer = provider().key_provider.load_private_key(c.private_key())?;
        let mut client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(PinnedVerifier::new(Trust::ProvenKey))
            .with_client_cert_resolver(Arc::new(Impostor(Arc::new(CertifiedKey::new(vec![b.cert()], signer)))));
        client.alpn_protocols = vec![ALPN_PAIR.to_vec()];
        let (server_saw, _) = handshake(server, Arc::new(client)).await;
        assert!(server_saw.is_err(), "{server_saw:?}");
        Ok(())
    }
}
