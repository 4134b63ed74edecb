//! The LAN settings the owner may change while the server runs (`lan_sharing`, `device_name`,
//! `lan_interfaces`, `lan_address`, `lan_port`): their values in force, the checks on an
//! update, and the file the owner's choices are kept in (`<data dir>/lan-settings.json`).
//!
//! Precedence: defaults < config file < saved choices < environment variables < CLI flags. A
//! key set by an environment variable cannot be changed at run time (the variable would win
//! again at the next start); the UI shows it locked, with the variable's name.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SharingConfig;
use crate::error::ApiError;
use crate::settings::Settings;

/// The file, in the data directory.
pub const FILE: &str = "lan-settings.json";

/// The longest device name (an mDNS instance name is one DNS label: 63 bytes).
pub const MAX_NAME_BYTES: usize = 63;

/// The LAN settings in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanSettings {
    pub lan_sharing: bool,
    /// `None`: the host name.
    pub device_name: Option<String>,
    pub lan_interfaces: Vec<String>,
    pub lan_address: IpAddr,
    pub lan_port: u16,
}

impl LanSettings {
    pub fn of(settings: &Settings) -> LanSettings {
        LanSettings {
            lan_sharing: settings.lan_sharing,
            device_name: settings.device_name.clone(),
            lan_interfaces: settings.lan_interfaces.clone(),
            lan_address: settings.lan_address,
            lan_port: settings.lan_port,
        }
    }

    /// The name other devices see.
    pub fn effective_name(&self) -> String {
        self.device_name.clone().unwrap_or_else(super::default_device_name)
    }

    /// The device layer's configuration, when sharing is on.
    pub fn config(&self) -> Option<SharingConfig> {
        self.lan_sharing.then(|| SharingConfig {
            device_name: self.effective_name(),
            interfaces: self.lan_interfaces.clone(),
            address: self.lan_address,
            port: self.lan_port,
        })
    }
}

/// The owner's saved choices: only the keys they changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLan {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan_sharing: Option<bool>,
    /// An empty name stands for "the host name".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan_interfaces: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan_address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan_port: Option<u16>,
}

/// Reads the saved choices; a missing file is no choice, a damaged one is logged and ignored
/// (the server still starts, with the config file's values).
pub fn load(data_dir: &Path) -> SavedLan {
    let path = data_dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
            tracing::error!(path = %path.display(), error = %err, "the saved LAN settings are unreadable; ignored");
            SavedLan::default()
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => SavedLan::default(),
        Err(err) => {
            tracing::error!(path = %path.display(), error = %err, "cannot read the saved LAN settings; ignored");
            SavedLan::default()
        }
    }
}

/// Writes the saved choices through a synced temporary file, so a crash keeps the old or the
/// new file, never half of one.
pub fn save(data_dir: &Path, saved: &SavedLan) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(saved).map_err(std::io::Error::other)?;
    let mut file = tempfile::NamedTempFile::new_in(data_dir)?;
    file.write_all(&text)?;
    file.as_file().sync_all()?;
    file.persist(data_dir.join(FILE)).map_err(|err| err.error)?;
    Ok(())
}

/// Lays the saved choices over `settings`, except the keys an environment variable sets.
pub fn apply_saved(settings: &mut Settings, saved: &SavedLan) {
    let free = |key: &str| !settings.from_env.contains_key(key);
    let (sharing, name, interfaces, address, port) =
        (free("lan_sharing"), free("device_name"), free("lan_interfaces"), free("lan_address"), free("lan_port"));
    if let (Some(value), true) = (saved.lan_sharing, sharing) {
        settings.lan_sharing = value;
    }
    if let (Some(value), true) = (&saved.device_name, name) {
        settings.device_name = Some(value.trim().to_owned()).filter(|n| !n.is_empty());
    }
    if let (Some(value), true) = (&saved.lan_interfaces, interfaces) {
        settings.lan_interfaces = value.clone();
    }
    if let (Some(value), true) = (saved.lan_address, address) {
        settings.lan_address = value;
    }
    if let (Some(value), true) = (saved.lan_port, port) {
        settings.lan_port = value;
    }
}

/// An update checked against the settings in force: the new settings and the saved choices
/// with the update folded in.
#[derive(Debug)]
pub struct Update {
    pub settings: LanSettings,
    pub saved: SavedLan,
}

/// Checks a `PATCH /v1/__devices__/settings` body: a JSON object with any of the five keys.
/// Unknown keys, wrong types, and changes to keys an environment variable sets are 400s
/// naming the key.
pub fn update(
    current: &LanSettings,
    saved: &SavedLan,
    body: &Value,
    from_env: &BTreeMap<String, String>,
) -> Result<Update, ApiError> {
    let Some(fields) = body.as_object() else {
        return Err(ApiError::invalid_body("body", "Should be a JSON object with LAN settings"));
    };
    let mut settings = current.clone();
    let mut saved = saved.clone();
    for (key, value) in fields {
        match key.as_str() {
            "lan_sharing" => {
                let on = value.as_bool().ok_or_else(|| ApiError::invalid_body(key, "Should be true or false"))?;
                settings.lan_sharing = on;
                saved.lan_sharing = Some(on);
            }
            "device_name" => {
                let name = device_name(value).map_err(|message| ApiError::invalid_body(key, message))?;
                saved.device_name = Some(name.clone().unwrap_or_default());
                settings.device_name = name;
            }
            "lan_interfaces" => {
                let names = interfaces(value).map_err(|message| ApiError::invalid_body(key, message))?;
                saved.lan_interfaces = Some(names.clone());
                settings.lan_interfaces = names;
            }
            "lan_address" => {
                let address: IpAddr = value
                    .as_str()
                    .and_then(|text| text.trim().parse().ok())
                    .ok_or_else(|| ApiError::invalid_body(key, "Should be an IP address, e.g. 0.0.0.0"))?;
                saved.lan_address = Some(address);
                settings.lan_address = address;
            }
            "lan_port" => {
                let port = value
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(|| ApiError::invalid_body(key, "Should be a port number from 0 to 65535"))?;
                saved.lan_port = Some(port);
                settings.lan_port = port;
            }
            other => return Err(ApiError::invalid_body(other, "Unknown LAN setting")),
        }
    }
    for (key, variable) in from_env {
        if fields.contains_key(key.as_str()) && changed(key, current, &settings) {
            return Err(ApiError::invalid_body(
                key,
                format!("Set by the environment variable {variable}; unset it to change this setting here"),
            ));
        }
    }
    Ok(Update { settings, saved })
}

fn changed(key: &str, before: &LanSettings, after: &LanSettings) -> bool {
    match key {
        "lan_sharing" => before.lan_sharing != after.lan_sharing,
        "device_name" => before.device_name != after.device_name,
        "lan_interfaces" => before.lan_interfaces != after.lan_interfaces,
        "lan_address" => before.lan_address != after.lan_address,
        "lan_port" => before.lan_port != after.lan_port,
        _ => false,
    }
}

/// A device name: null or "" for the host name, else 1 to 63 bytes without control characters.
fn device_name(value: &Value) -> Result<Option<String>, &'static str> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text.trim(),
        _ => return Err("Should be a string (empty for the host name)"),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_NAME_BYTES {
        return Err("Should be at most 63 bytes long");
    }
    if text.chars().any(char::is_control) {
        return Err("Should not contain control characters");
    }
    Ok(Some(text.to_owned()))
}

/// Interface names: a list of distinct non-empty names without spaces at either end.
fn interfaces(value: &Value) -> Result<Vec<String>, &'static str> {
    let Some(items) = value.as_array() else {
        return Err("Should be a list of interface names (empty for every interface)");
    };
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let name = item.as_str().map(str::trim).ok_or("Should be a list of interface names")?;
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err("Each interface name should be 1 to 64 printable characters");
        }
        if !names.iter().any(|known| known == name) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// A network interface this machine has, as the settings page offers it.
#[derive(Debug, Clone, Serialize)]
pub struct Interface {
    pub name: String,
    pub addresses: Vec<String>,
    pub loopback: bool,
}

/// The machine's interfaces with their addresses (empty when they cannot be listed).
pub fn machine_interfaces() -> Vec<Interface> {
    let listed = match if_addrs::get_if_addrs() {
        Ok(listed) => listed,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list the network interfaces");
            return Vec::new();
        }
    };
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for interface in listed {
        let entry = by_name.entry(interface.name.clone()).or_insert_with(|| Interface {
            name: interface.name.clone(),
            addresses: Vec::new(),
            loopback: interface.is_loopback(),
        });
        entry.addresses.push(interface.ip().to_string());
    }
    by_name.into_values().collect()
}

/// The settings as `GET /v1/__devices__/settings` shows them.
pub fn view(
    settings: &LanSettings,
    from_env: &BTreeMap<String, String>,
    listening: Option<std::net::SocketAddr>,
) -> Value {
    let pinned: Map<String, Value> = from_env
        .iter()
        .filter(|(key, _)| {
            matches!(key.as_str(), "lan_sharing" | "device_name" | "lan_interfaces" | "lan_address" | "lan_port")
        })
        .map(|(key, variable)| (key.clone(), Value::String(variable.clone())))
        .collect();
    serde_json::json!({
        "lan_sharing": settings.lan_sharing,
        "device_name": settings.device_name,
        "effective_device_name": settings.effective_name(),
        "lan_interfaces": settings.lan_interfaces,
        "lan_address": settings.lan_address.to_string(),
        "lan_port": settings.lan_port,
        "pinned": pinned,
        "listening": listening.map(|address| address.to_string()),
        "interfaces": machine_interfaces(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn current() -> LanSettings {
        LanSettings::of(&Settings::default())
    }

    #[test]
    fn an_update_changes_only_the_given_keys_and_remembers_them() {
        let update = update(
            &current(),
            &SavedLan::default(),
            &json!({"lan_sharing": true, "device_name": "  Kitchen  ", "lan_port": 9000}),
            &BTreeMap::new(),
        )
        .expect("valid");
        assert!(update.settings.lan_sharing);
        assert_eq!(update.settings.device_name.as_deref(), Some("Kitchen"));
        assert_eq!(update.settings.lan_port, 9000);
        assert_eq!(update.settings.lan_address, current().lan_address);
        assert_eq!(update.saved.lan_interfaces, None);
        assert_eq!(update.saved.device_name.as_deref(), Some("Kitchen"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            json!({"lan_port": 70000}),
            json!({"lan_port": "8889"}),
            json!({"lan_sharing": "yes"}),
            json!({"lan_address": "the lan"}),
            json!({"device_name": "x".repeat(64)}),
            json!({"device_name": "a\nb"}),
            json!({"lan_interfaces": "eth0"}),
            json!({"lan_interfaces": [""]}),
            json!({"lan_colour": "blue"}),
        ];
        for body in cases {
            let key = body.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
            let err = update(&current(), &SavedLan::default(), &body, &BTreeMap::new()).expect_err("refused");
            let text = format!("{:?}", err);
            assert!(text.contains(&key), "{body}: {text}");
        }
        assert!(update(&current(), &SavedLan::default(), &json!([1]), &BTreeMap::new()).is_err());
    }

    #[test]
    fn an_empty_name_means_the_host_name() {
        let update =
            update(&current(), &SavedLan::default(), &json!({"device_name": ""}), &BTreeMap::new()).expect("valid");
        assert_eq!(update.settings.device_name, None);
        assert_eq!(update.saved.device_name.as_deref(), Some(""));
    }

    #[test]
    fn keys_set_by_the_environment_cannot_change_but_may_be_repeated() {
        let env = BTreeMap::from([("lan_port".to_owned(), "KINTOUN_LAN_PORT".to_owned())]);
        let err = update(&current(), &SavedLan::default(), &json!({"lan_port": 1}), &env).expect_err("pinned");
        assert!(format!("{err:?}").contains("KINTOUN_LAN_PORT"));
        let same = json!({"lan_port": current().lan_port, "lan_sharing": true});
        assert!(update(&current(), &SavedLan::default(), &same, &env).is_ok());
    }

    #[test]
    fn saved_choices_go_over_the_file_but_under_the_environment() {
        let mut settings = Settings::default();
        settings.from_env.insert("lan_port".into(), "KINTOUN_LAN_PORT".into());
        settings.lan_port = 7000;
        let saved = SavedLan {
            lan_sharing: Some(true),
            lan_port: Some(9000),
            device_name: Some(String::new()),
            ..SavedLan::default()
        };
        apply_saved(&mut settings, &saved);
        assert!(settings.lan_sharing);
        assert_eq!(settings.lan_port, 7000);
        assert_eq!(settings.device_name, None);
    }

    #[test]
    fn the_file_round_trips_and_a_damaged_one_is_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(dir.path()), SavedLan::default());
        let saved = SavedLan { lan_interfaces: Some(vec!["eth0".into()]), lan_port: Some(0), ..SavedLan::default() };
        save(dir.path(), &saved).expect("saved");
        assert_eq!(load(dir.path()), saved);
        std::fs::write(dir.path().join(FILE), b"{\"lan_port\": ").expect("write");
        assert_eq!(load(dir.path()), SavedLan::default());
    }
}
