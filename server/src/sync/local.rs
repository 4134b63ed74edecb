//! The replicator's local side: every write goes through the resource engine
//! ([`crate::resource::execute`]) as [`REPLICATOR`], inside the caller's storage transaction —
//! so timestamps, tombstones, the collection timestamp, history entries, schema validation and
//! permissions are exactly those of an HTTP write. Also the local change feed push reads and
//! the replicator's `write` grant on linked collections.

use std::sync::Arc;

use http::Method;
use serde_json::{Map, Value, json};

use super::REPLICATOR;
use crate::error::ApiError;
use crate::resource::body::BodyInput;
use crate::resource::kind::{Kind, Place};
use crate::resource::params::Preconditions;
use crate::resource::patch::{Behavior, PatchFormat};
use crate::resource::query::ListParams;
use crate::resource::{self, Call};
use crate::settings::Settings;
use crate::storage::{Field, Filter, ListQuery, Operator, SortKey, StorageResult, Store, StoredObject, Tx};

/// A local collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub bucket: String,
    pub collection: String,
}

impl Collection {
    pub fn new(bucket: &str, collection: &str) -> Collection {
        Collection { bucket: bucket.to_owned(), collection: collection.to_owned() }
    }

    /// The storage parent of its records: `/buckets/b/collections/c`.
    pub fn uri(&self) -> String {
        format!("/buckets/{}/collections/{}", self.bucket, self.collection)
    }

    fn record(&self, id: &str) -> Place {
        Place::object(Kind::Record, vec![self.bucket.clone(), self.collection.clone()], id.to_owned())
    }
}

/// A call on `place` as `user_id`, as the HTTP layer would build it.
pub fn call(method: Method, place: Place, body: Option<Value>, user_id: &str) -> Call {
    Call {
        method,
        place,
        body: BodyInput::Json(body.unwrap_or_else(|| Value::Object(Map::new()))),
        preconditions: Ok(Preconditions::default()),
        params: Ok(ListParams::default()),
        user_id: Some(user_id.to_owned()),
        url: String::new(),
        query: Vec::new(),
        head: false,
        patch_format: PatchFormat::default(),
        behavior: Ok(Behavior::default()),
        implicit: None,
        attachment: None,
    }
}

/// The record (or tombstone) stored under `id`.
pub fn get(tx: &mut dyn Tx, collection: &Collection, id: &str) -> StorageResult<Option<StoredObject>> {
    tx.get(&collection.uri(), "record", id)
}

/// Writes a version locally (`null` deletes); an `attachment` must have its file in the local
/// store already ([`super::files`]). Returns the local timestamp it got, or the
/// current one when there was nothing to do (deleting what is already gone).
/// Attachment files the write left unused are added to `unused`: remove them with
/// [`remove_unused_files`] once the transaction is committed.
pub fn write(
    tx: &mut dyn Tx,
    settings: &Settings,
    collection: &Collection,
    id: &str,
    version: &Value,
    unused: &mut Vec<String>,
) -> Result<i64, ApiError> {
    match version {
        Value::Object(fields) => {
            let mut data = fields.clone();
            data.remove("id");
            data.remove("last_modified");
            if let Some(field) = data.get("attachment").filter(|f| !f.is_null()) {
                // Another server's field: pointed at the copy of the file the pull stored here.
                let here = resource::attach::localize(settings, &collection.bucket, &collection.collection, field)?;
                data.insert("attachment".into(), here);
            }
            let call = call(Method::PUT, collection.record(id), Some(json!({ "data": data })), REPLICATOR);
            unused.extend(resource::execute_with_effects(tx, settings, &call)?.1);
        }
        _ => {
            let live = get(tx, collection, id)?.filter(|o| !o.deleted);
            if live.is_none() {
                return Ok(get(tx, collection, id)?.map_or(0, |o| o.last_modified));
            }
            let call = call(Method::DELETE, collection.record(id), None, REPLICATOR);
            unused.extend(resource::execute_with_effects(tx, settings, &call)?.1);
        }
    }
    get(tx, collection, id)?
        .map(|o| o.last_modified)
        .ok_or_else(|| ApiError::Internal(format!("record {id} vanished after the replicator wrote it")))
}

/// Removes the attachment files that committed replicator writes left unused (as the HTTP
/// layer does after a request).
pub async fn remove_unused_files(store: &Store, settings: Arc<Settings>, unused: Vec<String>) {
    if unused.is_empty() {
        return;
    }
    let result = store.write(move |tx| resource::attach::collect_orphans(tx, &settings, &unused)).await;
    if let Err(err) = result {
        tracing::warn!(%err, "could not remove attachment files no record uses");
    }
}

/// Local records and tombstones changed after `since`, oldest first, at most `limit`.
pub fn changes_since(
    tx: &mut dyn Tx,
    collection: &Collection,
    since: i64,
    limit: usize,
) -> StorageResult<Vec<StoredObject>> {
    let query = ListQuery {
        include_deleted: true,
        filters: vec![Filter { field: Field::LastModified, operator: Operator::Gt, values: vec![json!(since)] }],
        sort: vec![SortKey { field: Field::LastModified, descending: false }],
        limit: Some(limit),
        ..ListQuery::default()
    };
    tx.list(&collection.uri(), "record", &query)
}

/// Whether the local collection exists (a live object).
pub fn collection_exists(tx: &mut dyn Tx, collection: &Collection) -> StorageResult<bool> {
    let bucket_live = tx.get("", "bucket", &collection.bucket)?.is_some_and(|b| !b.deleted);
    let bucket_uri = format!("/buckets/{}", collection.bucket);
    Ok(bucket_live && tx.get(&bucket_uri, "collection", &collection.collection)?.is_some_and(|c| !c.deleted))
}

/// Creates the bucket and the collection where missing, as `user_id` (who then owns them).
pub fn ensure_collection(
    tx: &mut dyn Tx,
    settings: &Settings,
    collection: &Collection,
    user_id: &str,
) -> Result<(), ApiError> {
    if tx.get("", "bucket", &collection.bucket)?.filter(|b| !b.deleted).is_none() {
        let place = Place::object(Kind::Bucket, vec![], collection.bucket.clone());
        resource::execute(tx, settings, &call(Method::PUT, place, None, user_id))?;
    }
    let bucket_uri = format!("/buckets/{}", collection.bucket);
    if tx.get(&bucket_uri, "collection", &collection.collection)?.filter(|c| !c.deleted).is_none() {
        let place = Place::object(Kind::Collection, vec![collection.bucket.clone()], collection.collection.clone());
        resource::execute(tx, settings, &call(Method::PUT, place, None, user_id))?;
    }
    Ok(())
}

/// Whether `user_id` may write the collection (Kinto's rules, settings grants included).
pub fn may_write(
    tx: &mut dyn Tx,
    settings: &Settings,
    collection: &Collection,
    user_id: &str,
) -> Result<bool, ApiError> {
    let principals = crate::auth::principals(tx, Some(user_id))?;
    let place = Place::object(Kind::Collection, vec![collection.bucket.clone()], collection.collection.clone());
    Ok(crate::auth::permission::allowed(tx, settings, &principals, &place, "write")?)
}

/// Adds (or removes) [`REPLICATOR`] to the collection's `write` ACE.
pub fn grant_replicator(tx: &mut dyn Tx, collection: &Collection, granted: bool) -> StorageResult<()> {
    let uri = collection.uri();
    let mut acl = tx.acl(&uri)?;
    let write = acl.entry("write".to_owned()).or_default();
    let changed = if granted { write.insert(REPLICATOR.to_owned()) } else { write.remove(REPLICATOR) };
    acl.retain(|_, principals| !principals.is_empty());
    if changed { tx.set_acl(&uri, &acl) } else { Ok(()) }
}
