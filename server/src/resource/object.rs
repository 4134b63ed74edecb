//! Operations on one object: GET/HEAD, PUT, PATCH (plain JSON merge), DELETE (OP-OBJ-*), in
//! the order of CC-ORDER.

use serde_json::{Map, Value, json};

use super::Engine;
use super::params::Tag;
use super::respond::{Verdict, with_timestamp};
use super::{body, ids, patch, query, validate};
use crate::error::ApiError;
use crate::http::message::ApiResponse;
use crate::plugins::accounts;
use crate::resource::kind::Kind;

use crate::storage::StoredObject;

impl Engine<'_> {
    pub(super) fn get_object(&mut self) -> Result<ApiResponse, ApiError> {
        let place = self.place().clone();
        self.require(&place, place.kind.read_permission())?;
        let preconditions = self.call.preconditions.clone()?;
        let params = self.call.params.clone()?;
        let collection = self.parent_collection()?;
        self.check_ancestor_ids()?;
        let id = self.id().to_owned();
        self.check_id(&id)?;
        let existing = self.live(&id)?.ok_or_else(|| self.not_found())?;
        if let Verdict::NotModified = self.object_preconditions(&preconditions, Some(&existing), true)? {
            return Ok(self.not_modified(existing.last_modified));
        }
        let response = match &params.fields {
            // `_fields` drops the permissions member (QUIRK-FIELDS-PERMS).
            Some(fields) => with_timestamp(
                ApiResponse::json(200, &json!({"data": Value::Object(query::project(&existing.data, fields))})),
                existing.last_modified,
            ),
            None => {
                let acl = self.tx.acl(&place.uri())?;
                self.object_response(200, &existing, &acl)
            }
        };
        Ok(self.cache_headers(response, collection.as_ref()))
    }

    pub(super) fn put_object(&mut self) -> Result<ApiResponse, ApiError> {
        let place = self.place().clone();
        self.parent_collection()?;
        let id = self.id().to_owned();
        if place.kind == Kind::Account && ids::is_valid(Kind::Account, &id) {
            // Before authorization, as Kinto: a user addressing another account learns why.
            accounts::check_creation(self.settings, &self.principals, self.call.user_id.as_deref(), &id)?;
        }
        let existing = self.live(&id)?;
        let create_only = matches!(&self.call.preconditions, Ok(p) if p.if_none_match == Some(Tag::Any));
        if existing.is_some() && !create_only {
            self.require(&place, "write")?;
        } else if !self.allowed_to_create()? {
            return Err(self.deny());
        }
        let envelope = body::envelope(self.call.body.value()?, place.kind)?;
        let preconditions = self.call.preconditions.clone()?;
        self.check_ancestor_ids()?;
        self.check_id(&id)?;
        self.object_preconditions(&preconditions, existing.as_ref(), false)?;
        if let Some(data) = &envelope.data {
            check_body_id(data, &id)?;
        }

        let data = match (&envelope.data, &existing) {
            (Some(data), _) => {
                let mut data = data.clone();
                validate::default_members(place.kind, &mut data);
                data
            }
            (None, Some(old)) => old.data.clone(),
            (None, None) => Map::new(),
        };
        let (stored, acl) = self.save(&id, existing.as_ref(), data, envelope.acl())?;
        Ok(self.object_response(if existing.is_some() { 200 } else { 201 }, &stored, &acl))
    }

    pub(super) fn patch_object(&mut self) -> Result<ApiResponse, ApiError> {
        let place = self.place().clone();
        self.parent_collection()?;
        let id = self.id().to_owned();
        let existing = self.live(&id)?;
        self.require_write_or_list_read(existing.as_ref())?;
        let body = patch::parse(self.call.patch_format, self.call.body.value()?, place.kind)?;
        let preconditions = self.call.preconditions.clone()?;
        let behavior = self.call.behavior.clone()?;
        self.check_ancestor_ids()?;
        self.check_id(&id)?;
        let existing = existing.ok_or_else(|| self.not_found())?;
        self.object_preconditions(&preconditions, Some(&existing), false)?;
        let acl = self.tx.acl(&place.uri())?;
        let patched = patch::apply(&body, place.kind, &existing.data, &acl)?;
        check_body_id(&patched.data, &id)?;
        let (stored, acl) =
            self.save(&id, Some(&existing), patched.data, Some(patched.acl)).map_err(|err| match err {
                // Kinto validates the merged group, so its errors name `members`, not `data.members`.
                ApiError::Invalid(details) if place.kind == Kind::Group => ApiError::Invalid(
                    details
                        .into_iter()
                        .map(|mut d| {
                            if let Some(name) = d.name.as_deref().and_then(|n| n.strip_prefix("data.")) {
                                d.name = Some(name.to_owned());
                            }
                            d
                        })
                        .collect(),
                ),
                other => other,
            })?;
        Ok(match behavior {
            patch::Behavior::Full => self.object_response(200, &stored, &acl),
            partial => {
                let data = patch::partial_data(partial, &patched.requested, &existing.data, &stored.data);
                with_timestamp(ApiResponse::json(200, &json!({"data": Value::Object(data)})), stored.last_modified)
            }
        })
    }

    pub(super) fn delete_object(&mut self) -> Result<ApiResponse, ApiError> {
        self.parent_collection()?;
        let id = self.id().to_owned();
        let existing = self.live(&id)?;
        self.require_write_or_list_read(existing.as_ref())?;
        let params = self.call.params.clone()?;
        let preconditions = self.call.preconditions.clone()?;
        self.check_ancestor_ids()?;
        self.check_id(&id)?;
        let existing = existing.ok_or_else(|| self.not_found())?;
        self.object_preconditions(&preconditions, Some(&existing), false)?;
        let tombstone = self.remove(&existing, params.delete_last_modified)?;
        let body = json!({"data": Value::Object(tombstone.data.clone())});
        Ok(with_timestamp(ApiResponse::json(200, &body), tombstone.last_modified))
    }

    /// PATCH/DELETE: `write` on an existing object; for a missing one, list-level `read`
    /// reveals the 404, anything less is 401/403 (PERM-404-403).
    fn require_write_or_list_read(&mut self, existing: Option<&StoredObject>) -> Result<(), ApiError> {
        let place = self.place().clone();
        match existing {
            Some(_) => self.require(&place, "write"),
            // A missing bucket is only revealed to those who may write every bucket.
            None if place.kind == Kind::Bucket => self.require(&place, "write"),
            None if self.allowed_on_list("read")? => Ok(()),
            None => Err(self.deny()),
        }
    }

    pub(super) fn not_found(&self) -> ApiError {
        ApiError::ObjectNotFound { id: self.id().to_owned(), resource_name: self.place().kind.name() }
    }
}

/// `data.id`, when given, must be the URL id.
pub(super) fn check_body_id(data: &Map<String, Value>, id: &str) -> Result<(), ApiError> {
    match data.get("id") {
        Some(Value::String(given)) if given == id => Ok(()),
        None => Ok(()),
        Some(_) => Err(ApiError::invalid_body("id", "Object id does not match existing object")),
    }
}
