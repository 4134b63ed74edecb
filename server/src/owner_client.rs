//! A client for `kintoun` commands that talk to the running server as its owner (`kintoun
//! apps ...`): the address comes from the settings, the owner's password from the secrets
//! store, and Kinto error bodies become readable messages.

use serde_json::Value;

use crate::plugins::owner::{PASSWORD_SECRET, owner_account};
use crate::secrets::SecretStore;
use crate::settings::Settings;

/// The running server, reached as its owner.
pub struct OwnerClient {
    base: String,
    account: String,
    password: String,
    http: reqwest::Client,
}

impl OwnerClient {
    /// From the settings the server runs with (same config file, env and data dir).
    pub fn new(settings: &Settings) -> Result<OwnerClient, String> {
        let account = owner_account(settings).ok_or("these settings have no owner account (see owner_account)")?;
        let dir = crate::data_dir(settings).ok_or("no data directory: set KINTOUN_DATA_DIR")?;
        let (password, _) = SecretStore::new(&dir, settings.secrets_backend)
            .get(PASSWORD_SECRET)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no stored password for account:{account}: start the server once"))?;
        let mut addr = settings.bind;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let http = reqwest::Client::builder().build().map_err(|e| e.to_string())?;
        Ok(OwnerClient { base: format!("http://{addr}/v1"), account: account.to_owned(), password, http })
    }

    /// Sends a request; the JSON answer, or the server's error message.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).basic_auth(&self.account, Some(&self.password));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| format!("cannot reach Kintoun at {}: {e}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let message = body.get("message").and_then(Value::as_str).unwrap_or("no message");
        Err(format!("{} {}: {message}", status.as_u16(), status.canonical_reason().unwrap_or("")))
    }
}
