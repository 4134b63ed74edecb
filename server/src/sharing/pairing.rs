//! Pairing with a one-time code: the invitation (8 digits, 60 s, 5 attempts, then burned) and
//! the protocol run over a TLS 1.3 connection on the pairing port, where each side has proved it
//! holds the key of its certificate but neither is trusted yet:
//!
//! 1. joiner → inviter `Hello { pake: msg_B }`; the inviter spends an attempt, answers `Pake { msg_A }`
//!    (SPAKE2 over Ed25519, password = the code, identities = the two device ids).
//! 2. both: `T = SHA-256(label ‖ TLS exporter ‖ id_A ‖ id_B ‖ msg_A ‖ msg_B)`,
//!    `(kc_A, kc_B, k_sas) = HKDF-SHA256(salt T, ikm K)`.
//! 3. joiner → `Confirm { HMAC(kc_B, "B" ‖ T) }`; the inviter checks it (a wrong code burns the
//!    attempt), then answers `Welcome { HMAC(kc_A, "A" ‖ T) }` which the joiner checks.
//!
//! A machine in the middle has its own TLS key, so the ids and the exporter differ on the two
//! legs and the confirmations fail even when it relays every byte. Both sides derive the same
//! six-digit short authentication string (SAS) from `k_sas` to show the user.

use std::time::{Duration, Instant};

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::identity::DeviceId;

/// How long a code is valid.
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// Wrong codes accepted before the code is burned.
pub const MAX_ATTEMPTS: u8 = 5;
/// The label of the TLS exporter both sides bind the PAKE to.
pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-kintoun-pair-v1";
const PROTOCOL_VERSION: u32 = 1;
const MAX_FRAME: u32 = 16 * 1024;

/// Why pairing failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PairingError {
    #[error("the pairing code has expired")]
    Expired,
    #[error("the pairing code was used up by wrong attempts; show a new code")]
    Burned,
    #[error("the pairing code was already used")]
    Used,
    #[error("no pairing code is being shown")]
    NoCode,
    #[error("wrong pairing code (or a machine in the middle)")]
    WrongCode,
    #[error("the other device refused: {0}")]
    Refused(String),
    #[error("pairing protocol error: {0}")]
    Protocol(String),
    #[error("pairing connection failed: {0}")]
    Io(String),
}

impl From<std::io::Error> for PairingError {
    fn from(err: std::io::Error) -> Self {
        PairingError::Io(err.to_string())
    }
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Live,
    Burned,
    Used,
}

/// A code shown on the inviting device.
#[derive(Debug, Clone)]
pub struct Invitation {
    code: String,
    created_at: Instant,
    expires_at: Instant,
    attempts_left: u8,
    state: InvitationState,
}

impl Invitation {
    /// A new random 8-digit code, valid [`CODE_TTL`] from `now`.
    pub fn new(now: Instant) -> Invitation {
        let code = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
        Invitation::with_code(code, now)
    }

    pub fn with_code(code: String, now: Instant) -> Invitation {
        Invitation {
            code,
            created_at: now,
            expires_at: now + CODE_TTL,
            attempts_left: MAX_ATTEMPTS,
            state: InvitationState::Live,
        }
    }

    /// The code as shown: `1234-5678`.
    pub fn display_code(&self) -> String {
        format!("{}-{}", &self.code[..4], &self.code[4..])
    }

    pub fn attempts_left(&self) -> u8 {
        self.attempts_left
    }

    pub fn state(&self) -> InvitationState {
        self.state
    }

    pub fn created_at(&self) -> Instant {
        self.created_at
    }

    pub fn expires_in(&self, now: Instant) -> Duration {
        self.expires_at.saturating_duration_since(now)
    }

    /// Whether the code can still be tried.
    pub fn usable(&self, now: Instant) -> Result<(), PairingError> {
        match self.state {
            InvitationState::Burned => Err(PairingError::Burned),
            InvitationState::Used => Err(PairingError::Used),
            InvitationState::Live if now >= self.expires_at => Err(PairingError::Expired),
            InvitationState::Live => Ok(()),
        }
    }

    /// Spends one attempt and hands out the code for the PAKE.
    pub fn begin_attempt(&mut self, now: Instant) -> Result<String, PairingError> {
        self.usable(now)?;
        self.attempts_left = self.attempts_left.saturating_sub(1);
        Ok(self.code.clone())
    }

    /// The attempt failed: with no attempts left the code is burned.
    pub fn failed(&mut self) {
        if self.attempts_left == 0 && self.state == InvitationState::Live {
            self.state = InvitationState::Burned;
        }
    }

    /// The code paired a device; it cannot be used again.
    pub fn succeeded(&mut self) {
        self.state = InvitationState::Used;
    }
}

/// Keeps only the digits of a typed code.
pub fn normalize_code(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_digit).collect()
}

/// The authenticated channel both sides see: the TLS exporter value and the two device ids
/// (A invites, B joins), as seen on this side's TLS connection.
#[derive(Debug, Clone)]
pub struct Channel {
    pub exporter: [u8; 32],
    pub inviter: DeviceId,
    pub joiner: DeviceId,
}

/// What the joiner tells about itself, and the inviter in return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub name: String,
    /// The peer's LAN data port.
    pub data_port: u16,
}

/// A successful pairing, as seen by one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paired {
    pub peer: DeviceId,
    pub info: PeerInfo,
    /// Six digits, `"123 456"`, the same on both devices.
    pub sas: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    Hello { v: u32, pake: String, info: PeerInfo },
    Pake { v: u32, pake: String },
    Confirm { mac: String },
    Welcome { mac: String, info: PeerInfo },
    Refused { reason: String },
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, message: &Message) -> Result<(), PairingError> {
    let bytes = serde_json::to_vec(message).map_err(|e| PairingError::Protocol(e.to_string()))?;
    let len = u32::try_from(bytes.len()).map_err(|_| PairingError::Protocol("message too large".into()))?;
    stream.write_u32(len).await?;
    stream.write_all(&bytes).await?;
    stream.flush().await?;
    Ok(())
}

async fn receive<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Message, PairingError> {
    let len = stream.read_u32().await?;
    if len > MAX_FRAME {
        return Err(PairingError::Protocol(format!("message of {len} bytes")));
    }
    let mut bytes = vec![0u8; len as usize];
    stream.read_exact(&mut bytes).await?;
    match serde_json::from_slice(&bytes).map_err(|e| PairingError::Protocol(e.to_string()))? {
        Message::Refused { reason } => Err(PairingError::Refused(reason)),
        message => Ok(message),
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, PairingError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| PairingError::Protocol("bad base64".into()))
}

/// The keys both sides derive once the PAKE is done.
struct Keys {
    transcript: [u8; 32],
    confirm_a: [u8; 32],
    confirm_b: [u8; 32],
    sas: String,
}

fn derive(channel: &Channel, shared: &[u8], msg_a: &[u8], msg_b: &[u8]) -> Result<Keys, PairingError> {
    let mut hash = Sha256::new();
    hash.update(b"kintoun-pair-v1");
    for part in [&channel.exporter[..], &channel.inviter.0, &channel.joiner.0, msg_a, msg_b] {
        hash.update((part.len() as u32).to_be_bytes());
        hash.update(part);
    }
    let transcript: [u8; 32] = hash.finalize().into();
    let mut okm = [0u8; 96];
    Hkdf::<Sha256>::new(Some(&transcript), shared)
        .expand(b"kintoun pair v1", &mut okm)
        .map_err(|e| PairingError::Protocol(e.to_string()))?;
    let mut confirm_a = [0u8; 32];
    let mut confirm_b = [0u8; 32];
    confirm_a.copy_from_slice(&okm[..32]);
    confirm_b.copy_from_slice(&okm[32..64]);
    let sas_number = u32::from_be_bytes([okm[64], okm[65], okm[66], okm[67]]) % 1_000_000;
    let sas = format!("{:03} {:03}", sas_number / 1000, sas_number % 1000);
    Ok(Keys { transcript, confirm_a, confirm_b, sas })
}

fn mac(key: &[u8; 32], side: &[u8], transcript: &[u8; 32]) -> Result<Hmac<Sha256>, PairingError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| PairingError::Protocol(e.to_string()))?;
    mac.update(side);
    mac.update(transcript);
    Ok(mac)
}

fn check_mac(key: &[u8; 32], side: &[u8], transcript: &[u8; 32], received: &str) -> Result<(), PairingError> {
    let received = unb64(received)?;
    // `verify_slice` compares in constant time.
    mac(key, side, transcript)?.verify_slice(&received).map_err(|_| PairingError::WrongCode)
}

fn identities(channel: &Channel) -> (Identity, Identity) {
    (Identity::new(&channel.inviter.0), Identity::new(&channel.joiner.0))
}

/// The inviter's side. `attempt` spends one attempt and returns the code (or why not);
/// `outcome` learns whether the confirmation matched.
pub async fn run_inviter<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    channel: &Channel,
    me: &PeerInfo,
    attempt: impl FnOnce() -> Result<String, PairingError>,
    outcome: impl FnOnce(bool),
) -> Result<Paired, PairingError> {
    let (msg_b, info) = match receive(stream).await? {
        Message::Hello { v: PROTOCOL_VERSION, pake, info } => (unb64(&pake)?, info),
        other => return Err(PairingError::Protocol(format!("expected hello, got {other:?}"))),
    };
    let code = match attempt() {
        Ok(code) => code,
        Err(err) => {
            let _ = send(stream, &Message::Refused { reason: err.to_string() }).await;
            return Err(err);
        }
    };
    let (id_a, id_b) = identities(channel);
    let (state, msg_a) = Spake2::<Ed25519Group>::start_a(&Password::new(code.as_bytes()), &id_a, &id_b);
    send(stream, &Message::Pake { v: PROTOCOL_VERSION, pake: b64(&msg_a) }).await?;
    let confirm = receive(stream).await;
    let verdict = (|| {
        let Message::Confirm { mac: received } = confirm? else {
            return Err(PairingError::Protocol("expected confirm".into()));
        };
        let shared = state.finish(&msg_b).map_err(|_| PairingError::WrongCode)?;
        let keys = derive(channel, &shared, &msg_a, &msg_b)?;
        check_mac(&keys.confirm_b, b"B", &keys.transcript, &received)?;
        Ok(keys)
    })();
    outcome(verdict.is_ok());
    let keys = match verdict {
        Ok(keys) => keys,
        Err(err) => {
            let _ = send(stream, &Message::Refused { reason: err.to_string() }).await;
            return Err(err);
        }
    };
    let reply = mac(&keys.confirm_a, b"A", &keys.transcript)?.finalize().into_bytes();
    send(stream, &Message::Welcome { mac: b64(&reply), info: me.clone() }).await?;
    Ok(Paired { peer: channel.joiner, info, sas: keys.sas })
}

/// The joiner's side, with the code the user typed.
pub async fn run_joiner<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    channel: &Channel,
    me: &PeerInfo,
    code: &str,
) -> Result<Paired, PairingError> {
    let (id_a, id_b) = identities(channel);
    let code = normalize_code(code);
    let (state, msg_b) = Spake2::<Ed25519Group>::start_b(&Password::new(code.as_bytes()), &id_a, &id_b);
    send(stream, &Message::Hello { v: PROTOCOL_VERSION, pake: b64(&msg_b), info: me.clone() }).await?;
    let msg_a = match receive(stream).await? {
        Message::Pake { v: PROTOCOL_VERSION, pake } => unb64(&pake)?,
        other => return Err(PairingError::Protocol(format!("expected pake, got {other:?}"))),
    };
    let shared = state.finish(&msg_a).map_err(|_| PairingError::WrongCode)?;
    let keys = derive(channel, &shared, &msg_a, &msg_b)?;
    let confirm = mac(&keys.confirm_b, b"B", &keys.transcript)?.finalize().into_bytes();
    send(stream, &Message::Confirm { mac: b64(&confirm) }).await?;
    let (received, info) = match receive(stream).await? {
        Message::Welcome { mac, info } => (mac, info),
        other => return Err(PairingError::Protocol(format!("expected welcome, got {other:?}"))),
    };
    check_mac(&keys.confirm_a, b"A", &keys.transcript, &received)?;
    Ok(Paired { peer: channel.inviter, info, sas: keys.sas })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn channel(exporter: u8) -> Channel {
        Channel { exporter: [exporter; 32], inviter: DeviceId([1; 32]), joiner: DeviceId([2; 32]) }
    }

    fn info(name: &str) -> PeerInfo {
        PeerInfo { name: name.into(), data_port: 4000 }
    }

    /// Runs both sides over a pipe against a shared invitation.
    async fn pair(
        invitation: &Arc<Mutex<Invitation>>,
        inviter_channel: Channel,
        joiner_channel: Channel,
        typed: &str,
        now: Instant,
    ) -> (Result<Paired, PairingError>, Result<Paired, PairingError>) {
        let (mut a, mut b) = tokio::io::duplex(16 * 1024);
        let (i1, i2) = (invitation.clone(), invitation.clone());
        let inviter = async move {
            run_inviter(
                &mut a,
                &inviter_channel,
                &info("A"),
                || i1.lock().map_err(|_| PairingError::NoCode)?.begin_attempt(now),
                |ok| {
                    if let Ok(mut inv) = i2.lock() {
                        if ok { inv.succeeded() } else { inv.failed() }
                    }
                },
            )
            .await
        };
        let joiner = async move { run_joiner(&mut b, &joiner_channel, &info("B"), typed).await };
        tokio::join!(inviter, joiner)
    }

    #[tokio::test]
    async fn the_right_code_pairs_with_the_same_check_string() {
        let now = Instant::now();
        let invitation = Arc::new(Mutex::new(Invitation::with_code("12345678".into(), now)));
        let (a, b) = pair(&invitation, channel(7), channel(7), "1234-5678", now).await;
        let (a, b) = (a.expect("inviter pairs"), b.expect("joiner pairs"));
        assert_eq!(a.peer, DeviceId([2; 32]));
        assert_eq!(b.peer, DeviceId([1; 32]));
        assert_eq!(a.info.name, "B");
        assert_eq!(b.info.name, "A");
        assert_eq!(a.sas, b.sas);
        assert_eq!(a.sas.len(), 7);
        let state = invitation.lock().expect("lock").state();
        assert_eq!(state, InvitationState::Used);
        let (again, _) = pair(&invitation, channel(7), channel(7), "12345678", now).await;
        assert_eq!(again.err(), Some(PairingError::Used));
    }

    #[tokio::test]
    async fn five_wrong_codes_burn_the_invitation() {
        let now = Instant::now();
        let invitation = Arc::new(Mutex::new(Invitation::with_code("12345678".into(), now)));
        for left in (0..MAX_ATTEMPTS).rev() {
            let (a, b) = pair(&invitation, channel(7), channel(7), "87654321", now).await;
            assert_eq!(a.err(), Some(PairingError::WrongCode));
            assert!(matches!(b, Err(PairingError::Refused(_))), "{b:?}");
            assert_eq!(invitation.lock().expect("lock").attempts_left(), left);
        }
        assert_eq!(invitation.lock().expect("lock").state(), InvitationState::Burned);
        let (a, b) = pair(&invitation, channel(7), channel(7), "12345678", now).await;
        assert_eq!(a.err(), Some(PairingError::Burned));
        assert!(matches!(b, Err(PairingError::Refused(reason)) if reason.contains("used up")));
    }

    #[tokio::test]
    async fn an_expired_code_is_refused() {
        let start = Instant::now();
        let invitation = Arc::new(Mutex::new(Invitation::with_code("12345678".into(), start)));
        let (a, _) = pair(&invitation, channel(7), channel(7), "12345678", start + CODE_TTL).await;
        assert_eq!(a.err(), Some(PairingError::Expired));
        let (a, _) =
            pair(&invitation, channel(7), channel(7), "12345678", start + CODE_TTL - Duration::from_secs(1)).await;
        assert!(a.is_ok(), "{a:?}");
    }

    #[tokio::test]
    async fn a_different_tls_channel_fails_confirmation_even_with_the_right_code() {
        let now = Instant::now();
        let invitation = Arc::new(Mutex::new(Invitation::with_code("12345678".into(), now)));
        // Different exporters: the two legs of a relay through a machine in the middle.
        let (a, b) = pair(&invitation, channel(7), channel(8), "12345678", now).await;
        assert_eq!(a.err(), Some(PairingError::WrongCode));
        assert!(b.is_err());
        // Different ids: the relay presents its own key on each leg.
        let mut joiner_view = channel(7);
        joiner_view.inviter = DeviceId([9; 32]);
        let (a, _) = pair(&invitation, channel(7), joiner_view, "12345678", now).await;
        assert_eq!(a.err(), Some(PairingError::WrongCode));
        assert_eq!(invitation.lock().expect("lock").attempts_left(), MAX_ATTEMPTS - 2);
    }

    #[test]
    fn invitation_limits() {
        let now = Instant::now();
        let mut invitation = Invitation::new(now);
        assert_eq!(invitation.display_code().len(), 9);
        assert_eq!(normalize_code(&invitation.display_code()).len(), 8);
        for _ in 0..MAX_ATTEMPTS {
            assert!(invitation.begin_attempt(now).is_ok());
            invitation.failed();
        }
        assert_eq!(invitation.begin_attempt(now), Err(PairingError::Burned));
        let mut fresh = Invitation::new(now);
        assert_eq!(fresh.expires_in(now), CODE_TTL);
        assert_eq!(fresh.begin_attempt(now + CODE_TTL), Err(PairingError::Expired));
    }
}
