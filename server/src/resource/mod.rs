//! The generic object engine: Kinto's semantics for buckets, collections, groups and records.
//!
//! A [`Call`] is a parsed request on an object or a list; [`execute`] runs it synchronously
//! inside a storage transaction, in the order of CC-ORDER: parent checks, authorization,
//! validation, lookups, preconditions, semantic checks, then the write. Handlers never see
//! SQL; storage never sees HTTP.

pub mod attach;
pub mod body;
pub mod changes;
pub mod evaluate;
pub mod ids;
pub mod kind;
pub mod params;
pub mod patch;
pub mod query;
pub mod schema;
pub mod validate;

mod list;
mod object;
mod respond;

pub use respond::{acl_json, with_timestamp};
mod store;

use http::Method;
use serde_json::{Map, Value};

use crate::auth::{self, permission};
use crate::error::ApiError;
use crate::http::message::ApiResponse;
use crate::settings::Settings;
use crate::storage::{StoredObject, Tx};
use body::BodyInput;
use kind::{Kind, Place};
use params::Preconditions;
use query::ListParams;

/// A request on an object or a list, parsed but not yet validated: validation errors are kept
/// until authorization has passed.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub place: Place,
    pub body: BodyInput,
    pub preconditions: Result<Preconditions, ApiError>,
    pub params: Result<ListParams, ApiError>,
    pub user_id: Option<String>,
    /// Absolute URL of the endpoint without query string (for `Next-Page`).
    pub url: String,
    /// Decoded query pairs (for `Next-Page`).
    pub query: Vec<(String, String)>,
    /// HEAD request: lists report counts instead of objects.
    pub head: bool,
    /// How a PATCH body is read (from its Content-Type).
    pub patch_format: patch::PatchFormat,
    /// The `Response-Behavior` header of a PATCH.
    pub behavior: Result<patch::Behavior, ApiError>,
    /// Personal-bucket requests: what to create first (DB-IMPLICIT).
    pub implicit: Option<crate::plugins::default_bucket::Implicit>,
    /// Requests on a record's attachment endpoint.
    pub attachment: Option<attach::AttachmentOp>,
}

/// Runs `call` in `tx`.
pub fn execute(tx: &mut dyn Tx, settings: &Settings, call: &Call) -> Result<ApiResponse, ApiError> {
    execute_with_effects(tx, settings, call).map(|(response, _)| response)
}

/// Runs `call` in `tx`; also returns the attachment files the change left unused, to remove
/// once the transaction is committed.
pub fn execute_with_effects(
    tx: &mut dyn Tx,
    settings: &Settings,
    call: &Call,
) -> Result<(ApiResponse, Vec<String>), ApiError> {
    let principals = auth::principals(tx, call.user_id.as_deref())?;
    let mut engine = Engine { tx, settings, call, principals, orphans: Vec::new() };
    if let Some(implicit) = &call.implicit {
        engine.create_implicit(implicit)?;
    }
    let response = engine.run()?;
    Ok((response, engine.orphans))
}

impl Engine<'_> {
    fn run(&mut self) -> Result<ApiResponse, ApiError> {
        let call = self.call;
        if let Some(op) = &call.attachment {
            return self.attachment(op);
        }
        let engine = self;
        match (call.place.id.is_some(), &call.method) {
            (true, &Method::GET) | (true, &Method::HEAD) => engine.get_object(),
            (true, &Method::PUT) => engine.put_object(),
            (true, &Method::PATCH) => engine.patch_object(),
            (true, &Method::DELETE) => engine.delete_object(),
            (false, &Method::GET) | (false, &Method::HEAD) => engine.get_list(),
            (false, &Method::POST) => engine.post_list(),
            (false, &Method::DELETE) => engine.delete_list(),
            _ => Err(ApiError::Internal(format!("no handler for {} on {}", call.method, call.place.uri()))),
        }
    }
}

/// Whether a method on a place writes (and so must run on the writer).
pub fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// One request's execution state.
struct Engine<'a> {
    tx: &'a mut dyn Tx,
    settings: &'a Settings,
    call: &'a Call,
    principals: Vec<String>,
    /// Attachment files no record uses any more.
    orphans: Vec<String>,
}

impl Engine<'_> {
    fn place(&self) -> &Place {
        &self.call.place
    }

    fn id(&self) -> &str {
        self.call.place.id.as_deref().unwrap_or_default()
    }

    fn deny(&self) -> ApiError {
        auth::deny(self.settings, self.call.user_id.as_deref())
    }

    fn allowed(&mut self, place: &Place, permission: &str) -> Result<bool, ApiError> {
        Ok(permission::allowed(self.tx, self.settings, &self.principals, place, permission)?)
    }

    fn require(&mut self, place: &Place, permission: &str) -> Result<(), ApiError> {
        if self.allowed(place, permission)? { Ok(()) } else { Err(self.deny()) }
    }

    fn allowed_on_list(&mut self, permission: &str) -> Result<bool, ApiError> {
        let list = Place::list(self.place().kind, self.place().ancestors.clone());
        Ok(permission::allowed_on_list(self.tx, self.settings, &self.principals, &list, permission)?)
    }

    fn allowed_to_create(&mut self) -> Result<bool, ApiError> {
        let list = Place::list(self.place().kind, self.place().ancestors.clone());
        Ok(permission::allowed_to_create(self.tx, self.settings, &self.principals, &list)?)
    }

    /// The live object `id` of this list, if any (tombstones are not objects).
    fn live(&mut self, id: &str) -> Result<Option<StoredObject>, ApiError> {
        if !ids::is_valid(self.place().kind, id) {
            return Ok(None);
        }
        let parent = self.place().parent_uri();
        Ok(self.tx.get(&parent, self.place().kind.name(), id)?.filter(|o| !o.deleted))
    }

    /// Records: the parent collection must exist (OBJ-PARENT-EXISTS); returns its data.
    /// Collections and groups: a malformed bucket id is a missing bucket.
    fn parent_collection(&mut self) -> Result<Option<Map<String, Value>>, ApiError> {
        let call = self.call;
        if call.place.kind != Kind::Record {
            self.check_ancestor_ids()?;
            return Ok(None);
        }
        let [bucket, collection, ..] = call.place.ancestors.as_slice() else {
            return Err(ApiError::Internal("record without a collection".into()));
        };
        let missing = || ApiError::MissingParent { id: collection.clone(), resource_name: "collection" };
        self.check_ancestor_ids()?;
        let bucket_uri = format!("/buckets/{bucket}");
        if self.tx.get("", "bucket", bucket)?.filter(|b| !b.deleted).is_none() {
            return Err(missing());
        }
        match self.tx.get(&bucket_uri, "collection", collection)?.filter(|c| !c.deleted) {
            Some(found) => Ok(Some(found.data)),
            None => Err(missing()),
        }
    }

    /// Collections and groups: a malformed bucket id in the URL is a missing parent.
    fn check_ancestor_ids(&self) -> Result<(), ApiError> {
        match self.place().invalid_ancestor() {
            Some((id, resource_name)) => Err(ApiError::MissingParent { id, resource_name }),
            None => Ok(()),
        }
    }

    /// The addressed id must be well-formed (checked after authorization).
    fn check_id(&self, id: &str) -> Result<(), ApiError> {
        if ids::is_valid(self.place().kind, id) { Ok(()) } else { Err(ApiError::invalid_object_id()) }
    }

    /// The principal added to `write` on every create or update (PERM-CREATOR).
    fn creator(&self) -> String {
        self.call.user_id.clone().unwrap_or_else(|| auth::EVERYONE.to_owned())
    }
}
