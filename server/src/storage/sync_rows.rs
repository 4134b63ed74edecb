//! The replicator's tables (`crate::sync`), as storage sees them: sync links, the per-record
//! sync state (what both sides last agreed on) and the conflict inbox. They live in the same
//! database as the objects, so that applying a page of remote changes, the records' sync state
//! and the link's checkpoint commit in one transaction.
//!
//! A record *version* is a JSON value: the record's fields (without `id` and `last_modified`),
//! or `null` for a deleted record.

use serde_json::Value;

use super::StorageResult;

/// One sync link: a local collection kept in step with a remote one.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRow {
    pub id: String,
    pub local_bucket: String,
    pub local_collection: String,
    /// `kinto` (a Kinto server at `remote_url`) or `device` (a paired device, `remote_device`).
    pub remote_kind: String,
    pub remote_url: Option<String>,
    pub remote_device: Option<String>,
    pub remote_bucket: String,
    pub remote_collection: String,
    /// `both` or `pull` (read-only: never pushes).
    pub direction: String,
    /// The last remote timestamp whose changes are all applied here (0: none yet).
    pub remote_checkpoint: i64,
    /// The last local timestamp whose changes are all handled by a push (0: none yet).
    pub local_checkpoint: i64,
    /// When the last sync finished without error (ms since the epoch).
    pub last_sync: Option<i64>,
    /// Why the last attempt failed; `None` after a successful one.
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// What both sides last agreed on for one record of a link.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    pub record_id: String,
    /// The local `last_modified` of the agreed version (0: never existed here). A local
    /// record with another timestamp was changed here since.
    pub local_ts: i64,
    /// The remote `last_modified` of the agreed version; `None` when the remote holds no live
    /// version (a push then creates it with `If-None-Match: *`).
    pub remote_ts: Option<i64>,
    /// The agreed version (the common ancestor of a later conflict): fields or `null`.
    pub base: Value,
}

/// A record changed on both sides, waiting for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    pub link_id: String,
    pub record_id: String,
    /// The local version when the conflict was found (fields or `null`), and its timestamp.
    pub mine: Value,
    pub mine_ts: i64,
    /// The remote version (fields or `null`) and its remote timestamp (`None`: deleted, time
    /// unknown).
    pub theirs: Value,
    pub theirs_ts: Option<i64>,
    /// The last version both sides agreed on, when there is one.
    pub base: Option<Value>,
    /// `concurrent_edit`, or why one side refused the other's version.
    pub reason: String,
    pub detected_at: i64,
}

/// The operations on the replicator's tables.
pub trait SyncTx {
    /// Every sync link, by id.
    fn sync_links(&mut self) -> StorageResult<Vec<LinkRow>>;

    fn sync_link(&mut self, id: &str) -> StorageResult<Option<LinkRow>>;

    /// Adds or replaces a link.
    fn put_sync_link(&mut self, link: &LinkRow) -> StorageResult<()>;

    /// Forgets a link with its records' state and conflicts; whether it was there.
    fn delete_sync_link(&mut self, id: &str) -> StorageResult<bool>;

    /// Moves a link's checkpoints (each only when given).
    fn set_sync_checkpoints(&mut self, id: &str, remote: Option<i64>, local: Option<i64>) -> StorageResult<()>;

    /// Records how the last attempt ended: `Ok(finished_at)` or `Err(message)`.
    fn set_sync_outcome(&mut self, id: &str, outcome: Result<i64, &str>) -> StorageResult<()>;

    fn sync_state(&mut self, link_id: &str, record_id: &str) -> StorageResult<Option<SyncState>>;

    fn put_sync_state(&mut self, link_id: &str, state: &SyncState) -> StorageResult<()>;

    fn sync_conflict(&mut self, link_id: &str, record_id: &str) -> StorageResult<Option<ConflictRow>>;

    /// The conflicts of a link, oldest first.
    fn sync_conflicts(&mut self, link_id: &str) -> StorageResult<Vec<ConflictRow>>;

    /// Adds or replaces the conflict of `(link, record)`.
    fn put_sync_conflict(&mut self, conflict: &ConflictRow) -> StorageResult<()>;

    /// Removes a conflict; whether it was there.
    fn delete_sync_conflict(&mut self, link_id: &str, record_id: &str) -> StorageResult<bool>;

    /// How many conflicts each link has, by link id.
    fn sync_conflict_counts(&mut self) -> StorageResult<Vec<(String, u64)>>;
}
