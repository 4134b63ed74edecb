//! Attachments compatible with kinto-attachment 8.0.0 (ATT-*): the self-contained parts.
//!
//! * [`config`]: the settings (ATT-SETTINGS), per bucket/collection;
//! * [`upload`]: parsing a multipart upload with kinto-attachment's errors (ATT-POST, ATT-ERRORS);
//! * [`store`]: the content-addressed, crash-safe file store;
//! * [`serve`]: serving stored files at `/attachments/<location>` (ATT-SERVE);
//! * here: the record's `attachment` field (ATT-FIELD), mapping it back to a stored file, and
//!   the capability (ATT-CAPABILITY).
//!
//! The endpoints and record updates (ATT-POST/ATT-DELETE/ATT-LIFECYCLE) live with the resource
//! engine.

pub mod config;
mod pyjson;
pub mod serve;
pub mod store;
pub mod upload;

use serde_json::{Value, json};

pub use config::{AttachmentConfig, SERVE_PREFIX};
pub use serve::serve_file;
pub use store::{FileStore, StoredFile};
pub use upload::{Upload, invalid_posted_data, parse_upload};

/// The kinto-attachment version Kintoun's behaviour follows (`capabilities.attachments.version`).
pub const PLUGIN_VERSION: &str = "8.0.0";

/// `capabilities.attachments` (ATT-CAPABILITY); `base_url` from
/// [`AttachmentConfig::capability_base_url`].
pub fn capability(base_url: &str) -> Value {
    json!({
        "description": "Add file attachments to records",
        "url": "https://github.com/Kinto/kinto-attachment/",
        "version": PLUGIN_VERSION,
        "base_url": base_url,
    })
}

/// The record's `attachment` field (ATT-FIELD). `base_url` comes from
/// [`AttachmentConfig::location_base_url`]; empty gives a relative `location`.
pub fn attachment_field(upload: &Upload, stored: &StoredFile, base_url: &str) -> Value {
    json!({
        "filename": upload.filename,
        "location": join_location(base_url, &stored.location),
        "hash": stored.hash,
        "mimetype": upload.mimetype,
        "size": stored.size,
    })
}

/// Another server's `attachment` field for the same content stored here: `location`, `hash`
/// and `size` become this store's; the other keys (`filename`, `mimetype`, a legacy
/// `original`) are kept.
pub fn relocated_field(field: &serde_json::Map<String, Value>, stored: &StoredFile, base_url: &str) -> Value {
    let mut field = field.clone();
    field.insert("location".into(), json!(join_location(base_url, &stored.location)));
    field.insert("hash".into(), json!(stored.hash));
    field.insert("size".into(), json!(stored.size));
    Value::Object(field)
}

/// `base_url` + relative location; a base URL without trailing `/` gets one (Kinto's
/// `urljoin` would drop its last segment instead, which the capability's `/` contradicts).
fn join_location(base_url: &str, location: &str) -> String {
    if base_url.is_empty() {
        location.to_owned()
    } else if base_url.ends_with('/') {
        format!("{base_url}{location}")
    } else {
        format!("{base_url}/{location}")
    }
}

/// The store location behind a record's `attachment.location`, for deleting or reference
/// counting: strips the configured `base_url`, or the origin and `/attachments/` of a
/// self-served URL (whatever host the client used), or keeps a relative location. `None` for
/// a URL the store does not own (e.g. data imported from another server).
pub fn stored_location<'a>(location: &'a str, config: &AttachmentConfig) -> Option<&'a str> {
    if let Some(base) = config.base_url.as_deref().filter(|b| !b.is_empty()) {
        let base = base.trim_end_matches('/');
        if let Some(rest) = location.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
            return Some(rest).filter(|r| !r.is_empty());
        }
    }
    let Some((_, after_scheme)) = location.split_once("://") else {
        return Some(location).filter(|l| !l.is_empty() && !l.starts_with('/'));
    };
    if !config.self_served() {
        return None;
    }
    let path = &after_scheme[after_scheme.find('/')?..];
    path.strip_prefix(SERVE_PREFIX).filter(|r| !r.is_empty())
}

/// The stored location of an `attachment` field value (`None` for `null`/missing/foreign).
pub fn field_location<'a>(attachment: &'a Value, config: &AttachmentConfig) -> Option<&'a str> {
    stored_location(attachment.get("location")?.as_str()?, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload() -> Upload {
        Upload {
            filename: "IMG 1.JPG".into(),
            mimetype: "image/jpeg".into(),
            bytes: bytes::Bytes::from_static(b"hello"),
            data: None,
            permissions: None,
        }
    }

    fn stored() -> StoredFile {
        StoredFile { location: "2c/2cf2.jpg".into(), hash: "2cf2".into(), size: 5 }
    }

    #[test]
    fn field_shape() {
        let field = attachment_field(&upload(), &stored(), "http://127.0.0.1:8888/attachments/");
        assert_eq!(
            field,
            json!({"filename": "IMG 1.JPG", "location": "http://127.0.0.1:8888/attachments/2c/2cf2.jpg",
                   "hash": "2cf2", "mimetype": "image/jpeg", "size": 5})
        );
        assert_eq!(attachment_field(&upload(), &stored(), "")["location"], "2c/2cf2.jpg");
        assert_eq!(attachment_field(&upload(), &stored(), "https://cdn/x")["location"], "https://cdn/x/2c/2cf2.jpg");
        let keys: Vec<&String> = field.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys.len(), 5);
    }

    #[test]
    fn capability_shape() {
        let config = AttachmentConfig::default();
        let cap = capability(&config.capability_base_url("http://localhost:8888"));
        assert_eq!(cap["base_url"], "http://localhost:8888/attachments/");
        assert_eq!(cap["description"], "Add file attachments to records");
        assert_eq!(cap["url"], "https://github.com/Kinto/kinto-attachment/");
        assert_eq!(cap["version"], PLUGIN_VERSION);
    }

    #[test]
    fn maps_locations_back_to_the_store() {
        let served = AttachmentConfig::default();
        assert_eq!(stored_location("http://127.0.0.1:8888/attachments/2c/x.png", &served), Some("2c/x.png"));
        assert_eq!(stored_location("http://localhost:9/attachments/2c/x.png", &served), Some("2c/x.png"));
        assert_eq!(stored_location("2c/x.png", &served), Some("2c/x.png"));
        assert_eq!(stored_location("http://localhost:9/files/2c/x.png", &served), None);
        assert_eq!(stored_location("http://localhost:9", &served), None);
        assert_eq!(stored_location("", &served), None);
        assert_eq!(stored_location("/abs", &served), None);

        let cdn =
            AttachmentConfig { base_url: Some("https://cdn.example/files/".into()), ..AttachmentConfig::default() };
        assert_eq!(stored_location("https://cdn.example/files/2c/x.png", &cdn), Some("2c/x.png"));
        assert_eq!(stored_location("https://other.example/attachments/2c/x.png", &cdn), None);
        assert_eq!(stored_location("2c/x.png", &cdn), Some("2c/x.png"));

        let relative = AttachmentConfig { base_url: Some(String::new()), ..AttachmentConfig::default() };
        assert_eq!(stored_location("2c/x.png", &relative), Some("2c/x.png"));
        assert_eq!(stored_location("http://h/attachments/2c/x.png", &relative), Some("2c/x.png"));

        assert_eq!(field_location(&json!({"location": "2c/x.png"}), &served), Some("2c/x.png"));
        assert_eq!(field_location(&Value::Null, &served), None);
    }
}
