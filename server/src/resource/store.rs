//! Writing objects: timestamps requested by clients (TS-CLIENT-VALUE), per-kind validation,
//! the creator's write ACE (PERM-CREATOR), group memberships (PERM-GROUPS), and deletions with
//! their cascades (OBJ-TOMBSTONE, OBJ-CASCADE).

use serde_json::{Map, Value};

use super::Engine;
use crate::error::ApiError;
use crate::plugins::default_bucket::Implicit;
use crate::plugins::history::{self, Action};
use crate::resource::kind::{Kind, Place};
use crate::resource::{schema, validate};
use crate::storage::{Acl, Stamp, StoredObject};

impl Engine<'_> {
    /// Stores `data` as object `id` of this list. `acl` replaces the object's ACL when given,
    /// else the existing one is kept; the caller is then added to `write`.
    pub(super) fn save(
        &mut self,
        id: &str,
        existing: Option<&StoredObject>,
        data: Map<String, Value>,
        acl: Option<Acl>,
    ) -> Result<(StoredObject, Acl), ApiError> {
        let place = Place::object(self.place().kind, self.place().ancestors.clone(), id.to_owned());
        self.save_at(&place, existing, data, acl)
    }

    /// DB-IMPLICIT: creates the personal bucket and the addressed collection if missing,
    /// owned by the caller.
    pub(super) fn create_implicit(&mut self, implicit: &Implicit) -> Result<(), ApiError> {
        if let Some(bucket) = &implicit.bucket {
            if self.tx.get("", "bucket", bucket)?.filter(|b| !b.deleted).is_none() {
                self.save_at(&Place::object(Kind::Bucket, vec![], bucket.clone()), None, Map::new(), None)?;
            }
            if let Some(collection) = &implicit.collection {
                let parent = format!("/buckets/{bucket}");
                if self.tx.get(&parent, "collection", collection)?.filter(|c| !c.deleted).is_none() {
                    let place = Place::object(Kind::Collection, vec![bucket.clone()], collection.clone());
                    self.save_at(&place, None, Map::new(), None)?;
                }
            }
        }
        Ok(())
    }

    /// Stores `data` as the object at `place` (see [`Engine::save`]).
    pub(super) fn save_at(
        &mut self,
        place: &Place,
        existing: Option<&StoredObject>,
        mut data: Map<String, Value>,
        acl: Option<Acl>,
    ) -> Result<(StoredObject, Acl), ApiError> {
        let kind = place.kind;
        let id = place.id.as_deref().unwrap_or_default();
        let requested = data.remove("last_modified").and_then(|v| v.as_i64()).filter(|ts| plausible_timestamp(*ts));
        let stamp = match (requested, existing) {
            (Some(ts), Some(old)) if ts > old.last_modified => Stamp::Requested(ts),
            (Some(ts), None) => Stamp::Requested(ts),
            _ => Stamp::Now,
        };
        data.remove("id");
        validate::data(kind, &mut data)?;
        if self.settings.experimental_collection_schema_validation {
            self.validate_against_schemas(place, id, &mut data)?;
        }
        let members = (kind == Kind::Group).then(|| validate::member_list(&data));
        let uri = place.uri();
        let mut acl = match (acl, existing) {
            (Some(acl), _) => acl,
            (None, Some(_)) => self.tx.acl(&uri)?,
            (None, None) => Acl::new(),
        };
        if kind == Kind::Account {
            // An account is owned by itself, whoever creates or edits it (ACCT-CREATE).
            acl.entry("write".to_owned()).or_default().insert(crate::plugins::accounts::owner(id));
        } else if self.settings.explicit_permissions {
            acl.entry("write".to_owned()).or_default().insert(self.creator());
        }
        acl.retain(|_, principals| !principals.is_empty());
        self.track_attachment(place, existing, &data)?;
        let stored = self.tx.put(&place.parent_uri(), kind.name(), id, data, stamp)?;
        self.tx.set_acl(&uri, &acl)?;
        if let Some(members) = members {
            self.tx.set_group_members(&uri, &members)?;
        }
        if history::tracks(self.settings, kind) {
            let action = if existing.is_some() { Action::Update } else { Action::Create };
            history::record(self.tx, self.settings, self.call.user_id.as_deref(), place, action, &stored, &acl)?;
        }
        Ok((stored, acl))
    }

    /// SCHEMA-RECORD / SCHEMA-META: records follow their collection's `schema` (and get its
    /// timestamp as `schema`), then the bucket's `record:schema`; collections and groups follow
    /// the bucket's `collection:schema` / `group:schema`.
    fn validate_against_schemas(
        &mut self,
        place: &Place,
        id: &str,
        data: &mut Map<String, Value>,
    ) -> Result<(), ApiError> {
        let Some(bucket_id) = place.bucket_id().map(str::to_owned) else { return Ok(()) };
        let bucket_key = match place.kind {
            Kind::Record => "record:schema",
            Kind::Collection => "collection:schema",
            Kind::Group => "group:schema",
            _ => return Ok(()),
        };
        let mut object = data.clone();
        object.insert("id".into(), Value::String(id.to_owned()));
        if let (Kind::Record, Some(collection_id)) = (place.kind, place.ancestors.get(1)) {
            let parent = format!("/buckets/{bucket_id}");
            if let Some(collection) = self.tx.get(&parent, "collection", collection_id)?.filter(|c| !c.deleted) {
                // An empty schema validates everything, but still stamps (as Kinto).
                if let Some(schema @ Value::Object(map)) = collection.data.get("schema") {
                    if !map.is_empty() {
                        schema::validate(schema, &object)?;
                    }
                    data.insert("schema".into(), Value::from(collection.last_modified));
                }
            }
        }
        if place.kind == Kind::Bucket {
            return Ok(());
        }
        let bucket = self.tx.get("", "bucket", &bucket_id)?.filter(|b| !b.deleted);
        if let Some(schema @ Value::Object(map)) = bucket.as_ref().and_then(|b| b.data.get(bucket_key)) {
            if !map.is_empty() {
                match place.kind {
                    Kind::Record => schema::validate(schema, &object)?,
                    _ => schema::validate_meta(schema, &object)?,
                }
            }
        }
        Ok(())
    }

    /// Replaces object `id` by a tombstone and removes what hangs below it.
    pub(super) fn remove(&mut self, existing: &StoredObject, requested: Option<i64>) -> Result<StoredObject, ApiError> {
        let kind = self.place().kind;
        let place = Place::object(kind, self.place().ancestors.clone(), existing.id.clone());
        let stamp = match requested.filter(|ts| plausible_timestamp(*ts)) {
            Some(ts) if ts > existing.last_modified => Stamp::Requested(ts),
            _ => Stamp::Now,
        };
        let uri = place.uri();
        self.release_attachments(&place, existing)?;
        let tombstone = self.tx.delete(&place.parent_uri(), kind.name(), &existing.id, stamp)?;
        self.tx.set_acl(&uri, &Acl::new())?;
        // A deleted bucket takes its history with it; anything else leaves an entry.
        if history::tracks(self.settings, kind) && kind != Kind::Bucket {
            history::record(
                self.tx,
                self.settings,
                self.call.user_id.as_deref(),
                &place,
                Action::Delete,
                &tombstone,
                &Acl::new(),
            )?;
        }
        match kind {
            Kind::Bucket | Kind::Collection => self.tx.purge_below(&uri)?,
            Kind::Group => self.tx.set_group_members(&uri, &[])?,
            Kind::Record | Kind::Account | Kind::History => {}
        }
        Ok(tombstone)
    }
}

/// Client timestamps are honoured between the epoch and the year 9999; others are ignored
/// (the server assigns one), so no list can be pushed to the end of time.
fn plausible_timestamp(ts: i64) -> bool {
    (0..=253_402_300_799_999).contains(&ts)
}
