//! `kintoun devices`, `kintoun pair`, `kintoun pair <device> <code>`,
//! `kintoun devices revoke <device>`, `kintoun devices settings`, `kintoun share` and
//! `kintoun shared`: requests to the running server through
//! [`OwnerClient`] (its owner's password from the secrets store), printing one line per device
//! or result. After the PAKE both pairing commands show the check string and ask the user to
//! confirm it matches the other screen (or take `--yes`) before the peer is pinned.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::owner_client::OwnerClient;

/// The device commands, sent to the running server as its owner.
pub struct DeviceCommands {
    client: OwnerClient,
}

impl DeviceCommands {
    pub fn new(client: OwnerClient) -> DeviceCommands {
        DeviceCommands { client }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.client.call(method, path, body.as_ref()).await
    }

    /// One line per device: this one, the paired ones, the nearby ones.
    pub async fn devices(&self) -> Result<Vec<String>, String> {
        let overview = self.call(Method::GET, "/__devices__", None).await?;
        let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
        let mut lines = Vec::new();
        let this = &overview["this"];
        let sharing = if overview["lan_sharing"].as_bool() == Some(true) { "sharing on" } else { "sharing off" };
        lines.push(format!(
            "this    {}  {}  {} ({sharing})",
            text(&this["display_id"]),
            text(&this["name"]),
            text(&this["address"])
        ));
        for device in overview["paired"].as_array().into_iter().flatten() {
            let connections = device["connections"].as_u64().unwrap_or(0);
            let state = match (device["nearby"].as_bool() == Some(true), connections) {
                (_, n) if n > 0 => format!("paired, connected ({n})"),
                (true, _) => "paired, nearby".to_owned(),
                (false, _) => "paired".to_owned(),
            };
            lines.push(format!(
                "paired  {}  {}  {}  {state}",
                text(&device["display_id"]),
                text(&device["name"]),
                text(&device["address"])
            ));
        }
        for device in overview["pending"].as_array().into_iter().flatten() {
            lines.push(format!(
                "pending {}  {}  check string {}  waiting for confirmation",
                text(&device["display_id"]),
                text(&device["name"]),
                text(&device["sas"])
            ));
        }
        for device in overview["nearby"].as_array().into_iter().flatten() {
            if device["paired"].as_bool() == Some(true) {
                continue;
            }
            let id = crate::sharing::DeviceId::parse(device["id"].as_str().unwrap_or_default())
                .map(|id| id.display())
                .unwrap_or_default();
            let addresses: Vec<String> = device["addresses"].as_array().into_iter().flatten().map(text).collect();
            let state = if device["pairing_port"].is_u64() { "nearby, showing a pairing code" } else { "nearby" };
            lines.push(format!("nearby  {id}  {}  {}  {state}", text(&device["name"]), addresses.join(",")));
        }
        Ok(lines)
    }

    /// Asks the user whether the check strings match, then confirms or rejects the pending peer.
    async fn settle(
        &self,
        peer: &Value,
        print: &mut impl FnMut(String),
        ask: &mut impl FnMut(String) -> bool,
    ) -> Result<(), String> {
        let name = peer["name"].as_str().unwrap_or("-");
        let device = peer["device"].as_str().unwrap_or_default();
        let display = peer["display_id"].as_str().unwrap_or("-");
        let sas = peer["sas"].as_str().unwrap_or("-");
        print(format!("{name} ({display}) wants to pair. Check string: {sas}"));
        if ask(format!("Does {name} show {sas}? [y/N] ")) {
            self.call(Method::POST, &format!("/__devices__/{device}/confirm"), None).await?;
            print(format!("Paired with {name} ({display})."));
            Ok(())
        } else {
            self.call(Method::DELETE, &format!("/__devices__/{device}"), None).await?;
            Err(format!("pairing with {name} rejected: nothing was pinned"))
        }
    }

    /// Shows a code and waits until it pairs a device (then asks to confirm the check string),
    /// is burned or expires.
    pub async fn invite(
        &self,
        mut print: impl FnMut(String),
        mut ask: impl FnMut(String) -> bool,
    ) -> Result<(), String> {
        let view = self.call(Method::POST, "/__devices__/pairing", None).await?;
        print(format!(
            "Pairing code: {}  (valid {} s, pairing port {}; on the other device run: kintoun pair <this device> {})",
            view["code"].as_str().unwrap_or("-"),
            view["expires_in_seconds"],
            view["pairing_port"],
            view["code"].as_str().unwrap_or("-")
        ));
        let mut attempts = view["attempts_left"].as_u64().unwrap_or(0);
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let view = self.call(Method::GET, "/__devices__/pairing", None).await?;
            let left = view["attempts_left"].as_u64().unwrap_or(0);
            if left < attempts && view["state"] == "live" {
                print(format!("A wrong code was tried; {left} attempts left"));
            }
            attempts = left;
            match view["state"].as_str().unwrap_or("none") {
                "live" => continue,
                "used" => return self.settle(&view["last_paired"], &mut print, &mut ask).await,
                "burned" => return Err("too many wrong codes: the code is burned".into()),
                "expired" => return Err("the code expired".into()),
                other => return Err(format!("pairing ended ({other})")),
            }
        }
    }

    /// Joins a device showing a code, then asks to confirm the check string.
    pub async fn join(
        &self,
        device: &str,
        code: &str,
        mut print: impl FnMut(String),
        mut ask: impl FnMut(String) -> bool,
    ) -> Result<(), String> {
        let body = serde_json::json!({ "device": device, "code": code });
        let joined = self.call(Method::POST, "/__devices__/join", Some(body)).await?;
        self.settle(&joined, &mut print, &mut ask).await
    }

    /// Revokes a device.
    pub async fn revoke(&self, device: &str) -> Result<String, String> {
        let id = crate::sharing::DeviceId::parse(device).map_err(|e| e.to_string())?;
        let report = self.call(Method::DELETE, &format!("/__devices__/{}", id.compact()), None).await?;
        Ok(format!(
            "Revoked {}: removed from {} ACLs and {} groups, {} connections closed, notice sent to {} devices ({} unreachable)",
            id.display(),
            report["acls"],
            report["groups"],
            report["connections_closed"],
            report["notified"].as_array().map_or(0, Vec::len),
            report["not_notified"].as_array().map_or(0, Vec::len)
        ))
    }

    /// Changes the LAN settings (when `change` has keys), then lists them, marking the ones an
    /// environment variable locks.
    pub async fn settings(&self, change: serde_json::Map<String, Value>) -> Result<Vec<String>, String> {
        let view = if change.is_empty() {
            self.call(Method::GET, "/__devices__/settings", None).await?
        } else {
            self.call(Method::PATCH, "/__devices__/settings", Some(Value::Object(change))).await?
        };
        Ok(settings_lines(&view))
    }

    /// Shares `BUCKET/COLLECTION` with a paired device (`None`: stops sharing it).
    pub async fn share(
        &self,
        collection: &str,
        device: &str,
        access: Option<crate::sharing::shares::Access>,
    ) -> Result<String, String> {
        let Some((bucket, name)) = collection.split_once('/').filter(|(b, c)| !b.is_empty() && !c.is_empty()) else {
            return Err(format!("{collection:?}: give the collection as BUCKET/COLLECTION"));
        };
        let id = paired_device_id(&self.client, device).await?;
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let path = format!("/__devices__/{id}/shares/{}/{}", encode(bucket), encode(name));
        let display = crate::sharing::DeviceId::parse(&id).map(|d| d.display()).unwrap_or(id);
        match access {
            Some(access) => {
                self.call(Method::PUT, &path, Some(serde_json::json!({ "access": access }))).await?;
                let what = match access {
                    crate::sharing::shares::Access::Read => "read-only",
                    crate::sharing::shares::Access::Write => "read and write",
                };
                Ok(format!("Shared {bucket}/{name} with {device} ({display}), {what}."))
            }
            None => {
                self.call(Method::DELETE, &path, None).await?;
                Ok(format!("{bucket}/{name} is no longer shared with {device} ({display}) directly."))
            }
        }
    }

    /// One line per collection each paired device shares with this one (or why it could not say).
    pub async fn shared_with_me(&self) -> Result<Vec<String>, String> {
        let answer = self.call(Method::GET, "/__devices__/shared-with-me", None).await?;
        let mut lines = Vec::new();
        for device in answer["devices"].as_array().into_iter().flatten() {
            let name = device["name"].as_str().unwrap_or("-");
            if device["reachable"] != true {
                lines.push(format!("{name}: unreachable ({})", device["error"].as_str().unwrap_or("no answer")));
                continue;
            }
            let shares = device["shares"].as_array().cloned().unwrap_or_default();
            if shares.is_empty() {
                lines.push(format!("{name}: shares nothing with this device"));
            }
            for share in shares {
                let title = share["title"].as_str().map(|t| format!(" \"{t}\"")).unwrap_or_default();
                lines.push(format!(
                    "{name}: {}/{}{title}  {}",
                    share["bucket"].as_str().unwrap_or("-"),
                    share["collection"].as_str().unwrap_or("-"),
                    if share["access"] == "write" { "read and write" } else { "read-only" }
                ));
            }
        }
        if lines.is_empty() {
            lines.push("No paired device.".to_owned());
        }
        Ok(lines)
    }
}

/// The compact id of the paired device called `device` (its name, id, or first id group), as
/// the running server lists its paired devices.
pub async fn paired_device_id(client: &OwnerClient, device: &str) -> Result<String, String> {
    let overview = client.call(Method::GET, "/__devices__", None).await?;
    let wanted = device.trim();
    let normalized: String = wanted.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    let matches: Vec<String> = overview["paired"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["id"].as_str()?.to_owned(), d["name"].as_str().unwrap_or_default().to_owned())))
        .filter(|(id, name)| {
            name.eq_ignore_ascii_case(wanted) || (normalized.len() >= 7 && id.starts_with(&normalized))
        })
        .map(|(id, _)| id)
        .collect();
    match matches.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(format!("no paired device called {wanted:?} (see `kintoun devices`)")),
        _ => Err(format!("{wanted:?} matches several paired devices: give its id")),
    }
}

/// The settings view as lines: `key: value` (with `(set by VAR)` when locked), then where the
/// LAN side listens.
pub fn settings_lines(view: &Value) -> Vec<String> {
    let locked =
        |key: &str| view["pinned"][key].as_str().map(|variable| format!("  (set by {variable})")).unwrap_or_default();
    let name = match view["device_name"].as_str() {
        Some(name) => name.to_owned(),
        None => format!("{} (the host name)", view["effective_device_name"].as_str().unwrap_or("?")),
    };
    let interfaces = match view["lan_interfaces"].as_array() {
        Some(list) if !list.is_empty() => list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        _ => "every interface".to_owned(),
    };
    vec![
        format!("lan_sharing: {}{}", if view["lan_sharing"] == true { "on" } else { "off" }, locked("lan_sharing")),
        format!("device_name: {name}{}", locked("device_name")),
        format!("lan_address: {}{}", view["lan_address"].as_str().unwrap_or("?"), locked("lan_address")),
        format!("lan_port: {}{}", view["lan_port"], locked("lan_port")),
        format!("lan_interfaces: {interfaces}{}", locked("lan_interfaces")),
        match view["listening"].as_str() {
            Some(address) => format!("listening on {address}"),
            None => "not listening (LAN sharing is off)".to_owned(),
        },
    ]
}
