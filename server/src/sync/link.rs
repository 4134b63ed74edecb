//! What a sync link is: a local collection, a remote collection (on a Kinto server at a URL;
//! later also on a paired device), and a direction (`both`, or `pull`: a read-only mirror that
//! never writes to the remote). How the owner describes a new one ([`NewLink`], validated
//! before anything is contacted) and how links are shown ([`LinkView`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::local::Collection;
use crate::error::{ApiError, Location};
use crate::resource::ids;
use crate::resource::kind::Kind;
use crate::storage::LinkRow;

/// Which way changes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Pull and push.
    #[default]
    Both,
    /// Pull only: a read-only mirror (local edits stay local).
    Pull,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::Pull => "pull",
        }
    }

    pub fn of(link: &LinkRow) -> Direction {
        if link.direction == "pull" { Direction::Pull } else { Direction::Both }
    }
}

/// Remote kinds: a Kinto server (`url`), or a paired device (`device`, for later).
pub const KIND_KINTO: &str = "kinto";
pub const KIND_DEVICE: &str = "device";

/// The local side of a new link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSpec {
    pub bucket: String,
    pub collection: String,
}

/// The remote side of a new link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteSpec {
    #[serde(default = "default_kind")]
    pub kind: String,
    /// The Kinto server's URL (kind `kinto`).
    #[serde(default)]
    pub url: String,
    /// The paired device's id (kind `device`).
    #[serde(default)]
    pub device: Option<String>,
    pub bucket: String,
    pub collection: String,
    /// Basic credentials (an account, or any user:password under Kinto's basicauth policy).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn default_kind() -> String {
    KIND_KINTO.to_owned()
}

/// `POST /v1/__sync__/links`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    pub local: LocalSpec,
    pub remote: RemoteSpec,
    #[serde(default)]
    pub direction: Direction,
}

fn invalid(name: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid(Location::Body, Some(name), description)
}

/// Remote ids are the remote's business, but they must make a path segment.
fn plausible_remote_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && !id.contains('/') && !id.chars().any(char::is_control)
}

impl NewLink {
    /// Parses and checks a request body (ids, URL, credentials given together).
    pub fn parse(body: &[u8]) -> Result<NewLink, ApiError> {
        let link: NewLink = serde_json::from_slice(body).map_err(|e| ApiError::invalid_body("", e.to_string()))?;
        if !ids::is_valid(Kind::Bucket, &link.local.bucket) {
            return Err(invalid("local.bucket", "Invalid bucket id"));
        }
        if !ids::is_valid(Kind::Collection, &link.local.collection) {
            return Err(invalid("local.collection", "Invalid collection id"));
        }
        match link.remote.kind.as_str() {
            KIND_KINTO => {
                super::client::normalize_base(&link.remote.url).map_err(|e| invalid("remote.url", e.to_string()))?;
                if link.remote.device.is_some() {
                    return Err(invalid("remote.device", "Only for remotes of kind \"device\""));
                }
            }
            KIND_DEVICE => {
                let device = link.remote.device.as_deref().ok_or_else(|| invalid("remote.device", "Required"))?;
                crate::sharing::DeviceId::parse(device).map_err(|e| invalid("remote.device", e.to_string()))?;
                if !link.remote.url.is_empty() {
                    return Err(invalid("remote.url", "A device is reached by its id, not a URL"));
                }
                if link.remote.user.is_some() || link.remote.password.is_some() {
                    return Err(invalid("remote.user", "A device authenticates with its paired key, not credentials"));
                }
            }
            other => {
                return Err(invalid("remote.kind", format!("{other:?}: one of \"kinto\", \"device\"")));
            }
        }
        if !plausible_remote_id(&link.remote.bucket) {
            return Err(invalid("remote.bucket", "Invalid bucket id"));
        }
        if !plausible_remote_id(&link.remote.collection) {
            return Err(invalid("remote.collection", "Invalid collection id"));
        }
        match (&link.remote.user, &link.remote.password) {
            (Some(user), Some(_)) if user.is_empty() || user.contains(':') => {
                Err(invalid("remote.user", "a user name, without ':'"))
            }
            (Some(_), None) => Err(invalid("remote.password", "Required with remote.user")),
            (None, Some(_)) => Err(invalid("remote.user", "Required with remote.password")),
            _ => Ok(link),
        }
    }

    /// The `Authorization` header value for the remote, if credentials were given.
    pub fn authorization(&self) -> Option<String> {
        match (&self.remote.user, &self.remote.password) {
            (Some(user), Some(password)) => Some(super::client::basic_authorization(user, password)),
            _ => None,
        }
    }

    pub fn local_collection(&self) -> Collection {
        Collection::new(&self.local.bucket, &self.local.collection)
    }
}

/// A new link id: 10 lower-case letters and digits.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string().chars().take(10).collect()
}

/// The local collection of a stored link.
pub fn local_of(link: &LinkRow) -> Collection {
    Collection::new(&link.local_bucket, &link.local_collection)
}

/// A link as the owner endpoints show it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub id: String,
    pub local: Value,
    pub remote: Value,
    pub direction: String,
    pub remote_checkpoint: i64,
    pub local_checkpoint: i64,
    pub last_sync: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// Conflicts waiting in the inbox.
    pub conflicts: u64,
    /// The live progress of the link's task (absent while the server does not run it).
    pub progress: Option<Value>,
}

impl LinkView {
    pub fn of(link: &LinkRow, conflicts: u64, progress: Option<Value>) -> LinkView {
        LinkView {
            id: link.id.clone(),
            local: serde_json::json!({"bucket": link.local_bucket, "collection": link.local_collection}),
            remote: serde_json::json!({
                "kind": link.remote_kind,
                "url": link.remote_url,
                "device": link.remote_device,
                "bucket": link.remote_bucket,
                "collection": link.remote_collection,
            }),
            direction: link.direction.clone(),
            remote_checkpoint: link.remote_checkpoint,
            local_checkpoint: link.local_checkpoint,
            last_sync: link.last_sync,
            last_error: link.last_error.clone(),
            created_at: link.created_at,
            conflicts,
            progress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<NewLink, ApiError> {
        NewLink::parse(body.as_bytes())
    }

    #[test]
    fn a_complete_body_parses_with_defaults() -> Result<(), ApiError> {
        let link = parse(
            r#"{"local": {"bucket": "b", "collection": "c"},
                "remote": {"url": "http://127.0.0.1:1", "bucket": "rb", "collection": "rc", "user": "u", "password": "p"}}"#,
        )?;
        assert_eq!(link.direction, Direction::Both);
        assert_eq!(link.authorization().as_deref(), Some("Basic dTpw"));
        Ok(())
    }

    #[test]
    fn bad_bodies_are_named() {
        let cases = [
            (r#"{"local": {"bucket": "b"}, "remote": {}}"#, ""),
            (
                r#"{"local": {"bucket": "b/x", "collection": "c"}, "remote": {"url": "http://h", "bucket": "r", "collection": "r"}}"#,
                "local.bucket",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"url": "ftp://h", "bucket": "r", "collection": "r"}}"#,
                "remote.url",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"url": "http://h", "bucket": "r", "collection": "r", "user": "u"}}"#,
                "remote.password",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"url": "http://h", "bucket": "r", "collection": "r"}, "direction": "sideways"}"#,
                "",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"kind": "device", "url": "http://h", "bucket": "r", "collection": "r"}}"#,
                "remote.device",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"kind": "device", "device": "not-an-id", "bucket": "r", "collection": "r"}}"#,
                "remote.device",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"kind": "ftp", "url": "http://h", "bucket": "r", "collection": "r"}}"#,
                "remote.kind",
            ),
            (
                r#"{"local": {"bucket": "b", "collection": "c"}, "remote": {"url": "http://h", "device": "X", "bucket": "r", "collection": "r"}}"#,
                "remote.device",
            ),
        ];
        for (body, name) in cases {
            match parse(body) {
                Err(ApiError::Invalid(details)) => {
                    assert_eq!(details[0].name.as_deref().unwrap_or(""), name, "{body}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
