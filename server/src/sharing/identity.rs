//! This install's device identity: an Ed25519 key whose 32-byte seed lives in the secrets store
//! (secret `device-key`, hex), a self-signed certificate made from it for TLS, and the device id:
//! SHA-256 of the key's SubjectPublicKeyInfo, written as base32 in four blocks of 13 characters
//! each followed by a Luhn mod 32 check character, shown as eight dash-separated groups of 7.

use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::RngCore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// The secret holding the device key seed (64 hex characters).
pub const SECRET_NAME: &str = "device-key";

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BLOCK: usize = 13;
const BLOCKS: usize = 4;
/// Characters of a device id without dashes: 4 × (13 + 1 check character).
pub const ID_CHARS: usize = BLOCKS * (BLOCK + 1);

/// Why an identity or a device id could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("the stored device key is not 64 hexadecimal characters")]
    BadSeed,
    #[error("cannot build the device certificate: {0}")]
    Certificate(String),
    #[error("a device id has {ID_CHARS} letters and digits (dashes optional), got {0}")]
    IdLength(usize),
    #[error("{0:?} is not a device id character (A-Z, 2-7)")]
    IdCharacter(char),
    #[error("device id group {0} fails its check character: a character is mistyped")]
    IdCheck(usize),
    #[error("not an Ed25519 public key")]
    PublicKey,
}

/// SHA-256 of a SubjectPublicKeyInfo: what pins and device ids are made of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub [u8; 32]);

impl DeviceId {
    pub fn of_spki(spki_der: &[u8]) -> DeviceId {
        DeviceId(Sha256::digest(spki_der).into())
    }

    /// The 56-character form without dashes (used in principals: `device:<compact>`).
    pub fn compact(&self) -> String {
        let plain = data_encoding::BASE32_NOPAD.encode(&self.0);
        let mut out = String::with_capacity(ID_CHARS);
        for block in plain.as_bytes().chunks(BLOCK) {
            let text = std::str::from_utf8(block).unwrap_or_default();
            out.push_str(text);
            out.push(luhn32_check(text.as_bytes()) as char);
        }
        out
    }

    /// The readable form: `XXXXXXX-XXXXXXX-...` (8 groups of 7).
    pub fn display(&self) -> String {
        let compact = self.compact();
        compact.as_bytes().chunks(7).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join("-")
    }

    /// The first group, for TXT records and short listings.
    pub fn short(&self) -> String {
        self.compact()[..7].to_owned()
    }

    /// The Kinto principal of this device.
    pub fn principal(&self) -> String {
        format!("device:{}", self.compact())
    }

    /// Parses a typed id: dashes and spaces ignored, lowercase accepted, 0/1/8 read as O/I/B;
    /// every group's check character must match.
    pub fn parse(text: &str) -> Result<DeviceId, IdentityError> {
        let text = text.strip_prefix("device:").unwrap_or(text);
        let mut chars = Vec::with_capacity(ID_CHARS);
        for c in text.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                '0' => 'O',
                '1' => 'I',
                '8' => 'B',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(IdentityError::IdCharacter(c));
            }
            chars.push(c as u8);
        }
        if chars.len() != ID_CHARS {
            return Err(IdentityError::IdLength(chars.len()));
        }
        let mut plain = Vec::with_capacity(BLOCK * BLOCKS);
        for (index, group) in chars.chunks(BLOCK + 1).enumerate() {
            if luhn32_check(&group[..BLOCK]) != group[BLOCK] {
                return Err(IdentityError::IdCheck(index + 1));
            }
            plain.extend_from_slice(&group[..BLOCK]);
        }
        let bytes = data_encoding::BASE32_NOPAD.decode(&plain).map_err(|_| IdentityError::IdLength(chars.len()))?;
        let hash: [u8; 32] = bytes.try_into().map_err(|_| IdentityError::IdLength(chars.len()))?;
        Ok(DeviceId(hash))
    }
}

impl std::fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceId({})", self.display())
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// Textbook Luhn mod N (N = 32) check character over base32 characters.
fn luhn32_check(chars: &[u8]) -> u8 {
    let n = 32u32;
    let mut factor = 2u32;
    let mut sum = 0u32;
    for c in chars.iter().rev() {
        let code = ALPHABET.iter().position(|a| a == c).unwrap_or(0) as u32;
        let addend = factor * code;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    ALPHABET[((n - sum % n) % n) as usize]
}

/// The device key, its certificate and id.
pub struct DeviceIdentity {
    signing: SigningKey,
    spki: Vec<u8>,
    cert: CertificateDer<'static>,
    pkcs8: Vec<u8>,
    id: DeviceId,
}

impl DeviceIdentity {
    /// A new random seed in the stored form (64 hex characters).
    pub fn generate_seed_hex() -> String {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        hex::encode(seed)
    }

    /// The identity of a stored seed; the certificate is rebuilt each time (same key, same id).
    pub fn from_seed_hex(seed_hex: &str) -> Result<DeviceIdentity, IdentityError> {
        let bytes = hex::decode(seed_hex.trim()).map_err(|_| IdentityError::BadSeed)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| IdentityError::BadSeed)?;
        let signing = SigningKey::from_bytes(&seed);
        let spki = signing
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| IdentityError::Certificate(e.to_string()))?
            .into_vec();
        let pkcs8 = signing.to_pkcs8_der().map_err(|e| IdentityError::Certificate(e.to_string()))?.as_bytes().to_vec();
        let id = DeviceId::of_spki(&spki);
        let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
            &rcgen::PKCS_ED25519,
        )
        .map_err(|e| IdentityError::Certificate(e.to_string()))?;
        let mut params =
            rcgen::CertificateParams::new(vec![format!("{}.kintoun.invalid", id.compact().to_lowercase())])
                .map_err(|e| IdentityError::Certificate(e.to_string()))?;
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(9999, 12, 31);
        let cert = params.self_signed(&key_pair).map_err(|e| IdentityError::Certificate(e.to_string()))?;
        Ok(DeviceIdentity { signing, spki, cert: cert.der().clone(), pkcs8, id })
    }

    pub fn id(&self) -> DeviceId {
        self.id
    }

    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    pub fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.pkcs8.clone()))
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

/// Checks an Ed25519 signature by the key of a SubjectPublicKeyInfo (strict verification).
pub fn verify_signature(spki_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), IdentityError> {
    let key = VerifyingKey::from_public_key_der(spki_der).map_err(|_| IdentityError::PublicKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| IdentityError::PublicKey)?;
    key.verify_strict(message, &signature).map_err(|_| IdentityError::PublicKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> DeviceIdentity {
        DeviceIdentity::from_seed_hex(&"07".repeat(32)).expect("fixed seed")
    }

    #[test]
    fn id_round_trips_in_every_written_form() {
        let id = identity().id();
        let display = id.display();
        assert_eq!(display.len(), ID_CHARS + 7);
        assert_eq!(display.split('-').count(), 8);
        assert_eq!(DeviceId::parse(&display), Ok(id));
        assert_eq!(DeviceId::parse(&id.compact().to_lowercase()), Ok(id));
        assert_eq!(DeviceId::parse(&id.principal()), Ok(id));
        let confusable = id.compact().replace('O', "0").replace('I', "1").replace('B', "8");
        assert_eq!(DeviceId::parse(&confusable), Ok(id));
    }

    #[test]
    fn check_characters_catch_every_single_typo() {
        let compact = identity().id().compact();
        for position in 0..compact.len() {
            for replacement in ALPHABET.iter() {
                let mut typo = compact.clone().into_bytes();
                if typo[position] == *replacement {
                    continue;
                }
                typo[position] = *replacement;
                let typo = String::from_utf8(typo).expect("ascii");
                assert_eq!(
                    DeviceId::parse(&typo),
                    Err(IdentityError::IdCheck(position / (BLOCK + 1) + 1)),
                    "typo at {position} not caught"
                );
            }
        }
    }

    #[test]
    fn check_characters_catch_adjacent_swaps() {
        let compact = identity().id().compact();
        let bytes = compact.as_bytes();
        for position in 0..compact.len() - 1 {
            let pair = [bytes[position], bytes[position + 1]];
            // Luhn mod N misses exactly one transposition: the first and last characters.
            if pair[0] == pair[1] || pair == *b"A7" || pair == *b"7A" || (position + 1) % (BLOCK + 1) == 0 {
                continue;
            }
            let mut swapped = bytes.to_vec();
            swapped.swap(position, position + 1);
            let swapped = String::from_utf8(swapped).expect("ascii");
            assert!(DeviceId::parse(&swapped).is_err(), "swap at {position} not caught");
        }
    }

    #[test]
    fn bad_ids_are_refused_with_a_reason() {
        assert_eq!(DeviceId::parse("ABC"), Err(IdentityError::IdLength(3)));
        assert!(matches!(DeviceId::parse("ABC!"), Err(IdentityError::IdCharacter('!'))));
        assert_eq!(DeviceIdentity::from_seed_hex("zz").err(), Some(IdentityError::BadSeed));
    }

    #[test]
    fn same_seed_same_id_and_certificate_key() -> Result<(), IdentityError> {
        let a = identity();
        let b = DeviceIdentity::from_seed_hex(&"07".repeat(32))?;
        assert_eq!(a.id(), b.id());
        let cert = a.cert();
        let parsed = rustls::server::ParsedCertificate::try_from(&cert)
            .map_err(|e| IdentityError::Certificate(e.to_string()))?;
        assert_eq!(DeviceId::of_spki(parsed.subject_public_key_info().as_ref()), a.id());
        let other = DeviceIdentity::from_seed_hex(&DeviceIdentity::generate_seed_hex())?;
        assert_ne!(other.id(), a.id());
        Ok(())
    }

    #[test]
    fn signatures_verify_only_with_the_right_key() -> Result<(), IdentityError> {
        let a = identity();
        let b = DeviceIdentity::from_seed_hex(&"08".repeat(32))?;
        let signature = a.sign(b"notice");
        verify_signature(a.spki(), b"notice", &signature)?;
        assert!(verify_signature(b.spki(), b"notice", &signature).is_err());
        assert!(verify_signature(a.spki(), b"notice!", &signature).is_err());
        Ok(())
    }
}
