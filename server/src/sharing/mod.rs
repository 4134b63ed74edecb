//! Sharing with household devices: each install has an Ed25519 device key ([`identity`]);
//! devices find each other with mDNS ([`discovery`]), pair with a one-time code and a PAKE bound
//! to the TLS channel ([`pairing`], [`peer`]), then talk over a LAN listener with TLS 1.3 mutual
//! authentication pinned to each other's keys ([`tls`], [`listener`]), where a request
//! authenticates as principal `device:<id>`. Revoking a device ([`revocation`]) removes it from
//! every ACL and group, forgets its key, closes its connections and tells the other devices in a
//! signed notice. [`service`] runs all of it; [`admin`] exposes it to the owner over HTTP.
//! Paired devices live in the `devices` SQLite table, next to the ACLs they appear in.

pub mod activity;
pub mod admin;
pub mod attach;
pub mod cli;
pub mod discovery;
pub mod identity;
pub mod lan_settings;
pub mod listener;
pub mod pairing;
pub mod peer;
pub mod pending;
pub mod revocation;
pub mod service;
pub mod shares;
pub mod tls;

use std::net::IpAddr;

pub use identity::{DeviceId, DeviceIdentity};
pub use service::Sharing;

/// The LAN settings in effect (`lan_sharing` on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingConfig {
    /// `device_name`: how this device appears to others.
    pub device_name: String,
    /// `lan_interfaces`: interface names mDNS uses (empty: every non-loopback one).
    pub interfaces: Vec<String>,
    /// `lan_address`: where the LAN listener and pairing ports listen.
    pub address: IpAddr,
    /// `lan_port`: the LAN data port (0 picks a free one).
    pub port: u16,
}

/// The host name, or "Kintoun".
pub fn default_device_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Kintoun".to_owned())
}

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SharingError {
    #[error("LAN sharing is off (setting lan_sharing, KINTOUN_LAN_SHARING=1)")]
    Off,
    #[error("cannot listen on the LAN: {0}")]
    Listen(String),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    #[error(transparent)]
    Pairing(#[from] pairing::PairingError),
    #[error(transparent)]
    Notice(#[from] revocation::NoticeError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("no such device: {0}")]
    UnknownDevice(String),
    #[error("{0:?} matches several devices; give its full id")]
    Ambiguous(String),
    #[error("no pairing code is being shown")]
    NoLiveCode,
    #[error("{0} is not waiting for confirmation")]
    NotPending(String),
    #[error("{0} is not showing a pairing code")]
    NotInviting(String),
    #[error("{0}")]
    Internal(String),
}
