//! Revoking a device: in one storage transaction its principal leaves every ACL and every group
//! and its pinned key is forgotten (the caller then drops the pin and closes its connections).
//! The revoking device signs a notice (Ed25519, canonical text) for its other paired devices;
//! a receiver checks the signature against the key it pinned for the signer, and applies the
//! same removal. Notices older than the receiver's own pairing with the revoked device are
//! ignored, so a replayed notice cannot undo a later re-pairing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::identity::{DeviceId, DeviceIdentity, verify_signature};
use crate::storage::{DeviceRow, Stamp, StorageResult, Tx};

const NOTICE_VERSION: u32 = 1;

/// What one removal changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// Whether the device was paired here.
    pub was_paired: bool,
    /// Objects whose ACL named the device.
    pub acls: usize,
    /// Groups the device was a member of.
    pub groups: usize,
}

/// Removes `device` from every ACL and group and forgets its key, inside `tx`.
pub fn remove_device(tx: &mut dyn Tx, device: &DeviceId) -> StorageResult<Removal> {
    let principal = device.principal();
    let mut removal = Removal { acls: tx.remove_principal_aces(&principal)?.len(), ..Removal::default() };
    for group_uri in tx.member_of(&[principal.as_str()])? {
        let Some((parent, id)) = group_uri.rsplit_once("/groups/") else { continue };
        let Some(group) = tx.get(parent, "group", id)? else { continue };
        if group.deleted {
            continue;
        }
        let mut data = group.data;
        let members: Vec<String> = data
            .get("members")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).filter(|m| *m != principal).map(str::to_owned).collect())
            .unwrap_or_default();
        data.insert("members".into(), Value::Array(members.iter().cloned().map(Value::String).collect()));
        data.remove("id");
        data.remove("last_modified");
        tx.put(parent, "group", id, data, Stamp::Now)?;
        tx.set_group_members(&group_uri, &members)?;
        removal.groups += 1;
    }
    removal.was_paired = tx.delete_device(&device.compact())?;
    Ok(removal)
}

/// A signed "this device is revoked" message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationNotice {
    pub v: u32,
    /// The revoked device (compact id).
    pub revoked: String,
    /// The device that revoked it and signed this notice (compact id).
    pub by: String,
    /// When (ms since the epoch).
    pub issued_at: i64,
    pub nonce: String,
    /// Ed25519 signature over [`RevocationNotice::signed_text`], base64.
    pub signature: String,
}

/// Why a notice was not applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoticeError {
    #[error("unsupported notice version {0}")]
    Version(u32),
    #[error("the notice is not signed by a paired device")]
    UnknownSigner,
    #[error("the notice's signature does not verify")]
    BadSignature,
    #[error("the notice names a malformed device id")]
    BadId,
    #[error("a device cannot revoke itself or the receiver this way")]
    SelfRevocation,
}

impl RevocationNotice {
    fn signed_text(revoked: &str, by: &str, issued_at: i64, nonce: &str) -> String {
        format!("kintoun-revocation-v{NOTICE_VERSION}\n{revoked}\n{by}\n{issued_at}\n{nonce}")
    }

    /// A notice signed by `me` that `revoked` is revoked.
    pub fn sign(me: &DeviceIdentity, revoked: &DeviceId, issued_at: i64) -> RevocationNotice {
        use base64::Engine;
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let (revoked, by) = (revoked.compact(), me.id().compact());
        let signature = me.sign(Self::signed_text(&revoked, &by, issued_at, &nonce).as_bytes());
        RevocationNotice {
            v: NOTICE_VERSION,
            revoked,
            by,
            issued_at,
            nonce,
            signature: base64::engine::general_purpose::STANDARD.encode(signature),
        }
    }

    /// Checks the notice against the signer's pinned key: the revoked device's id.
    pub fn verify(&self, paired: &[DeviceRow], me: &DeviceId) -> Result<DeviceId, NoticeError> {
        use base64::Engine;
        if self.v != NOTICE_VERSION {
            return Err(NoticeError::Version(self.v));
        }
        let revoked = DeviceId::parse(&self.revoked).map_err(|_| NoticeError::BadId)?;
        let by = DeviceId::parse(&self.by).map_err(|_| NoticeError::BadId)?;
        if revoked == by || revoked == *me {
            return Err(NoticeError::SelfRevocation);
        }
        let signer = paired.iter().find(|d| d.id == by.compact()).ok_or(NoticeError::UnknownSigner)?;
        if DeviceId::of_spki(&signer.spki) != by {
            return Err(NoticeError::UnknownSigner);
        }
        let signature =
            base64::engine::general_purpose::STANDARD.decode(&self.signature).map_err(|_| NoticeError::BadSignature)?;
        let text = Self::signed_text(&self.revoked, &self.by, self.issued_at, &self.nonce);
        verify_signature(&signer.spki, text.as_bytes(), &signature).map_err(|_| NoticeError::BadSignature)?;
        Ok(revoked)
    }
}

/// Applies a verified notice inside `tx`: nothing when the revoked device was paired here
/// after the notice was issued.
pub fn apply_notice(
    tx: &mut dyn Tx,
    notice: &RevocationNotice,
    me: &DeviceId,
) -> Result<Option<(DeviceId, Removal)>, ApplyError> {
    let paired = tx.devices()?;
    let revoked = notice.verify(&paired, me)?;
    if let Some(row) = paired.iter().find(|d| d.id == revoked.compact()) {
        if row.paired_at > notice.issued_at {
            return Ok(None);
        }
    }
    Ok(Some((revoked, remove_device(tx, &revoked)?)))
}

/// A notice that could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Notice(#[from] NoticeError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(byte: u8) -> DeviceIdentity {
        DeviceIdentity::from_seed_hex(&format!("{byte:02x}").repeat(32)).expect("fixed seed")
    }

    fn row(identity: &DeviceIdentity, paired_at: i64) -> DeviceRow {
        DeviceRow {
            id: identity.id().compact(),
            spki: identity.spki().to_vec(),
            name: "x".into(),
            address: "10.0.0.1:1".into(),
            paired_at,
        }
    }

    #[test]
    fn notices_verify_only_with_the_signers_pinned_key() {
        let (a, b, c) = (device(1), device(2), device(3));
        let notice = RevocationNotice::sign(&a, &b.id(), 1000);
        // C has A and B paired: it accepts A's notice about B.
        let paired = [row(&a, 10), row(&b, 10)];
        assert_eq!(notice.verify(&paired, &c.id()), Ok(b.id()));
        // Tampering with any signed field breaks the signature.
        let mut forged = notice.clone();
        forged.issued_at += 1;
        assert_eq!(forged.verify(&paired, &c.id()), Err(NoticeError::BadSignature));
        let mut retargeted = notice.clone();
        retargeted.revoked = c.id().compact();
        assert!(retargeted.verify(&paired, &device(4).id()).is_err());
        // A signer C does not know, or a pinned key that is not the signer's, is refused.
        assert_eq!(notice.verify(&[row(&b, 10)], &c.id()), Err(NoticeError::UnknownSigner));
        let mut wrong_key = row(&a, 10);
        wrong_key.spki = b.spki().to_vec();
        assert_eq!(notice.verify(&[wrong_key], &c.id()), Err(NoticeError::UnknownSigner));
        // B signing its own revocation by "A" does not verify with A's key.
        let mut impostor = RevocationNotice::sign(&b, &c.id(), 1000);
        impostor.by = a.id().compact();
        assert_eq!(impostor.verify(&paired, &device(4).id()), Err(NoticeError::BadSignature));
        // Nobody revokes the receiver itself with a notice.
        assert_eq!(RevocationNotice::sign(&a, &c.id(), 1).verify(&paired, &c.id()), Err(NoticeError::SelfRevocation));
    }
}
