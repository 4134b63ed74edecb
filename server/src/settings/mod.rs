//! One `Settings` struct: Kintoun's defaults, then a TOML or Kinto `.ini` file, then
//! `KINTO_*` / `KINTOUN_*` environment variables, then CLI flags. Setting names are Kinto's
//! (`paginate_by`, `bucket_create_principals`, `multiauth.policies`, ...); every source feeds
//! the same [`Settings::apply`], so a key means the same thing wherever it comes from.

mod ini;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use crate::secrets::SecretsBackend;
pub use crate::storage::sqlite::Durability;
use values::{as_bool, as_i64, as_list, as_opt_string, as_opt_usize, as_string, as_usize};

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{path}: invalid ini file: {message}")]
    Ini { path: PathBuf, message: String },
    #[error("setting {key}: {message}")]
    Value { key: String, message: String },
}

/// How requests are authenticated (AUTH-MULTI), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    /// The configured name; the user id prefix for Basic Auth (`basicauth:`).
    pub name: String,
    pub kind: PolicyKind,
    pub realm: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Kinto's permissive Basic Auth: any user:password is `<name>:<hmac>`.
    BasicAuth,
    /// The accounts plugin: user:password checked against stored accounts.
    Account,
}

/// Every setting the server reads.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// Where the database and files live; `None` = the platform data dir.
    pub data_dir: Option<PathBuf>,
    pub project_name: String,
    pub project_version: String,
    pub project_docs: String,
    pub http_api_version: String,
    pub paginate_by: Option<usize>,
    pub storage_max_fetch_size: usize,
    pub pagination_token_validity_seconds: u64,
    pub batch_max_requests: Option<usize>,
    pub readonly: bool,
    pub explicit_permissions: bool,
    /// `<kind>_<permission>_principals` settings, keyed `"<kind>:<permission>"`, e.g.
    /// `"bucket:create"`, `"record:read"`.
    pub principals: BTreeMap<String, Vec<String>>,
    /// `None`: a random secret is created and kept in the data dir.
    pub userid_hmac_secret: Option<String>,
    pub default_bucket_hmac_secret: String,
    pub auth_policies: Vec<AuthPolicy>,
    /// Built-in plugins switched on: default_bucket, accounts, history, admin, flush, ...
    pub includes: BTreeSet<String>,
    pub experimental_collection_schema_validation: bool,
    pub experimental_permissions_endpoint: bool,
    pub cors_origins: Vec<String>,
    /// Writes without an `Authorization` header are refused with a 401 (a cross-site form
    /// can never write), whatever the permissions say. Kinto: false.
    pub writes_require_authorization: bool,
    pub cors_max_age_seconds: i64,
    pub retry_after_seconds: u64,
    pub backoff: Option<u64>,
    pub backoff_percentage: Option<u8>,
    pub eos: Option<String>,
    pub eos_message: Option<String>,
    pub eos_url: Option<String>,
    pub root_cache_expires_seconds: i64,
    pub trailing_slash_redirect_enabled: bool,
    pub trailing_slash_redirect_ttl_seconds: i64,
    pub version_prefix_redirect_enabled: bool,
    pub version_prefix_redirect_ttl_seconds: i64,
    pub http_scheme: Option<String>,
    pub http_host: Option<String>,
    pub error_info_link: String,
    /// Largest accepted request body (413 beyond).
    pub max_body_bytes: usize,
    /// Host names accepted besides the loopback ones (DNS rebinding protection); `*` = any.
    pub allowed_hosts: Vec<String>,
    pub durability: Durability,
    /// Read-only SQLite connections kept open.
    pub storage_readers: usize,
    /// The desktop owner's account id, created on first start with a random password kept in
    /// the secrets store, when it is the account administrator (`account_create_principals`
    /// holds `account:<id>`). Empty: no owner.
    pub owner_account: String,
    /// Where secrets are kept: the OS keyring when it answers, or a 0600 file.
    pub secrets_backend: SecretsBackend,
    /// Who may read `/__stats__` and the other owner endpoints.
    pub admin_principals: Vec<String>,
    /// `events_max_streams`: open change streams (`.../events`) at most; more answer 503.
    pub events_max_streams: usize,
    /// `events_heartbeat_seconds`: a `: keep-alive` comment on idle change streams this often.
    pub events_heartbeat_seconds: u64,
    /// Settings without a field of their own (cache expiry per bucket, endpoint toggles, ...).
    pub extra: BTreeMap<String, Value>,
    /// Raw `multiauth.*` keys, resolved into `auth_policies` by [`Settings::finish`].
    multiauth: BTreeMap<String, Value>,
    // --- LAN sharing with household devices (`crate::sharing`) ---
    /// `lan_sharing`: the LAN listener, discovery and pairing run only when on.
    pub lan_sharing: bool,
    /// `device_name`: how this device appears to the others (default: the host name).
    pub device_name: Option<String>,
    /// `lan_interfaces`: interface names for mDNS (empty: every non-loopback one).
    pub lan_interfaces: Vec<String>,
    /// `lan_address`: the address the LAN listener binds (default every IPv4 address).
    pub lan_address: std::net::IpAddr,
    /// `lan_port`: the LAN data port (0 picks one).
    pub lan_port: u16,
    // --- The replicator (`crate::sync`) ---
    /// `sync_interval_seconds`: how often each sync link looks for changes without a nudge.
    pub sync_interval_seconds: u64,
    /// `sync_page_size`: records per page when pulling (`_limit`).
    pub sync_page_size: usize,
    /// Keys set by an environment variable, with the variable's name: such a key cannot be
    /// changed at run time (e.g. from the UI), since the variable would win at the next start.
    pub from_env: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        let mut principals = BTreeMap::new();
        principals.insert("bucket:create".to_owned(), vec!["system.Authenticated".to_owned()]);
        principals.insert("permissions:read".to_owned(), vec!["system.Everyone".to_owned()]);
        // The desktop owner is `account:admin`: it creates and manages the other accounts.
        principals.insert("account:create".to_owned(), vec!["account:admin".to_owned()]);
        principals.insert("account:write".to_owned(), vec!["account:admin".to_owned()]);
        principals.insert("account:read".to_owned(), vec!["account:admin".to_owned()]);
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8888)),
            data_dir: None,
            project_name: "kintoun".into(),
            project_version: env!("CARGO_PKG_VERSION").into(),
            project_docs: "https://kinto.readthedocs.io/".into(),
            http_api_version: "1.23".into(),
            paginate_by: None,
            storage_max_fetch_size: 10000,
            pagination_token_validity_seconds: 600,
            batch_max_requests: Some(25),
            readonly: false,
            explicit_permissions: true,
            principals,
            userid_hmac_secret: None,
            default_bucket_hmac_secret: String::new(),
            auth_policies: vec![AuthPolicy {
                name: "account".into(),
                kind: PolicyKind::Account,
                realm: "Realm".into(),
            }],
            includes: ["default_bucket", "accounts", "history", "admin", "kinto_attachment"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            experimental_collection_schema_validation: true,
            experimental_permissions_endpoint: true,
            // Browser extensions and the desktop window; approved apps and the server's own
            // origin are added at run time. Kinto's `*` would let any web page in.
            cors_origins: DEFAULT_CORS_ORIGINS.iter().map(|s| s.to_string()).collect(),
            writes_require_authorization: true,
            cors_max_age_seconds: 3600,
            retry_after_seconds: 3,
            backoff: None,
            backoff_percentage: None,
            eos: None,
            eos_message: None,
            eos_url: None,
            root_cache_expires_seconds: 86400,
            trailing_slash_redirect_enabled: true,
            trailing_slash_redirect_ttl_seconds: 3600,
            version_prefix_redirect_enabled: true,
            version_prefix_redirect_ttl_seconds: -1,
            http_scheme: None,
            http_host: None,
            error_info_link: "https://github.com/Kinto/kinto/issues/".into(),
            max_body_bytes: 8 * 1024 * 1024,
            allowed_hosts: Vec::new(),
            durability: Durability::Full,
            storage_readers: 4,
            owner_account: "admin".into(),
            secrets_backend: SecretsBackend::Auto,
            admin_principals: vec!["account:admin".into()],
            events_max_streams: 256,
            events_heartbeat_seconds: 15,
            extra: BTreeMap::new(),
            multiauth: BTreeMap::new(),
            lan_sharing: false,
            device_name: None,
            lan_interfaces: Vec::new(),
            lan_address: std::net::IpAddr::from([0, 0, 0, 0]),
            lan_port: 8889,
            sync_interval_seconds: 30,
            sync_page_size: 500,
            from_env: BTreeMap::new(),
        }
    }
}

/// Where settings come from besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// A `.toml` file, or a Kinto `.ini` file (by extension, or `[app:main]` inside).
    pub config: Option<PathBuf>,
    /// `--bind`: wins over everything.
    pub bind: Option<SocketAddr>,
    /// `--data-dir`: wins over everything.
    pub data_dir: Option<PathBuf>,
}

/// Kintoun's default `cors_origins`.
pub const DEFAULT_CORS_ORIGINS: &[&str] = &[
    "moz-extension://*",
    "chrome-extension://*",
    "safari-web-extension://*",
    "tauri://localhost",
    "http://tauri.localhost",
];

/// Settings that exist only in Kinto's Python world; accepted and ignored with a warning.
fn is_python_only(key: &str) -> bool {
    matches!(
        key,
        "storage_backend"
            | "storage_url"
            | "storage_pool_size"
            | "storage_poolclass"
            | "cache_backend"
            | "cache_url"
            | "cache_prefix"
            | "permission_backend"
            | "permission_url"
            | "use"
            | "logging_renderer"
            | "statsd_url"
            | "statsd_prefix"
            | "bucket_id_generator"
            | "collection_id_generator"
            | "group_id_generator"
            | "record_id_generator"
    ) || key.starts_with("pyramid.")
        || key.starts_with("newrelic")
        || key.starts_with("sentry")
}

/// The principals-setting pattern `<kind>_<permission>_principals` → `"kind:permission"`.
fn principals_key(key: &str) -> Option<String> {
    let stem = key.strip_suffix("_principals")?;
    let (kind, permission) = stem.rsplit_once('_')?;
    if kind.is_empty() || permission.is_empty() {
        return None;
    }
    Some(format!("{kind}:{permission}"))
}

impl Settings {
    /// Kintoun's defaults overlaid with a TOML document (Kinto setting names).
    pub fn from_toml_str(text: &str) -> Result<Settings, SettingsError> {
        let mut settings = Settings::default();
        settings.apply_toml(text, Path::new("<string>"))?;
        settings.finish()?;
        Ok(settings)
    }

    /// Defaults, then the config file, then the environment, then CLI flags. Warnings about
    /// ignored keys are logged.
    pub fn load(options: &LoadOptions, env: &[(String, String)]) -> Result<Settings, SettingsError> {
        let mut settings = Settings::default();
        let mut file_keys = Vec::new();
        if let Some(path) = &options.config {
            let text =
                std::fs::read_to_string(path).map_err(|source| SettingsError::Read { path: path.clone(), source })?;
            file_keys = if ini::looks_like_ini(path, &text) {
                settings.apply_ini(&text, path)?
            } else {
                settings.apply_toml(&text, path)?
            };
        }
        settings.apply_env(env, &file_keys)?;
        if let Some(bind) = options.bind {
            settings.bind = bind;
        }
        if let Some(dir) = &options.data_dir {
            settings.data_dir = Some(dir.clone());
        }
        settings.finish()?;
        Ok(settings)
    }

    fn apply_toml(&mut self, text: &str, path: &Path) -> Result<Vec<String>, SettingsError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| SettingsError::Toml { path: path.to_owned(), message: e.to_string() })?;
        let mut flat = Vec::new();
        flatten_toml("", &toml::Value::Table(table), &mut flat);
        let mut keys = Vec::new();
        for (key, value) in flat {
            self.apply(&key, value)?;
            keys.push(key);
        }
        Ok(keys)
    }

    fn apply_ini(&mut self, text: &str, path: &Path) -> Result<Vec<String>, SettingsError> {
        let parsed = ini::parse(text).map_err(|message| SettingsError::Ini { path: path.to_owned(), message })?;
        for section in &parsed.ignored_sections {
            tracing::warn!(section = %section, "ini section ignored (Python logging/server configuration)");
        }
        if let Some(bind) = parsed.bind {
            self.bind = bind;
        }
        // A Kinto configuration keeps Kinto's web defaults unless it says otherwise.
        self.cors_origins = vec!["*".into()];
        self.writes_require_authorization = false;
        let mut keys = Vec::new();
        for (key, value) in parsed.settings {
            self.apply(&key, ini::parse_value(&value))?;
            keys.push(key);
        }
        Ok(keys)
    }

    /// `KINTO_<KEY>` then `KINTOUN_<KEY>` (which wins) for every known key, the keys of the
    /// file, and every `*_PRINCIPALS` variable.
    fn apply_env(&mut self, env: &[(String, String)], file_keys: &[String]) -> Result<(), SettingsError> {
        let mut candidates: BTreeSet<String> = KNOWN_KEYS.iter().map(|k| k.to_string()).collect();
        candidates.extend(file_keys.iter().cloned());
        candidates.extend(self.principals.keys().map(|k| k.replace(':', "_") + "_principals"));
        for (name, _) in env {
            for prefix in ["KINTO_", "KINTOUN_"] {
                if let Some(rest) = name.strip_prefix(prefix) {
                    let key = rest.to_ascii_lowercase();
                    if key.ends_with("_principals") {
                        candidates.insert(key);
                    }
                }
            }
        }
        for prefix in ["KINTO_", "KINTOUN_"] {
            for key in &candidates {
                let var = format!("{prefix}{}", key.replace(['.', '-'], "_").to_ascii_uppercase());
                if let Some((_, value)) = env.iter().find(|(name, _)| *name == var) {
                    self.apply(key, ini::parse_value(value))?;
                    self.from_env.insert(key.clone(), var);
                }
            }
        }
        Ok(())
    }

    /// Sets one setting by its Kinto name (`kinto.` prefix optional).
    pub fn apply(&mut self, key: &str, value: Value) -> Result<(), SettingsError> {
        let key = key.strip_prefix("kinto.").unwrap_or(key);
        let err = |message: String| SettingsError::Value { key: key.to_owned(), message };
        match key {
            "bind" => {
                let text = as_string(&value).map_err(err)?;
                self.bind = text.parse().map_err(|e| err(format!("{text:?} is not an address: {e}")))?;
            }
            "data_dir" => self.data_dir = as_opt_string(&value).map_err(err)?.map(PathBuf::from),
            "project_name" => self.project_name = as_string(&value).map_err(err)?,
            "project_version" => self.project_version = as_string(&value).map_err(err)?,
            "project_docs" => self.project_docs = as_string(&value).map_err(err)?,
            "http_api_version" => self.http_api_version = as_string(&value).map_err(err)?,
            "paginate_by" => self.paginate_by = as_opt_usize(&value).map_err(err)?.filter(|n| *n > 0),
            "storage_max_fetch_size" => self.storage_max_fetch_size = as_usize(&value).map_err(err)?.max(1),
            "pagination_token_validity_seconds" => {
                self.pagination_token_validity_seconds = as_usize(&value).map_err(err)? as u64
            }
            "batch_max_requests" => self.batch_max_requests = as_opt_usize(&value).map_err(err)?.filter(|n| *n > 0),
            "readonly" => self.readonly = as_bool(&value).map_err(err)?,
            "explicit_permissions" => self.explicit_permissions = as_bool(&value).map_err(err)?,
            "userid_hmac_secret" => self.userid_hmac_secret = as_opt_string(&value).map_err(err)?,
            "default_bucket_hmac_secret" => {
                self.default_bucket_hmac_secret = as_opt_string(&value).map_err(err)?.unwrap_or_default()
            }
            "includes" => {
                self.includes = as_list(&value)
                    .map_err(err)?
                    .iter()
                    .map(|name| name.rsplit('.').next().unwrap_or(name).to_owned())
                    .collect()
            }
            "experimental_collection_schema_validation" => {
                self.experimental_collection_schema_validation = as_bool(&value).map_err(err)?
            }
            "experimental_permissions_endpoint" => {
                self.experimental_permissions_endpoint = as_bool(&value).map_err(err)?
            }
            "cors_origins" => self.cors_origins = as_list(&value).map_err(err)?,
            "writes_require_authorization" => self.writes_require_authorization = as_bool(&value).map_err(err)?,
            "cors_max_age_seconds" => self.cors_max_age_seconds = as_i64(&value).map_err(err)?,
            "retry_after_seconds" => self.retry_after_seconds = as_usize(&value).map_err(err)? as u64,
            "backoff" => self.backoff = as_opt_usize(&value).map_err(err)?.map(|n| n as u64),
            "backoff_percentage" => {
                self.backoff_percentage = as_opt_usize(&value).map_err(err)?.map(|n| n.min(100) as u8)
            }
            "eos" => self.eos = as_opt_string(&value).map_err(err)?,
            "eos_message" => self.eos_message = as_opt_string(&value).map_err(err)?,
            "eos_url" => self.eos_url = as_opt_string(&value).map_err(err)?,
            "root_cache_expires_seconds" => self.root_cache_expires_seconds = as_i64(&value).map_err(err)?,
            "trailing_slash_redirect_enabled" => self.trailing_slash_redirect_enabled = as_bool(&value).map_err(err)?,
            "trailing_slash_redirect_ttl_seconds" => {
                self.trailing_slash_redirect_ttl_seconds = as_i64(&value).map_err(err)?
            }
            "version_prefix_redirect_enabled" => self.version_prefix_redirect_enabled = as_bool(&value).map_err(err)?,
            "version_prefix_redirect_ttl_seconds" => {
                self.version_prefix_redirect_ttl_seconds = as_i64(&value).map_err(err)?
            }
            "http_scheme" => self.http_scheme = as_opt_string(&value).map_err(err)?,
            "http_host" => self.http_host = as_opt_string(&value).map_err(err)?,
            "error_info_link" => self.error_info_link = as_string(&value).map_err(err)?,
            "max_body_bytes" => self.max_body_bytes = as_usize(&value).map_err(err)?,
            "allowed_hosts" => self.allowed_hosts = as_list(&value).map_err(err)?,
            "durability" | "sqlite_synchronous" => {
                self.durability = match as_string(&value).map_err(err)?.to_ascii_lowercase().as_str() {
                    "full" => Durability::Full,
                    "normal" => Durability::Normal,
                    other => return Err(err(format!("{other:?} is not one of full, normal"))),
                }
            }
            "storage_readers" => self.storage_readers = as_usize(&value).map_err(err)?.clamp(1, 64),
            "lan_sharing" => self.lan_sharing = as_bool(&value).map_err(err)?,
            "device_name" => self.device_name = as_opt_string(&value).map_err(err)?.filter(|n| !n.trim().is_empty()),
            "lan_interfaces" => self.lan_interfaces = as_list(&value).map_err(err)?,
            "lan_address" => {
                let text = as_string(&value).map_err(err)?;
                self.lan_address = text.parse().map_err(|e| err(format!("{text:?} is not an IP address: {e}")))?;
            }
            "lan_port" => {
                self.lan_port = u16::try_from(as_usize(&value).map_err(err)?).map_err(|e| err(e.to_string()))?
            }
            "sync_interval_seconds" => self.sync_interval_seconds = as_usize(&value).map_err(err)?.max(1) as u64,
            "sync_page_size" => self.sync_page_size = as_usize(&value).map_err(err)?.clamp(1, 10_000),
            "owner_account" => self.owner_account = as_opt_string(&value).map_err(err)?.unwrap_or_default(),
            "secrets_backend" => self.secrets_backend = as_string(&value).map_err(err)?.parse().map_err(err)?,
            "admin_principals" => self.admin_principals = as_list(&value).map_err(err)?,
            "events_max_streams" => self.events_max_streams = as_usize(&value).map_err(err)?,
            "events_heartbeat_seconds" => {
                self.events_heartbeat_seconds = (as_usize(&value).map_err(err)? as u64).clamp(1, 3600)
            }
            _ if key.starts_with("multiauth.") => {
                self.multiauth.insert(key.to_owned(), value);
            }
            _ if is_python_only(key) => {
                tracing::warn!(setting = key, "setting ignored: it only applies to the Python Kinto server");
            }
            _ => match principals_key(key) {
                Some(name) => {
                    self.principals.insert(name, as_list(&value).map_err(err)?);
                }
                None => {
                    self.extra.insert(key.to_owned(), value);
                }
            },
        }
        Ok(())
    }

    /// Resolves the authentication policies from the `multiauth.*` keys.
    fn finish(&mut self) -> Result<(), SettingsError> {
        let Some(policies) = self.multiauth.get("multiauth.policies") else {
            return Ok(());
        };
        let names =
            as_list(policies).map_err(|message| SettingsError::Value { key: "multiauth.policies".into(), message })?;
        let mut resolved = Vec::new();
        for name in names {
            let class = self
                .multiauth
                .get(&format!("multiauth.policy.{name}.use"))
                .and_then(|v| as_string(v).ok())
                .unwrap_or_else(|| name.clone());
            let realm = self
                .multiauth
                .get(&format!("multiauth.policy.{name}.realm"))
                .and_then(|v| as_string(v).ok())
                .unwrap_or_else(|| "Realm".to_owned());
            let kind = if class.contains("AccountsPolicy") || class == "account" || class == "accounts" {
                PolicyKind::Account
            } else if class.contains("BasicAuthAuthenticationPolicy") || class == "basicauth" {
                PolicyKind::BasicAuth
            } else {
                tracing::warn!(policy = %name, class = %class, "authentication policy not supported; ignored");
                continue;
            };
            resolved.push(AuthPolicy { name: name.to_ascii_lowercase(), kind, realm });
        }
        self.auth_policies = resolved;
        Ok(())
    }

    /// Principals granted `kind:permission` on every object of that kind by settings.
    pub fn granted_principals(&self, kind: &str, permission: &str) -> &[String] {
        self.principals.get(&format!("{kind}:{permission}")).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether a built-in plugin is switched on.
    pub fn includes(&self, plugin: &str) -> bool {
        self.includes.contains(plugin)
    }

    /// An integer setting from `extra` (e.g. `record_cache_expires_seconds`).
    pub fn extra_i64(&self, key: &str) -> Option<i64> {
        self.extra.get(key).and_then(|v| as_i64(v).ok())
    }

    /// A boolean setting from `extra` with a default (e.g. endpoint toggles).
    pub fn extra_bool(&self, key: &str, default: bool) -> bool {
        self.extra.get(key).and_then(|v| as_bool(v).ok()).unwrap_or(default)
    }
}

/// Keys that are looked up in the environment even when no file mentions them.
const KNOWN_KEYS: &[&str] = &[
    "sync_interval_seconds",
    "sync_page_size",
    "lan_sharing",
    "device_name",
    "lan_interfaces",
    "lan_address",
    "lan_port",
    "bind",
    "writes_require_authorization",
    "owner_account",
    "secrets_backend",
    "admin_principals",
    "events_max_streams",
    "events_heartbeat_seconds",
    "data_dir",
    "project_name",
    "project_version",
    "project_docs",
    "http_api_version",
    "paginate_by",
    "storage_max_fetch_size",
    "pagination_token_validity_seconds",
    "batch_max_requests",
    "readonly",
    "explicit_permissions",
    "userid_hmac_secret",
    "default_bucket_hmac_secret",
    "includes",
    "experimental_collection_schema_validation",
    "experimental_permissions_endpoint",
    "cors_origins",
    "cors_max_age_seconds",
    "retry_after_seconds",
    "backoff",
    "backoff_percentage",
    "eos",
    "eos_message",
    "eos_url",
    "root_cache_expires_seconds",
    "trailing_slash_redirect_enabled",
    "trailing_slash_redirect_ttl_seconds",
    "version_prefix_redirect_enabled",
    "version_prefix_redirect_ttl_seconds",
    "http_scheme",
    "http_host",
    "error_info_link",
    "max_body_bytes",
    "allowed_hosts",
    "durability",
    "storage_readers",
    "multiauth.policies",
];

/// Flattens nested TOML tables into dotted keys (`[multiauth.policy.x] use = ..` →
/// `multiauth.policy.x.use`).
fn flatten_toml(prefix: &str, value: &toml::Value, out: &mut Vec<(String, Value)>) {
    match value {
        toml::Value::Table(table) => {
            for (key, inner) in table {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_toml(&name, inner, out);
            }
        }
        other => out.push((prefix.to_owned(), toml_to_json(other))),
    }
}

fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(table.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE_TOML: &str = include_str!("../../../tests/compat/reference.toml");

    #[test]
    fn defaults_are_desktop_safe() {
        let settings = Settings::default();
        assert!(settings.bind.ip().is_loopback());
        assert_eq!(settings.auth_policies.len(), 1);
        assert_eq!(settings.auth_policies[0].kind, PolicyKind::Account);
    }

    #[test]
    fn reference_toml_matches_ref_ini() -> Result<(), SettingsError> {
        let settings = Settings::from_toml_str(REFERENCE_TOML)?;
        assert_eq!(settings.project_name, "kinto");
        assert_eq!(
            settings.auth_policies.iter().map(|p| (p.name.as_str(), p.kind)).collect::<Vec<_>>(),
            vec![("account", PolicyKind::Account), ("basicauth", PolicyKind::BasicAuth)]
        );
        assert_eq!(settings.granted_principals("bucket", "create"), ["system.Authenticated"]);
        assert_eq!(settings.granted_principals("account", "write"), ["account:admin"]);
        assert_eq!(settings.userid_hmac_secret.as_deref(), Some("conformance-fixed-hmac-secret-0123456789"));
        assert!(settings.includes("default_bucket") && settings.includes("history"));
        assert_eq!(settings.batch_max_requests, Some(25));
        Ok(())
    }

    #[test]
    fn environment_overrides_file_and_kintoun_wins_over_kinto() -> Result<(), SettingsError> {
        let env = vec![
            ("KINTO_PAGINATE_BY".to_owned(), "10".to_owned()),
            ("KINTO_READONLY".to_owned(), "true".to_owned()),
            ("KINTOUN_READONLY".to_owned(), "false".to_owned()),
            ("KINTO_RECORD_READ_PRINCIPALS".to_owned(), "system.Everyone account:x".to_owned()),
            ("KINTOUN_BIND".to_owned(), "127.0.0.1:9999".to_owned()),
        ];
        let settings = Settings::load(&LoadOptions::default(), &env)?;
        assert_eq!(settings.paginate_by, Some(10));
        assert!(!settings.readonly);
        assert_eq!(settings.granted_principals("record", "read"), ["system.Everyone", "account:x"]);
        assert_eq!(settings.bind.port(), 9999);
        Ok(())
    }

    #[test]
    fn cli_flags_win() -> Result<(), SettingsError> {
        let env = vec![("KINTOUN_BIND".to_owned(), "127.0.0.1:9999".to_owned())];
        let options = LoadOptions { bind: Some(SocketAddr::from(([127, 0, 0, 1], 1234))), ..LoadOptions::default() };
        assert_eq!(Settings::load(&options, &env)?.bind.port(), 1234);
        Ok(())
    }

    #[test]
    fn bad_values_are_reported_with_their_key() {
        let result = Settings::from_toml_str("readonly = \"maybe\"");
        assert!(matches!(result, Err(SettingsError::Value { ref key, .. }) if key == "readonly"));
    }
}
