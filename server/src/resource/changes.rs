//! Changes of a list for the event streams (`http::events`): the objects and tombstones modified
//! after a timestamp, oldest first, refused and filtered exactly as `GET` on the list with
//! `_since` would be (same 401/403/404, same per-object read filter, PERM-LIST-FILTER), so a
//! stream never shows what the list would hide.

use http::Method;
use serde_json::Value;

use super::body::BodyInput;
use super::kind::{Kind, Place};
use super::params::Preconditions;
use super::patch::{Behavior, PatchFormat};
use super::query::ListParams;
use super::{Call, Engine};
use crate::error::ApiError;
use crate::settings::Settings;
use crate::storage::{Field, Filter, ListQuery, Operator, SortKey, StorageError, StoredObject, Tx};

/// A page of changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ListChanges {
    /// Oldest first; tombstones included.
    pub objects: Vec<StoredObject>,
    /// Whether every change after the timestamp is in `objects` (else ask again from the last).
    pub complete: bool,
}

/// A `GET` on the list at `place` by `user_id`, as the changes functions take it.
pub fn list_call(place: Place, user_id: Option<String>) -> Call {
    Call {
        method: Method::GET,
        place,
        body: BodyInput::parse(b""),
        preconditions: Ok(Preconditions::default()),
        params: Ok(ListParams::default()),
        user_id,
        url: String::new(),
        query: Vec::new(),
        head: false,
        patch_format: PatchFormat::from_content_type(None),
        behavior: Behavior::parse(None),
        implicit: None,
        attachment: None,
    }
}

/// The objects of the list `call.place` modified after `since` (at most `limit`), as
/// `principals` (see `auth::principals`) may read them.
pub fn changes_since(
    tx: &mut dyn Tx,
    settings: &Settings,
    call: &Call,
    principals: &[String],
    since: i64,
    limit: usize,
) -> Result<ListChanges, ApiError> {
    let mut engine = Engine { tx, settings, call, principals: principals.to_vec(), orphans: Vec::new() };
    let query = engine.readable_query(
        vec![Filter { field: Field::LastModified, operator: Operator::Gt, values: vec![Value::from(since)] }],
        true,
        vec![SortKey { field: Field::LastModified, descending: false }],
        limit,
    )?;
    let parent = call.place.parent_uri();
    let mut objects = engine.tx.list(&parent, call.place.kind.name(), &query)?;
    let complete = objects.len() <= limit;
    objects.truncate(limit);
    Ok(ListChanges { objects, complete })
}

/// The ids of the live objects of the list `call.place` that `principals` may list, in id
/// order: at most `limit` and one more when there are more.
pub fn readable_ids(
    tx: &mut dyn Tx,
    settings: &Settings,
    call: &Call,
    principals: &[String],
    limit: usize,
) -> Result<Vec<String>, ApiError> {
    let mut engine = Engine { tx, settings, call, principals: principals.to_vec(), orphans: Vec::new() };
    let query =
        engine.readable_query(Vec::new(), false, vec![SortKey { field: Field::Id, descending: false }], limit)?;
    let parent = call.place.parent_uri();
    let objects = engine.tx.list(&parent, call.place.kind.name(), &query)?;
    Ok(objects.into_iter().map(|object| object.id).collect())
}

/// The list's timestamp, without writing: 0 for a list never written (it holds nothing).
pub fn current_timestamp(tx: &mut dyn Tx, place: &Place) -> Result<i64, ApiError> {
    match tx.list_timestamp(&place.parent_uri(), place.kind.name()) {
        Ok(timestamp) => Ok(timestamp),
        Err(StorageError::NeedsWrite) => Ok(0),
        Err(err) => Err(err.into()),
    }
}

impl Engine<'_> {
    /// The checks of a list read, in the order `get_list` makes them (authorization, then the
    /// parents), and the query restricted to what the caller may read.
    fn readable_query(
        &mut self,
        filters: Vec<Filter>,
        include_deleted: bool,
        sort: Vec<SortKey>,
        limit: usize,
    ) -> Result<ListQuery, ApiError> {
        if !matches!(self.place().kind, Kind::Record | Kind::Collection) || self.place().id.is_some() {
            return Err(ApiError::Internal("changes are read on record and collection lists".into()));
        }
        let access = self.list_access("read")?;
        self.parent_collection()?;
        self.check_ancestor_ids()?;
        Ok(ListQuery { include_deleted, filters, access, sort, after: None, limit: Some(limit.saturating_add(1)) })
    }
}
