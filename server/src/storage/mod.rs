//! Storage: the [`Tx`] trait every backend implements, and the [`Store`] handle the server uses.
//!
//! The resource engine is synchronous code that runs *inside* a storage job: a read job on a
//! read-only connection, or a write job on the single writer thread, inside one transaction. A
//! backend only has to run jobs ([`Backend`]) and offer the primitive operations ([`Tx`]):
//! objects keyed by `(parent_id, resource_name, id)`, per-list timestamps that only grow,
//! access-control entries `(object_uri, permission, principal)` and group memberships.
//! Objects are JSON objects that always carry `id` and `last_modified` (and `deleted: true`
//! for tombstones).

mod query;
pub mod sqlite;
mod sync_rows;

pub use query::{Field, Filter, ListQuery, Operator, SortKey};
pub use sync_rows::{ConflictRow, LinkRow, SyncState, SyncTx};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::oneshot;

use crate::changes::ChangeBus;

/// A failure of the storage layer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness or concurrency conflict: the client may retry (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend cannot serve now (disk full, locked, I/O error): 503.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (a bug or a damaged file): 500.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A read job tried to write; the request is replayed as a write job.
    #[error("a read-only job needs to write")]
    NeedsWrite,
}

pub type StorageResult<T> = Result<T, StorageError>;

/// One stored object or tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub id: String,
    pub last_modified: i64,
    pub deleted: bool,
    /// The whole object, including `id`, `last_modified` (and `deleted` for tombstones).
    pub data: Map<String, Value>,
}

/// One stored object or tombstone as its stored JSON text, which is exactly what Kinto's
/// serializer ([`crate::json`]) writes for its `data`: a list answer sends it unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct RawObject {
    pub id: String,
    pub last_modified: i64,
    pub deleted: bool,
    pub json: String,
}

impl RawObject {
    /// The parsed object.
    pub fn parse(&self) -> StorageResult<StoredObject> {
        parse_object(self.id.clone(), self.last_modified, self.deleted, &self.json)
    }
}

/// An object from its stored JSON text.
pub fn parse_object(id: String, last_modified: i64, deleted: bool, text: &str) -> StorageResult<StoredObject> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(data)) => Ok(StoredObject { id, last_modified, deleted, data }),
        Ok(_) => Err(StorageError::Corrupt(format!("object {id} is not a JSON object"))),
        Err(err) => Err(StorageError::Corrupt(format!("object {id}: {err}"))),
    }
}

impl From<StoredObject> for RawObject {
    fn from(object: StoredObject) -> Self {
        let json = crate::json::to_string(&object.data);
        RawObject { id: object.id, last_modified: object.last_modified, deleted: object.deleted, json }
    }
}

/// An access control list: permission name -> principals.
pub type Acl = BTreeMap<String, BTreeSet<String>>;

/// Restricts a listing to the objects whose *own* ACL grants one of `permissions` to one of
/// `principals` (PERM-LIST-FILTER). `uri_prefix` is the listed objects' URI without the id,
/// e.g. `/buckets/b1/collections/`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessFilter {
    pub uri_prefix: String,
    pub permissions: Vec<&'static str>,
    pub principals: Vec<String>,
}

/// Which timestamp a write should get (TS-CLIENT-VALUE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// `max(now, list timestamp + 1)`.
    Now,
    /// A value the client asked for, subject to the list rules.
    Requested(i64),
}

/// The primitive operations of a storage transaction (the replicator's tables: [`SyncTx`]).
pub trait Tx: SyncTx {
    /// The object or tombstone stored under this key.
    fn get(&mut self, parent: &str, resource: &str, id: &str) -> StorageResult<Option<StoredObject>>;

    /// Stores `data` (user fields; `id`/`last_modified` are set here) with a new timestamp,
    /// replacing any object or tombstone with that id.
    fn put(
        &mut self,
        parent: &str,
        resource: &str,
        id: &str,
        data: Map<String, Value>,
        stamp: Stamp,
    ) -> StorageResult<StoredObject>;

    /// Replaces the object by a tombstone with a new timestamp.
    fn delete(&mut self, parent: &str, resource: &str, id: &str, stamp: Stamp) -> StorageResult<StoredObject>;

    /// Objects of a list, newest first.
    fn list(&mut self, parent: &str, resource: &str, query: &ListQuery) -> StorageResult<Vec<StoredObject>>;

    /// The objects of [`Tx::list`] as their stored JSON text (nothing parsed).
    fn list_raw(&mut self, parent: &str, resource: &str, query: &ListQuery) -> StorageResult<Vec<RawObject>> {
        Ok(self.list(parent, resource, query)?.into_iter().map(RawObject::from).collect())
    }

    /// Number of live objects a listing would return without its limit.
    fn count(&mut self, parent: &str, resource: &str, query: &ListQuery) -> StorageResult<u64>;

    /// The list timestamp (TS-LIST); the first access of a never-used list stores "now".
    fn list_timestamp(&mut self, parent: &str, resource: &str) -> StorageResult<i64>;

    /// Removes, without tombstones, every object whose parent is `uri` or lies below it, their
    /// list timestamps, every ACL below `uri` and the memberships of groups below it.
    fn purge_below(&mut self, uri: &str) -> StorageResult<()>;

    /// The object's own ACL.
    fn acl(&mut self, object_uri: &str) -> StorageResult<Acl>;

    /// Replaces the object's own ACL (an empty one removes it).
    fn set_acl(&mut self, object_uri: &str, acl: &Acl) -> StorageResult<()>;

    /// Adds `delta` to the number of records using a stored file; returns the new number.
    fn attachment_refs(&mut self, location: &str, delta: i64) -> StorageResult<i64>;

    /// The `attachment.location` of every live record whose parent is `uri` or below it.
    fn attachments_below(&mut self, uri: &str) -> StorageResult<Vec<String>>;

    /// Removes everything (PLUG-FLUSH).
    fn flush(&mut self) -> StorageResult<()>;

    /// Every `(object_uri, permission)` ACE naming one of `principals`.
    fn aces_of(&mut self, principals: &[String]) -> StorageResult<Vec<(String, String)>>;

    /// Whether any principal holds any of the `(object_uri, permission)` grants.
    fn any_ace(&mut self, grants: &[(String, &'static str)], principals: &[String]) -> StorageResult<bool>;

    /// Whether some object directly under `filter.uri_prefix` grants access by its own ACL.
    fn any_accessible(&mut self, filter: &AccessFilter) -> StorageResult<bool>;

    /// Group principals held by any of these user ids (including `system.Authenticated`).
    fn member_of(&mut self, user_ids: &[&str]) -> StorageResult<Vec<String>>;

    /// Removes, without tombstones, the objects of a list beyond the newest `keep` and those
    /// older than `older_than` (ms), with their ACLs. Returns how many went.
    fn trim_list(
        &mut self,
        parent: &str,
        resource: &str,
        keep: Option<usize>,
        older_than: Option<i64>,
    ) -> StorageResult<usize>;

    /// Remembers a single-use token until `expires_at` (ms); expired ones are dropped.
    fn issue_token(&mut self, nonce: &str, expires_at: i64) -> StorageResult<()>;

    /// Uses up a token: whether it was issued, unused and not expired.
    fn redeem_token(&mut self, nonce: &str, now: i64) -> StorageResult<bool>;

    /// Builds an index for filters and sorts on a data field, if the backend has such a
    /// thing (a slow listing asks for it; see `storage::sqlite::indexes`).
    fn ensure_field_index(&mut self, _path: &[String]) -> StorageResult<()> {
        Ok(())
    }

    /// Makes `members` exactly the holders of the group principal `group_uri`.
    fn set_group_members(&mut self, group_uri: &str, members: &[String]) -> StorageResult<()>;

    /// The paired LAN devices (`sharing`), by id.
    fn devices(&mut self) -> StorageResult<Vec<DeviceRow>>;

    /// Adds or replaces a paired device.
    fn put_device(&mut self, device: &DeviceRow) -> StorageResult<()>;

    /// Forgets a paired device; whether it was there.
    fn delete_device(&mut self, id: &str) -> StorageResult<bool>;

    /// Removes `principal` from every ACL; returns the object URIs that named it.
    fn remove_principal_aces(&mut self, principal: &str) -> StorageResult<Vec<String>>;

    /// How many live objects each resource kind holds (`bucket`, `record`, ...).
    fn object_counts(&mut self) -> StorageResult<Vec<(String, u64)>>;
}

/// A paired LAN device as stored (see `sharing::devices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The compact device id (SHA-256 of `spki`, base32 with check characters).
    pub id: String,
    /// Its pinned public key (DER SubjectPublicKeyInfo).
    pub spki: Vec<u8>,
    pub name: String,
    /// Last known `ip:port` of its LAN data port.
    pub address: String,
    /// When it was paired (ms since the epoch).
    pub paired_at: i64,
}

/// A job run inside a transaction; it reports whether its changes are kept.
pub type ReadJob = Box<dyn FnOnce(&mut dyn Tx) + Send>;

/// A write job returns whether to keep its changes, and a completion that learns whether the
/// commit succeeded: replies are sent only once the data is durable.
pub type WriteJob = Box<dyn FnOnce(&mut dyn Tx) -> WriteOutcome + Send>;

/// What a write job hands back to the writer.
pub struct WriteOutcome {
    pub keep: bool,
    pub complete: Box<dyn FnOnce(StorageResult<()>) + Send>,
}

/// A storage backend: runs jobs on its connections.
pub trait Backend: Send + Sync {
    fn run_read(&self, job: ReadJob);
    fn run_write(&self, job: WriteJob);
    /// Where the backend announces the lists each committed transaction changed, after the
    /// commit is durable (see [`crate::changes`]).
    fn changes(&self) -> &ChangeBus;
    /// A cheap liveness check for `/__heartbeat__`.
    fn healthy(&self) -> bool;
}

/// The handle the server uses to run typed jobs on a backend.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl Store {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Store { backend }
    }

    /// Runs `f` in a read-only snapshot.
    pub async fn read<T, E>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        self.backend.run_read(Box::new(move |tx| {
            let _ = sender.send(f(tx));
        }));
        receiver.await.unwrap_or_else(|_| Err(StorageError::Unavailable("read job was dropped".into()).into()))
    }

    /// Runs `f` in the write transaction; its changes are kept when it returns `Ok` and the
    /// result is delivered after the commit is durable.
    pub async fn write<T, E>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        self.write_with(move |tx| {
            let result = f(tx);
            let keep = result.is_ok();
            (result, keep)
        })
        .await
    }

    /// Like [`Store::write`], but `f` decides itself whether its changes are kept.
    pub async fn write_with<T, E>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> (Result<T, E>, bool) + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        self.backend.run_write(Box::new(move |tx| {
            let (result, keep) = f(tx);
            WriteOutcome {
                keep,
                complete: Box::new(move |commit| {
                    let reply = match commit {
                        Ok(()) => result,
                        Err(err) => Err(err.into()),
                    };
                    let _ = sender.send(reply);
                }),
            }
        }));
        receiver.await.unwrap_or_else(|_| Err(StorageError::Unavailable("write job was dropped".into()).into()))
    }

    pub fn healthy(&self) -> bool {
        self.backend.healthy()
    }

    /// The change bus: a message after every committed write, whatever made it.
    pub fn changes(&self) -> &ChangeBus {
        self.backend.changes()
    }
}
