//! Peers waiting for the user's confirmation: after the PAKE succeeds each side keeps the peer
//! here (not pinned: the data port still refuses it) until the user confirms that both screens
//! show the same check string, rejects it, or [`CONFIRM_TTL`] passes and it is forgotten.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::identity::DeviceId;
use super::pairing::Paired;

/// How long a paired-but-unconfirmed peer waits for the user.
pub const CONFIRM_TTL: Duration = Duration::from_secs(120);

/// A peer that passed the PAKE, with what pinning it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub paired: Paired,
    /// The peer's public key (SPKI, DER) to pin.
    pub spki: Vec<u8>,
    /// The peer's LAN data address.
    pub address: SocketAddr,
    pub expires_at: Instant,
}

/// The peers waiting for confirmation, by device id.
#[derive(Debug, Default)]
pub struct PendingSet {
    peers: HashMap<DeviceId, Pending>,
}

impl PendingSet {
    /// Adds (or replaces) a peer, waiting until `now + CONFIRM_TTL`.
    pub fn insert(&mut self, paired: Paired, spki: Vec<u8>, address: SocketAddr, now: Instant) -> Pending {
        let pending = Pending { paired, spki, address, expires_at: now + CONFIRM_TTL };
        self.peers.insert(pending.paired.peer, pending.clone());
        pending
    }

    /// The user confirmed: the peer leaves the set, to be pinned. `None` if it is not waiting
    /// (never was, rejected, or expired).
    pub fn confirm(&mut self, id: &DeviceId, now: Instant) -> Option<Pending> {
        let pending = self.peers.remove(id)?;
        (now < pending.expires_at).then_some(pending)
    }

    /// The user rejected the peer: it is forgotten. `None` if it was not waiting.
    pub fn reject(&mut self, id: &DeviceId, now: Instant) -> Option<Pending> {
        let pending = self.peers.remove(id)?;
        (now < pending.expires_at).then_some(pending)
    }

    /// Forgets the peers whose time is up and returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Pending> {
        let expired: Vec<DeviceId> =
            self.peers.iter().filter(|(_, p)| now >= p.expires_at).map(|(id, _)| *id).collect();
        expired.iter().filter_map(|id| self.peers.remove(id)).collect()
    }

    /// The peers still waiting at `now`.
    pub fn waiting(&self, now: Instant) -> Vec<Pending> {
        let mut list: Vec<Pending> = self.peers.values().filter(|p| now < p.expires_at).cloned().collect();
        list.sort_by_key(|p| p.expires_at);
        list
    }

    pub fn contains(&self, id: &DeviceId, now: Instant) -> bool {
        self.peers.get(id).is_some_and(|p| now < p.expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sharing::pairing::PeerInfo;

    fn paired(byte: u8) -> Paired {
        Paired {
            peer: DeviceId([byte; 32]),
            info: PeerInfo { name: format!("dev{byte}"), data_port: 4000 },
            sas: "123 456".into(),
        }
    }

    fn addr() -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 2], 4000))
    }

    #[test]
    fn confirming_hands_the_peer_over_once() {
        let now = Instant::now();
        let mut set = PendingSet::default();
        set.insert(paired(1), vec![1, 2], addr(), now);
        assert!(set.contains(&DeviceId([1; 32]), now));
        assert_eq!(set.waiting(now).len(), 1);
        let confirmed = set.confirm(&DeviceId([1; 32]), now + Duration::from_secs(5)).expect("waiting");
        assert_eq!(confirmed.paired, paired(1));
        assert_eq!(confirmed.spki, vec![1, 2]);
        assert!(set.confirm(&DeviceId([1; 32]), now).is_none(), "confirmed twice");
        assert!(set.waiting(now).is_empty());
        assert!(set.confirm(&DeviceId([2; 32]), now).is_none(), "never waiting");
    }

    #[test]
    fn a_rejected_peer_cannot_be_confirmed() {
        let now = Instant::now();
        let mut set = PendingSet::default();
        set.insert(paired(1), vec![], addr(), now);
        set.insert(paired(2), vec![], addr(), now);
        assert!(set.reject(&DeviceId([1; 32]), now).is_some());
        assert!(set.reject(&DeviceId([1; 32]), now).is_none());
        assert!(set.confirm(&DeviceId([1; 32]), now).is_none());
        assert!(!set.contains(&DeviceId([1; 32]), now));
        assert!(set.confirm(&DeviceId([2; 32]), now).is_some(), "the other peer is untouched");
    }

    #[test]
    fn a_peer_expires_after_the_confirmation_time() {
        let now = Instant::now();
        let mut set = PendingSet::default();
        let pending = set.insert(paired(1), vec![], addr(), now);
        assert_eq!(pending.expires_at, now + CONFIRM_TTL);
        set.insert(paired(2), vec![], addr(), now + Duration::from_secs(60));
        let just_before = now + CONFIRM_TTL - Duration::from_millis(1);
        assert!(set.expire(just_before).is_empty());
        assert!(set.contains(&DeviceId([1; 32]), just_before));
        // At the deadline it can no longer be confirmed, even before a sweep removes it.
        assert!(!set.contains(&DeviceId([1; 32]), now + CONFIRM_TTL));
        assert_eq!(set.waiting(now + CONFIRM_TTL).len(), 1);
        let expired = set.expire(now + CONFIRM_TTL);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].paired.peer, DeviceId([1; 32]));
        assert!(set.confirm(&DeviceId([1; 32]), now + CONFIRM_TTL).is_none());
        let late = set.confirm(&DeviceId([2; 32]), now + Duration::from_secs(60) + CONFIRM_TTL);
        assert!(late.is_none(), "confirmed after expiry");
        assert!(set.waiting(now).is_empty());
    }
}
