//! mDNS discovery (`mdns-sd`): while LAN sharing is on, this device announces
//! `_kintoun._tcp.local.` on the chosen interfaces with a TXT record (protocol version, id,
//! name, data port, and the pairing port while a code is live) and keeps a live list of the
//! other Kintoun devices it hears. Everything heard is a hint: keys are checked at TLS.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use serde::Serialize;

use super::identity::DeviceId;

pub const SERVICE_TYPE: &str = "_kintoun._tcp.local.";
const TXT_VERSION: &str = "1";

/// Why discovery could not start or announce.
#[derive(Debug, thiserror::Error)]
#[error("mDNS: {0}")]
pub struct DiscoveryError(String);

impl From<mdns_sd::Error> for DiscoveryError {
    fn from(err: mdns_sd::Error) -> Self {
        DiscoveryError(err.to_string())
    }
}

/// What this device announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: DeviceId,
    pub name: String,
    pub data_port: u16,
    pub pairing_port: Option<u16>,
}

/// A device heard on the LAN (unverified).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nearby {
    /// The device id it claims (compact form), checked only when TLS pins it.
    pub id: String,
    pub name: String,
    pub addresses: Vec<IpAddr>,
    pub data_port: u16,
    /// Set while it shows a pairing code.
    pub pairing_port: Option<u16>,
    /// When it was last heard (ms since the epoch).
    pub seen_at: i64,
}

/// The running announcer and browser.
pub struct Discovery {
    daemon: ServiceDaemon,
    fullname: Mutex<String>,
    nearby: Arc<Mutex<BTreeMap<String, Nearby>>>,
}

fn service_info(announcement: &Announcement) -> Result<ServiceInfo, DiscoveryError> {
    let short = announcement.id.short().to_lowercase();
    let id = announcement.id.compact();
    let data_port = announcement.data_port.to_string();
    let mut properties =
        vec![("v", TXT_VERSION.to_owned()), ("id", id), ("name", announcement.name.clone()), ("dp", data_port)];
    if let Some(port) = announcement.pairing_port {
        properties.push(("pp", port.to_string()));
    }
    let info = ServiceInfo::new(
        SERVICE_TYPE,
        &format!("kintoun-{short}"),
        &format!("kintoun-{short}.local."),
        "",
        announcement.data_port,
        &properties[..],
    )?;
    Ok(info.enable_addr_auto())
}

fn heard(resolved: &mdns_sd::ResolvedService) -> Option<Nearby> {
    let txt = &resolved.txt_properties;
    if txt.get_property_val_str("v") != Some(TXT_VERSION) {
        return None;
    }
    let id = DeviceId::parse(txt.get_property_val_str("id")?).ok()?;
    let mut addresses: Vec<IpAddr> = resolved.addresses.iter().map(|a| a.to_ip_addr()).collect();
    addresses.sort();
    Some(Nearby {
        id: id.compact(),
        name: txt.get_property_val_str("name").unwrap_or_default().chars().take(64).collect(),
        addresses,
        data_port: txt.get_property_val_str("dp").and_then(|p| p.parse().ok()).unwrap_or(resolved.port),
        pairing_port: txt.get_property_val_str("pp").and_then(|p| p.parse().ok()),
        seen_at: crate::storage::sqlite::now_ms(),
    })
}

impl Discovery {
    /// Starts announcing and browsing on `interfaces` (names; empty = every non-loopback one).
    pub fn start(interfaces: &[String], announcement: &Announcement) -> Result<Discovery, DiscoveryError> {
        let daemon = ServiceDaemon::new()?;
        if interfaces.is_empty() {
            daemon.disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])?;
        } else {
            daemon.disable_interface(IfKind::All)?;
            daemon.enable_interface(interfaces.iter().map(|name| IfKind::Name(name.clone())).collect::<Vec<_>>())?;
        }
        let info = service_info(announcement)?;
        let own = info.get_fullname().to_owned();
        daemon.register(info)?;
        let receiver = daemon.browse(SERVICE_TYPE)?;
        let nearby: Arc<Mutex<BTreeMap<String, Nearby>>> = Arc::default();
        let list = nearby.clone();
        let own_id = announcement.id.compact();
        let own_name = own.clone();
        tokio::spawn(async move {
            while let Ok(event) = receiver.recv_async().await {
                let Ok(mut list) = list.lock() else { break };
                match event {
                    ServiceEvent::ServiceResolved(resolved) if resolved.fullname != own_name => {
                        if let Some(device) = heard(&resolved).filter(|d| d.id != own_id) {
                            tracing::debug!(name = %device.name, id = %device.id, "mDNS: device heard");
                            list.insert(resolved.fullname.clone(), device);
                        }
                    }
                    ServiceEvent::ServiceRemoved(_, fullname) => {
                        list.remove(&fullname);
                    }
                    _ => {}
                }
            }
        });
        Ok(Discovery { daemon, fullname: Mutex::new(own), nearby })
    }

    /// Re-announces with a changed TXT record (e.g. a pairing port opened or closed).
    pub fn announce(&self, announcement: &Announcement) -> Result<(), DiscoveryError> {
        let info = service_info(announcement)?;
        if let Ok(mut fullname) = self.fullname.lock() {
            *fullname = info.get_fullname().to_owned();
        }
        self.daemon.register(info)?;
        Ok(())
    }

    /// The devices heard, newest information first by name.
    pub fn nearby(&self) -> Vec<Nearby> {
        self.nearby.lock().map(|list| list.values().cloned().collect()).unwrap_or_default()
    }

    /// Says goodbye on the LAN and stops the daemon.
    pub fn stop(&self) {
        if let Ok(fullname) = self.fullname.lock() {
            if let Ok(done) = self.daemon.unregister(&fullname) {
                let _ = done.recv_timeout(std::time::Duration::from_secs(1));
            }
        }
        let _ = self.daemon.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_txt_record_carries_version_id_name_and_ports() -> Result<(), DiscoveryError> {
        let id = DeviceId([5; 32]);
        let info = service_info(&Announcement { id, name: "Den".into(), data_port: 4100, pairing_port: Some(4200) })?;
        assert_eq!(info.get_property_val_str("v"), Some("1"));
        assert_eq!(info.get_property_val_str("id"), Some(id.compact().as_str()));
        assert_eq!(info.get_property_val_str("name"), Some("Den"));
        assert_eq!(info.get_property_val_str("dp"), Some("4100"));
        assert_eq!(info.get_property_val_str("pp"), Some("4200"));
        assert!(info.get_fullname().starts_with(&format!("kintoun-{}", id.short().to_lowercase())));
        let closed = service_info(&Announcement { id, name: "Den".into(), data_port: 4100, pairing_port: None })?;
        assert_eq!(closed.get_property_val_str("pp"), None);
        Ok(())
    }
}
