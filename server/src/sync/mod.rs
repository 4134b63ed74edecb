//! The replicator: keeps a local collection in step with a collection on another Kinto server
//! (any Kinto, or later a paired device), with Kinto's own protocol.
//!
//! * [`link`]: what a sync link is (local collection, remote, direction) and how the owner
//!   describes a new one; links, the per-record sync state and conflicts are SQLite tables
//!   (migration 6, [`crate::storage::SyncTx`]); credentials for the remote live in the secrets
//!   store as `sync-<link id>`, never in the database.
//! * [`client`]: the remote Kinto HTTP client (a `reqwest::Client`, a base URL and an optional
//!   `Authorization` header); [`device`] builds one for a paired device (pinned mutual TLS, at
//!   the address the device announces now).
//! * [`pull`]: `GET records?_since=<remote checkpoint>&_sort=last_modified`, page by page
//!   (`Next-Page`); each page is applied in ONE local write transaction together with the
//!   records' sync state and the new checkpoint, so a crash or a cut resumes without losing or
//!   repeating anything.
//! * [`push`]: local changes since the local checkpoint go out in `/batch` requests with
//!   `If-Match` (known records) or `If-None-Match: *` (new ones).
//! * [`files`]: attachments follow their records (downloaded before a pull applies them,
//!   uploaded to the remote's attachment endpoint before a push sends them).
//! * [`conflicts`]: a record changed on both sides (found by a pull, or a push's 412) keeps both
//!   versions and their common ancestor until the owner picks mine, theirs or a merge.
//! * [`local`]: every local write goes through the resource engine as the internal principal
//!   [`REPLICATOR`] (timestamps, tombstones, history, schema validation, ACLs all apply).
//! * [`runner`]: one task per link (sync on start, on [`runner::Replicator::nudge`], on "sync
//!   now", else every `sync_interval_seconds`), backoff on errors, live progress.
//! * [`manage`]: creating (with checks against the remote) and removing links;
//!   [`admin`]: the owner's `/v1/__sync__` endpoints; [`cli`]: `kintoun sync ...`;
//!   [`progress`]: what a link's task is doing; [`version`]: comparing record versions.
//!
//! The per-record state is what makes echoes and conflicts decidable: for each record it keeps
//! the local and remote timestamps of the last version both sides agreed on, and that version
//! (the *base*). A remote change whose timestamp is the one we know is our own push coming
//! back; a local change whose timestamp is the one we know is the pull's own write.

pub mod admin;
pub mod cli;
pub mod client;
pub mod conflicts;
pub mod device;
pub mod files;
pub mod link;
pub mod local;
pub mod manage;
pub mod progress;
pub mod pull;
pub mod push;
pub mod runner;
pub mod version;
pub mod watch;

pub use client::{ClientError, KintoClient};
pub use link::{Direction, LinkView, NewLink};
pub use runner::Replicator;

/// The principal the replicator writes local records as. It can never be authenticated by a
/// request (user ids come from accounts, Basic auth, devices, apps or in-process sessions), and
/// gets `write` on each linked local collection's ACL when the link is made (removed with the
/// last link on that collection), so Kinto's permission rules stay the only ones.
pub const REPLICATOR: &str = "system:replicator";

/// The secrets-store name of a link's `Authorization` header value.
pub fn secret_name(link_id: &str) -> String {
    format!("sync-{link_id}")
}

/// Why a sync (or an operation on links) failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Remote(#[from] ClientError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// A local write was refused in a way that concerns the whole link (403, missing collection).
    #[error("the local collection refused the replicator's write: {0}")]
    Local(crate::error::ApiError),
    #[error("no such sync link: {0}")]
    UnknownLink(String),
    #[error("the link's credentials are unavailable: {0}")]
    Secrets(String),
    #[error("{0}")]
    Unsupported(String),
    /// A paired device cannot be reached now (LAN sharing off, device unpaired or away).
    #[error("{0}")]
    DeviceUnavailable(String),
    /// The server is stopping.
    #[error("stopped")]
    Stopped,
}

impl From<crate::error::ApiError> for SyncError {
    fn from(err: crate::error::ApiError) -> Self {
        SyncError::Local(err)
    }
}

/// Follows the server's change bus: a committed change to the records of a collection wakes
/// the links of that collection, so a local edit is pushed within moments. A lagging receiver
/// only means some nudges were merged: every sync looks at everything since its checkpoint.
pub async fn nudge_on_changes(
    mut changes: tokio::sync::broadcast::Receiver<crate::changes::Changed>,
    replicator: Replicator,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(changed) if changed.resource_name == "record" => {
                let parts: Vec<&str> = changed.parent_id.trim_start_matches('/').split('/').collect();
                if let ["buckets", bucket, "collections", collection] = parts.as_slice() {
                    replicator.nudge_local(bucket, collection);
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => replicator.nudge(),
            Err(RecvError::Closed) => return,
        }
    }
}
