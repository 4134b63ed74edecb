//! The attachment endpoint's record updates (ATT-POST, ATT-DELETE) and the lifecycle of
//! stored files (ATT-LIFECYCLE): files are content-addressed and shared, so the engine counts
//! the records using each one; a file nobody uses any more is an orphan, removed after the
//! transaction commits.

use serde_json::{Map, Value};

use super::Engine;
use super::body;
use super::respond::with_timestamp;
use crate::error::ApiError;
use crate::http::message::ApiResponse;
use crate::plugins::attachments::{self, AttachmentConfig, FileStore, Upload};
use crate::resource::kind::{Kind, Place};
use crate::settings::Settings;
use crate::storage::{Acl, StoredObject};

/// What the attachment endpoint asks of a record.
#[derive(Debug, Clone)]
pub enum AttachmentOp {
    /// Only check that the caller may write the record (before reading the upload).
    Authorize,
    /// Store the file and set the record's `attachment`.
    Upload(Box<Upload>),
    /// Set the record's `attachment` to null.
    Remove,
}

/// Whether the attachments plugin is on.
pub fn enabled(settings: &Settings) -> bool {
    settings.includes("kinto_attachment") || settings.includes("attachments")
}

/// The file store of these settings.
pub fn file_store(settings: &Settings, config: &AttachmentConfig) -> FileStore {
    match &config.base_path {
        Some(path) => FileStore::at(path.clone()),
        None => FileStore::new(&settings.data_dir.clone().unwrap_or_default()),
    }
}

/// The settings that apply below `place` (a record, collection or bucket).
fn config_for(settings: &Settings, place: &Place) -> AttachmentConfig {
    let config = AttachmentConfig::from_settings(settings);
    match (place.bucket_id(), place.kind, place.ancestors.get(1)) {
        (Some(bucket), Kind::Record, Some(collection)) => config.for_collection(bucket, collection),
        (Some(bucket), Kind::Collection, _) => config.for_collection(bucket, place.id.as_deref().unwrap_or_default()),
        (Some(bucket), _, _) => config.for_bucket(bucket),
        _ => config,
    }
}

/// The stored file behind a record's `attachment`, if Kintoun stores it.
fn location_of(attachment: Option<&Value>, config: &AttachmentConfig) -> Option<String> {
    attachments::field_location(attachment?, config).map(str::to_owned)
}

impl Engine<'_> {
    /// POST/DELETE on `.../records/{rid}/attachment`.
    pub(super) fn attachment(&mut self, op: &AttachmentOp) -> Result<ApiResponse, ApiError> {
        let place = self.place().clone();
        self.parent_collection()?;
        let id = self.id().to_owned();
        let existing = self.live(&id)?;
        if existing.is_some() {
            self.require(&place, "write")?;
        } else if !self.allowed_to_create()? {
            return Err(self.deny());
        }
        self.check_id(&id)?;
        // Kinto-attachment ignores If-Match / If-None-Match here (QUIRK-ATT-PRECOND); honouring
        // them lets a replicator replace a file without overwriting a concurrent edit.
        let preconditions = self.call.preconditions.clone()?;
        self.object_preconditions(&preconditions, existing.as_ref(), false)?;
        let mut data = existing.as_ref().map(|e| e.data.clone()).unwrap_or_default();
        let acl = match &existing {
            Some(_) => Some(self.tx.acl(&place.uri())?),
            None => None,
        };
        match op {
            AttachmentOp::Authorize => Ok(ApiResponse::empty(204)),
            AttachmentOp::Remove => {
                data.insert("attachment".into(), Value::Null);
                let (stored, _) = self.save(&id, existing.as_ref(), data, acl)?;
                Ok(with_timestamp(ApiResponse::empty(204), stored.last_modified))
            }
            AttachmentOp::Upload(upload) => {
                if let Some(data) = &upload.data {
                    super::object::check_body_id(data, &id)?;
                }
                let config = config_for(self.settings, &place);
                let store = file_store(self.settings, &config);
                let stored_file = store
                    .store(&upload.bytes, upload.stored_extension().as_deref())
                    .map_err(|e| ApiError::Backend(format!("cannot store the attachment: {e}")))?;
                let outcome = self.attach_file(&id, existing.as_ref(), (data, acl), upload, &stored_file, &config);
                if outcome.is_err() && self.tx.attachment_refs(&stored_file.location, 0)? == 0 {
                    // The record was not updated: a file no record uses must not stay behind.
                    if let Err(err) = store.remove(&stored_file.location) {
                        tracing::warn!(%err, "could not remove an unused upload");
                    }
                }
                outcome
            }
        }
    }

    /// Sets the uploaded file as the record's attachment: its `data` part merged into the
    /// record (PATCH semantics, or PUT to create), its `permissions` part replacing ACEs.
    fn attach_file(
        &mut self,
        id: &str,
        existing: Option<&StoredObject>,
        (mut data, mut acl): (Map<String, Value>, Option<Acl>),
        upload: &Upload,
        stored_file: &attachments::StoredFile,
        config: &AttachmentConfig,
    ) -> Result<ApiResponse, ApiError> {
        // Relative locations unless a base URL is configured: they survive a port change;
        // clients resolve them with the capability's base_url.
        let base = config.base_url.clone().unwrap_or_default();
        let field = attachments::attachment_field(upload, stored_file, &base);
        for (key, value) in upload.data.iter().flatten() {
            data.insert(key.clone(), value.clone());
        }
        data.insert("attachment".into(), field.clone());
        if let Some(permissions) = &upload.permissions {
            let mut merged = acl.unwrap_or_default();
            for (name, principals) in body::permissions(permissions, Kind::Record)? {
                if let Some(principals) = principals {
                    merged.insert(name, principals.into_iter().collect());
                }
            }
            acl = Some(merged);
        }
        let (stored, _) = self.save(id, existing, data, acl)?;
        let status = if existing.is_some() { 200 } else { 201 };
        let location = self.call.url.trim_end_matches("/attachment").to_owned();
        let response = ApiResponse::json(status, &field).with_header("location", location);
        Ok(with_timestamp(response, stored.last_modified))
    }

    /// On every record write: a changed `attachment` moves the file references; outside the
    /// attachment endpoint, an attachment may only be removed, not replaced (ATT-LIFECYCLE).
    pub(super) fn track_attachment(
        &mut self,
        place: &Place,
        existing: Option<&StoredObject>,
        data: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        if place.kind != Kind::Record || !enabled(self.settings) {
            return Ok(());
        }
        let old = existing.and_then(|e| e.data.get("attachment")).filter(|v| !v.is_null());
        let new = data.get("attachment").filter(|v| !v.is_null());
        // The replicator copies versions from another server, after storing their files here.
        let replicating = self.call.user_id.as_deref() == Some(crate::sync::REPLICATOR);
        if self.call.attachment.is_none() && !replicating {
            if let (Some(old), Some(new)) = (old, new) {
                if old != new {
                    return Err(ApiError::AttachmentImmutable);
                }
            }
        }
        let config = config_for(self.settings, place);
        let (old, new) = (location_of(old, &config), location_of(new, &config));
        if old != new {
            if let Some(new) = &new {
                self.tx.attachment_refs(new, 1)?;
            }
            if let Some(old) = old {
                self.release_file(old, &config)?;
            }
        }
        Ok(())
    }

    /// When a record, collection or bucket goes, its files lose a reference.
    pub(super) fn release_attachments(&mut self, place: &Place, object: &StoredObject) -> Result<(), ApiError> {
        if !enabled(self.settings) {
            return Ok(());
        }
        let config = config_for(self.settings, place);
        match place.kind {
            Kind::Record => {
                if let Some(location) = location_of(object.data.get("attachment"), &config) {
                    self.release_file(location, &config)?;
                }
            }
            Kind::Collection | Kind::Bucket => {
                for location in self.tx.attachments_below(&place.uri())? {
                    if let Some(stored) = attachments::stored_location(&location, &config) {
                        self.release_file(stored.to_owned(), &config)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn release_file(&mut self, location: String, config: &AttachmentConfig) -> Result<(), ApiError> {
        if self.tx.attachment_refs(&location, -1)? == 0 && !config.keep_old_files {
            self.orphans.push(location);
        }
        Ok(())
    }
}

/// Removes the files that no record uses any more (run as a write job after the commit that
/// released them, so that a concurrent upload of the same content, which re-stores its file
/// inside its own job, cannot lose it).
pub fn collect_orphans(
    tx: &mut dyn crate::storage::Tx,
    settings: &Settings,
    orphans: &[String],
) -> Result<(), ApiError> {
    let config = AttachmentConfig::from_settings(settings);
    let store = file_store(settings, &config);
    for location in orphans {
        if tx.attachment_refs(location, 0)? == 0 {
            if let Err(err) = store.remove(location) {
                tracing::warn!(%err, location, "could not remove an attachment file");
            }
        }
    }
    Ok(())
}

/// A record's `attachment` field (from another server) pointing at this server's copy of its
/// file, found by its `hash`: what the replicator writes locally. Without the plugin the field
/// is kept as it is; a field without a hash (not kinto-attachment's) too. Blocking I/O.
pub fn localize(settings: &Settings, bucket: &str, collection: &str, field: &Value) -> Result<Value, ApiError> {
    let (Some(object), true) = (field.as_object(), enabled(settings)) else {
        return Ok(field.clone());
    };
    let Some(hash) = object.get("hash").and_then(Value::as_str) else {
        return Ok(field.clone());
    };
    let config = AttachmentConfig::from_settings(settings).for_collection(bucket, collection);
    let store = file_store(settings, &config);
    let stored = store
        .find(hash)
        .map_err(|e| ApiError::Backend(format!("cannot look for attachment {hash}: {e}")))?
        .ok_or_else(|| ApiError::BadRequest(format!("The attachment's file ({hash}) is not on this server.")))?;
    Ok(attachments::relocated_field(object, &stored, config.base_url.as_deref().unwrap_or_default()))
}

/// `capabilities.attachments`.
pub fn capability(settings: &Settings, origin: &str) -> Value {
    attachments::capability(&AttachmentConfig::from_settings(settings).capability_base_url(origin))
}
