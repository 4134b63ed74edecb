//! Attachment settings (ATT-SETTINGS), read once from [`Settings::extra`].
//!
//! Keys (Kinto names, `kinto.` prefix optional): `attachment.base_url`,
//! `attachment.extra.base_url`, `attachment.base_path`, `attachment.max_size_bytes`,
//! `attachment.extensions`, `attachment.mimetypes`, `attachment.keep_old_files`,
//! `attachment.randomize` and the per-bucket/collection overrides
//! `attachment.resources.{bid}[.{cid}].{randomize|keep_old_files|max_size_bytes}`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use crate::settings::Settings;

/// Kintoun's default upload limit (kinto-attachment has none): 25 MiB.
pub const DEFAULT_MAX_SIZE_BYTES: u64 = 25 * 1024 * 1024;

/// Where Kintoun serves stored files itself (ATT-SERVE), relative to the server origin.
pub const SERVE_PREFIX: &str = "/attachments/";

/// kinto-attachment's extension groups (`attachment.extensions`).
const EXTENSION_GROUPS: &[(&str, &[&str])] = &[
    ("documents", &["pdf", "rtf", "odf", "ods", "gnumeric", "abw", "doc", "docx", "xls", "xlsx"]),
    ("text", &["txt"]),
    ("images", &["jpg", "jpe", "jpeg", "png", "gif", "svg", "bmp", "tiff"]),
    ("audio", &["wav", "mp3", "aac", "ogg", "oga", "flac"]),
    ("video", &["mpeg", "3gp", "avi", "divx", "dvr", "flv", "mp4", "wmv"]),
    ("data", &["csv", "ini", "json", "plist", "xml", "yaml", "yml"]),
    ("scripts", &["js", "php", "pl", "py", "rb", "sh"]),
    ("archives", &["gz", "bz2", "zip", "tar", "tgz", "txz", "7z"]),
    ("executables", &["so", "exe", "dll"]),
    ("any", &[]),
];

/// `default` = documents + text + images + data.
const DEFAULT_GROUPS: &[&str] = &["documents", "text", "images", "data"];

/// Mimetypes kinto-attachment forces for some extensions (keys include the dot, case-sensitive).
const DEFAULT_MIMETYPES: &[(&str, &str)] = &[(".pem", "application/x-pem-file"), (".geojson", "application/geojson")];

/// Settings that may be overridden per bucket or collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceOverrides {
    pub randomize: Option<bool>,
    pub keep_old_files: Option<bool>,
    pub max_size_bytes: Option<u64>,
}

/// The attachment settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentConfig {
    /// `attachment.base_url`: `None` = Kintoun serves the files at `<origin>/attachments/`;
    /// `Some("")` = records get relative locations (as Kinto does without a base URL).
    pub base_url: Option<String>,
    /// `attachment.extra.base_url`: only advertised in the capability.
    pub extra_base_url: Option<String>,
    /// `attachment.base_path`: the file store directory (default `<data_dir>/attachments`).
    pub base_path: Option<PathBuf>,
    /// 0 = unlimited.
    pub max_size_bytes: u64,
    /// Allowed extensions, lower case without dot; empty = any.
    pub extensions: BTreeSet<String>,
    /// Forced mimetype per extension (`.pem` → `application/x-pem-file`).
    pub mimetypes: BTreeMap<String, String>,
    pub keep_old_files: bool,
    /// Kept for completeness: stored names are content hashes, so there is nothing to randomize.
    pub randomize: bool,
    /// Keyed by `/buckets/{bid}` or `/buckets/{bid}/collections/{cid}`.
    pub resources: BTreeMap<String, ResourceOverrides>,
}

impl Default for AttachmentConfig {
    fn default() -> Self {
        AttachmentConfig {
            base_url: None,
            extra_base_url: None,
            base_path: None,
            max_size_bytes: DEFAULT_MAX_SIZE_BYTES,
            extensions: resolve_extensions("default"),
            mimetypes: DEFAULT_MIMETYPES.iter().map(|(e, t)| (e.to_string(), t.to_string())).collect(),
            keep_old_files: false,
            randomize: true,
            resources: BTreeMap::new(),
        }
    }
}

impl AttachmentConfig {
    pub fn from_settings(settings: &Settings) -> Self {
        let mut config = AttachmentConfig::default();
        let get = |name: &str| settings.extra.get(&format!("attachment.{name}"));
        config.base_url = get("base_url").and_then(text);
        config.extra_base_url = get("extra.base_url").and_then(text);
        config.base_path = get("base_path").and_then(text).filter(|p| !p.is_empty()).map(PathBuf::from);
        if let Some(size) = get("max_size_bytes").and_then(integer) {
            config.max_size_bytes = u64::try_from(size).unwrap_or(0);
        }
        if let Some(spec) = get("extensions").and_then(text) {
            config.extensions = resolve_extensions(&spec);
        }
        if let Some(spec) = get("mimetypes").and_then(text) {
            for entry in spec.split(';') {
                match entry.split_once(':') {
                    Some((ext, mimetype)) => {
                        config.mimetypes.insert(ext.trim().to_owned(), mimetype.trim().to_owned());
                    }
                    None if entry.trim().is_empty() => {}
                    None => tracing::warn!(entry, "attachment.mimetypes entry ignored (expected .ext:type)"),
                }
            }
        }
        config.keep_old_files = settings.extra_bool("attachment.keep_old_files", false);
        config.randomize = settings.extra_bool("attachment.randomize", true);
        for (key, value) in &settings.extra {
            if let Some(rest) = key.strip_prefix("attachment.resources.") {
                config.add_override(key, rest, value);
            }
        }
        config
    }

    /// `attachment.resources.{bid}[.{cid}].{name}`; malformed keys are logged and ignored
    /// (kinto-attachment refuses to start).
    fn add_override(&mut self, key: &str, rest: &str, value: &Value) {
        let parts: Vec<&str> = rest.split('.').collect();
        let (uri, name) = match parts.as_slice() {
            [bid, name] => (format!("/buckets/{bid}"), *name),
            [bid, cid, name] => (format!("/buckets/{bid}/collections/{cid}"), *name),
            _ => {
                tracing::warn!(setting = key, "attachment setting ignored: malformed resource rule");
                return;
            }
        };
        let entry = self.resources.entry(uri).or_default();
        match name {
            "randomize" => entry.randomize = boolean(value),
            "keep_old_files" => entry.keep_old_files = boolean(value),
            "max_size_bytes" => entry.max_size_bytes = integer(value).map(|n| u64::try_from(n).unwrap_or(0)),
            _ => tracing::warn!(setting = key, "attachment setting ignored: not a per-resource setting"),
        }
    }

    /// The settings in effect for a collection: bucket overrides, then collection overrides.
    pub fn for_collection(&self, bucket_id: &str, collection_id: &str) -> AttachmentConfig {
        let mut config = self.clone();
        let uris = [format!("/buckets/{bucket_id}"), format!("/buckets/{bucket_id}/collections/{collection_id}")];
        for uri in &uris {
            if let Some(o) = self.resources.get(uri) {
                config.randomize = o.randomize.unwrap_or(config.randomize);
                config.keep_old_files = o.keep_old_files.unwrap_or(config.keep_old_files);
                config.max_size_bytes = o.max_size_bytes.unwrap_or(config.max_size_bytes);
            }
        }
        config
    }

    /// The settings in effect for a bucket (for deleting a whole bucket).
    pub fn for_bucket(&self, bucket_id: &str) -> AttachmentConfig {
        let mut config = self.clone();
        if let Some(o) = self.resources.get(&format!("/buckets/{bucket_id}")) {
            config.randomize = o.randomize.unwrap_or(config.randomize);
            config.keep_old_files = o.keep_old_files.unwrap_or(config.keep_old_files);
            config.max_size_bytes = o.max_size_bytes.unwrap_or(config.max_size_bytes);
        }
        config
    }

    /// The base URL joined to stored locations in records: `attachment.base_url`, or
    /// `<origin>/attachments/` when Kintoun serves the files (an empty string = relative).
    pub fn location_base_url(&self, origin: &str) -> String {
        match &self.base_url {
            Some(url) => url.clone(),
            None => self_served_base_url(origin),
        }
    }

    /// `capabilities.attachments.base_url` (ATT-CAPABILITY): `attachment.extra.base_url`, else
    /// `attachment.base_url`, else where Kintoun serves the files; always ending with `/`.
    pub fn capability_base_url(&self, origin: &str) -> String {
        let configured = [&self.extra_base_url, &self.base_url].into_iter().flatten().find(|u| !u.is_empty());
        let mut url = configured.cloned().unwrap_or_else(|| self_served_base_url(origin));
        if !url.ends_with('/') {
            url.push('/');
        }
        url
    }

    /// Whether Kintoun must serve the stored files itself (no external `base_url`).
    pub fn self_served(&self) -> bool {
        self.base_url.as_deref().is_none_or(str::is_empty)
    }

    /// kinto-attachment's check: the extension (last `.x` of the name, lower-cased) is allowed.
    pub fn extension_allowed(&self, filename: &str) -> bool {
        if self.extensions.is_empty() {
            return true;
        }
        let ext = split_extension(filename).trim_start_matches('.').to_lowercase();
        self.extensions.contains(&ext)
    }

    /// The recorded mimetype: a per-extension override, else the part's declared type.
    pub fn mimetype_for(&self, filename: &str, declared: &str) -> String {
        self.mimetypes.get(split_extension(filename)).cloned().unwrap_or_else(|| declared.to_owned())
    }
}

fn self_served_base_url(origin: &str) -> String {
    format!("{}{SERVE_PREFIX}", origin.trim_end_matches('/'))
}

/// `"images+pdf"`, `"default"`, `"any"`, `"pdf txt"` → the allowed set (empty = any).
pub fn resolve_extensions(spec: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for group in spec.split('+') {
        if group == "default" {
            for name in DEFAULT_GROUPS {
                set.extend(group_extensions(name).unwrap_or(&[]).iter().map(|e| e.to_string()));
            }
        } else if let Some(extensions) = group_extensions(group) {
            set.extend(extensions.iter().map(|e| e.to_string()));
        } else {
            set.extend(group.split_whitespace().map(str::to_lowercase));
        }
    }
    set
}

fn group_extensions(name: &str) -> Option<&'static [&'static str]> {
    EXTENSION_GROUPS.iter().find(|(group, _)| *group == name).map(|(_, extensions)| *extensions)
}

/// Python's `os.path.splitext(name)[1]` with `/` as separator: `.gz` for `a.tar.gz`, empty for
/// `.bashrc`, `README` or `dir.d/file`.
pub fn split_extension(name: &str) -> &str {
    let base_start = name.rfind('/').map_or(0, |i| i + 1);
    let base = &name[base_start..];
    let leading_dots = base.len() - base.trim_start_matches('.').len();
    match base.rfind('.') {
        Some(dot) if dot >= leading_dots => &base[dot..],
        _ => "",
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join(" ")),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, Value)]) -> Settings {
        let mut settings = Settings::default();
        for (key, value) in pairs {
            settings.apply(key, value.clone()).expect("valid setting");
        }
        settings
    }

    #[test]
    fn defaults() {
        let config = AttachmentConfig::from_settings(&Settings::default());
        assert_eq!(config.max_size_bytes, 25 * 1024 * 1024);
        assert!(config.extension_allowed("a.PNG"));
        assert!(config.extension_allowed("notes.yml"));
        assert!(!config.extension_allowed("a.exe"));
        assert!(!config.extension_allowed("README"));
        assert!(!config.extension_allowed(".png"));
        assert!(!config.extension_allowed("a.tar.gz"));
        assert!(!config.extension_allowed("a."));
        assert!(!config.extension_allowed("dir.png/file"));
        assert_eq!(config.extensions.len(), 26);
        assert!(config.self_served());
        assert_eq!(config.location_base_url("http://127.0.0.1:8888"), "http://127.0.0.1:8888/attachments/");
        assert_eq!(config.capability_base_url("http://127.0.0.1:8888/"), "http://127.0.0.1:8888/attachments/");
        assert!(!config.keep_old_files);
        assert!(config.randomize);
    }

    #[test]
    fn reads_kinto_settings() {
        let config = AttachmentConfig::from_settings(&settings(&[
            ("kinto.attachment.base_url", Value::from("https://cdn.example/files")),
            ("attachment.extra.base_url", Value::from("https://cdn.example/x")),
            ("attachment.base_path", Value::from("/tmp/files")),
            ("attachment.max_size_bytes", Value::from("1000")),
            ("attachment.extensions", Value::from("images+pdf GeoJSON")),
            ("attachment.mimetypes", Value::from(".geojson:application/geo+json;.csv:text/csv")),
            ("attachment.keep_old_files", Value::from("true")),
            ("attachment.randomize", Value::from(false)),
        ]));
        assert_eq!(config.base_url.as_deref(), Some("https://cdn.example/files"));
        assert_eq!(config.capability_base_url("http://o"), "https://cdn.example/x/");
        assert_eq!(config.location_base_url("http://o"), "https://cdn.example/files");
        assert!(!config.self_served());
        assert_eq!(config.base_path, Some(PathBuf::from("/tmp/files")));
        assert_eq!(config.max_size_bytes, 1000);
        assert!(config.extension_allowed("x.svg") && config.extension_allowed("x.pdf"));
        assert!(config.extension_allowed("x.geojson"));
        assert!(!config.extension_allowed("x.txt"));
        assert_eq!(config.mimetype_for("a.geojson", "text/plain"), "application/geo+json");
        assert_eq!(config.mimetype_for("a.pem", "text/plain"), "application/x-pem-file");
        assert_eq!(config.mimetype_for("a.PEM", "text/plain"), "text/plain");
        assert_eq!(config.mimetype_for("a.csv", "x/y"), "text/csv");
        assert!(config.keep_old_files);
        assert!(!config.randomize);
    }

    #[test]
    fn relative_locations_and_unlimited_sizes() {
        let config = AttachmentConfig::from_settings(&settings(&[
            ("attachment.base_url", Value::from("")),
            ("attachment.max_size_bytes", Value::from(0)),
            ("attachment.extensions", Value::from("any")),
        ]));
        assert_eq!(config.location_base_url("http://o"), "");
        assert_eq!(config.capability_base_url("http://o"), "http://o/attachments/");
        assert!(config.self_served());
        assert_eq!(config.max_size_bytes, 0);
        assert!(config.extension_allowed("whatever.exe") && config.extension_allowed("README"));
    }

    #[test]
    fn per_resource_overrides() {
        let config = AttachmentConfig::from_settings(&settings(&[
            ("attachment.resources.b.max_size_bytes", Value::from(10)),
            ("attachment.resources.b.keep_old_files", Value::from("true")),
            ("attachment.resources.b.c.max_size_bytes", Value::from(20)),
            ("attachment.resources.b.c.x.y", Value::from(1)),
            ("attachment.resources.b.folder", Value::from("x")),
        ]));
        let c = config.for_collection("b", "c");
        assert_eq!((c.max_size_bytes, c.keep_old_files), (20, true));
        let d = config.for_collection("b", "d");
        assert_eq!((d.max_size_bytes, d.keep_old_files), (10, true));
        assert_eq!(config.for_bucket("b").max_size_bytes, 10);
        let other = config.for_collection("z", "c");
        assert_eq!((other.max_size_bytes, other.keep_old_files), (DEFAULT_MAX_SIZE_BYTES, false));
    }

    #[test]
    fn splits_extensions_like_python() {
        assert_eq!(split_extension("a.tar.gz"), ".gz");
        assert_eq!(split_extension(".bashrc"), "");
        assert_eq!(split_extension("..png"), "");
        assert_eq!(split_extension("a..png"), ".png");
        assert_eq!(split_extension("dir.d/file"), "");
        assert_eq!(split_extension("../x.PNG"), ".PNG");
        assert_eq!(split_extension("a."), ".");
    }
}
