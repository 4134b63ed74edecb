//! Attachments follow their records. Kinto keeps only a record's `attachment` metadata
//! (`filename`, `location`, `hash`, `mimetype`, `size`); the file lives on each server (here in
//! the content-addressed store, found by its SHA-256). So each side gets its own copy:
//!
//! * pull ([`fetch_page_files`]): before a page is applied, every remote record whose file is not
//!   stored here yet has it downloaded (its `location`, resolved against the remote's
//!   `capabilities.attachments.base_url`), checked against `hash` and `size`, and stored; the
//!   local write then points the record at this copy
//!   ([`crate::resource::attach::localize`]). A file that cannot be had (gone there, another
//!   hash, too big) leaves its record refused here, in the conflict inbox, like any version this
//!   server cannot take; an unreachable remote fails the sync, which is tried again later.
//! * push ([`remote_field`]): a record whose file the remote does not hold (its agreed version has
//!   no file or another one) first uploads the file, with the record's fields, to the remote
//!   record's attachment endpoint — `If-Match` the agreed timestamp (`If-None-Match: *` for a
//!   new record), after checking that timestamp with a GET because kinto-attachment ignores
//!   preconditions there — and the batch `PUT` then carries the field the remote answered.
//!   A record whose file the remote holds already carries the remote's own field.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::client::{AttachmentFile, ClientError, Hello, KintoClient};
use super::runner::Context;
use super::{SyncError, version};
use crate::plugins::attachments::config::split_extension;
use crate::plugins::attachments::{AttachmentConfig, FileStore, StoredFile};
use crate::resource::attach;

/// The largest file fetched when the local settings set no limit (files are held in memory).
const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// The local file store of the link's collection (`None`: the attachments plugin is off, the
/// fields are then copied as they are).
fn local_store(context: &Context) -> Option<(FileStore, AttachmentConfig)> {
    if !attach::enabled(&context.settings) {
        return None;
    }
    let config = AttachmentConfig::from_settings(&context.settings)
        .for_collection(&context.local.bucket, &context.local.collection);
    Some((attach::file_store(&context.settings, &config), config))
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, SyncError> {
    let local_error = |reason: String| SyncError::Local(crate::error::ApiError::Backend(reason));
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| local_error(format!("attachment file task: {e}")))?
        .map_err(|e| local_error(format!("attachment file store: {e}")))
}

/// Stores here the files of a page's records that are not here yet (see the module doc).
/// `hello` is asked of the remote at most once per sync, when a file is needed.
pub async fn fetch_page_files(
    context: &Context,
    hello: &mut Option<Hello>,
    objects: &[Map<String, Value>],
) -> Result<(), SyncError> {
    let Some((store, config)) = local_store(context) else {
        return Ok(());
    };
    for object in objects {
        let Some(field) = version::attachment(&version::of_remote(object)).cloned() else { continue };
        let (Some(hash), Some(location)) =
            (field.get("hash").and_then(Value::as_str), field.get("location").and_then(Value::as_str))
        else {
            continue;
        };
        let (finder, wanted) = (store.clone(), hash.to_owned());
        if blocking(move || finder.find(&wanted)).await?.is_some() {
            continue;
        }
        if hello.is_none() {
            *hello = Some(context.client.hello().await?);
        }
        let base_url = hello.as_ref().and_then(|h| h.attachments_base_url.as_deref());
        let record = object.get("id").and_then(Value::as_str).unwrap_or_default();
        let Some(url) = context.client.attachment_url(location, base_url) else {
            tracing::warn!(link = %context.link.id, record, location, "an attachment location without a base URL");
            continue;
        };
        let max = if config.max_size_bytes > 0 { config.max_size_bytes } else { DEFAULT_MAX_BYTES };
        match fetch(&context.client, &url, &field, max).await {
            Ok(bytes) => {
                let (keeper, extension) = (store.clone(), file_extension(&field, location));
                let stored: StoredFile = blocking(move || keeper.store(&bytes, extension.as_deref())).await?;
                tracing::debug!(link = %context.link.id, record, location = %stored.location, "attachment fetched");
            }
            Err(err) if transient(&err) => return Err(SyncError::Remote(err)),
            Err(err) => tracing::warn!(link = %context.link.id, record, %err, "an attachment could not be fetched"),
        }
    }
    Ok(())
}

/// Downloads a file and checks it against its field's `hash` and `size`.
async fn fetch(client: &KintoClient, url: &str, field: &Map<String, Value>, max: u64) -> Result<Vec<u8>, ClientError> {
    let bytes = client.download(url, max).await?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let size_ok = field.get("size").and_then(Value::as_u64).is_none_or(|size| size == bytes.len() as u64);
    let hash_ok = field.get("hash").and_then(Value::as_str).is_some_and(|h| h.eq_ignore_ascii_case(&hash));
    if hash_ok && size_ok {
        Ok(bytes)
    } else {
        Err(ClientError::Protocol {
            url: url.to_owned(),
            reason: format!("the file's hash is {hash}, not the record's"),
        })
    }
}

/// Failures worth failing the whole sync for (tried again later), unlike a missing file.
fn transient(err: &ClientError) -> bool {
    match err {
        ClientError::Unreachable { .. } => true,
        ClientError::Status { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}

/// The extension to store a file under: the filename's, else the remote location's.
fn file_extension(field: &Map<String, Value>, location: &str) -> Option<String> {
    let filename = field.get("filename").and_then(Value::as_str).unwrap_or_default();
    [filename, location.rsplit('/').next().unwrap_or_default()]
        .into_iter()
        .map(|name| split_extension(name).trim_start_matches('.'))
        .find(|ext| !ext.is_empty())
        .map(str::to_owned)
}

/// What the remote record's `attachment` field is to be in a push.
#[derive(Debug)]
pub enum RemoteField {
    /// The remote holds the file already: send this field (its own).
    Held(Value),
    /// Uploaded just now: send this field with `If-Match` this new remote timestamp.
    Uploaded { field: Value, remote_ts: i64 },
    /// Not uploaded: an answer to treat like a batch write's (412 with `details.existing`,
    /// another 4xx with a `message`, 401/403/5xx).
    Answered { status: u16, body: Value },
}

/// Makes sure the remote holds the file of `mine` (a local version with an `attachment`) before
/// it is pushed; `base` is the agreed version (the remote's form), `if_match` its remote
/// timestamp (`None`: the remote has no live version). See the module doc.
pub async fn remote_field(
    context: &Context,
    hello: &Hello,
    id: &str,
    (mine, base): (&Value, Option<&Value>),
    if_match: Option<i64>,
) -> Result<RemoteField, SyncError> {
    let refused = |message: String| RemoteField::Answered { status: 400, body: json!({ "message": message }) };
    let Some(field) = version::attachment(mine) else {
        return Ok(RemoteField::Held(Value::Null));
    };
    if let Some(held) = base.and_then(version::attachment).filter(|held| version::same_attachment(held, field)) {
        return Ok(RemoteField::Held(Value::Object(held.clone())));
    }
    let Some(hash) = field.get("hash").and_then(Value::as_str) else {
        // Not a file of this server (no hash): the field goes as it is.
        return Ok(RemoteField::Held(Value::Object(field.clone())));
    };
    if !hello.attachments {
        return Ok(refused("the remote server does not take attachments".into()));
    }
    let Some((store, _)) = local_store(context) else {
        return Ok(RemoteField::Held(Value::Object(field.clone())));
    };
    let wanted = hash.to_owned();
    let Some(bytes) = blocking(move || match store.find(&wanted)? {
        Some(stored) => store.read(&stored.location).map(Some),
        None => Ok(None),
    })
    .await?
    else {
        return Ok(refused(format!("the attachment's file ({hash}) is missing on this server")));
    };
    let (bucket, collection) = (&context.link.remote_bucket, &context.link.remote_collection);
    // kinto-attachment ignores If-Match on its endpoint: check the agreed version is still there.
    let now = context.client.get_record(bucket, collection, id).await?;
    let now_ts = now.as_ref().and_then(|r| r.get("last_modified")).and_then(Value::as_i64);
    if now_ts != if_match {
        let details = now.map_or_else(|| json!({}), |existing| json!({ "existing": existing }));
        return Ok(RemoteField::Answered { status: 412, body: json!({ "details": details }) });
    }
    let file = AttachmentFile {
        filename: field.get("filename").and_then(Value::as_str).unwrap_or("attachment").to_owned(),
        mimetype: field.get("mimetype").and_then(Value::as_str).unwrap_or("application/octet-stream").to_owned(),
        bytes,
    };
    let data: Map<String, Value> = mine
        .as_object()
        .map(|fields| fields.iter().filter(|(k, _)| k.as_str() != "attachment").map(|(k, v)| (k.clone(), v.clone())))
        .into_iter()
        .flatten()
        .collect();
    let (status, headers, body) =
        context.client.upload_attachment((bucket, collection, id), file, &data, if_match).await?;
    if !(200..300).contains(&status) {
        return Ok(RemoteField::Answered { status, body });
    }
    let remote_ts = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_matches('"').parse::<i64>().ok())
        .ok_or_else(|| ClientError::Protocol {
            url: context.client.base().to_owned(),
            reason: "an upload's answer has no ETag".into(),
        })?;
    if !body.is_object() {
        return Err(ClientError::Protocol {
            url: context.client.base().to_owned(),
            reason: "an upload's answer is not the attachment".into(),
        }
        .into());
    }
    Ok(RemoteField::Uploaded { field: body, remote_ts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_keep_the_extension_of_their_name_or_location() {
        let field = |name: &str| json!({ "filename": name }).as_object().cloned().unwrap_or_default();
        assert_eq!(file_extension(&field("photo.JPG"), "ab/x").as_deref(), Some("JPG"));
        assert_eq!(file_extension(&field("notes"), "ab/abc.txt").as_deref(), Some("txt"));
        assert_eq!(file_extension(&field("notes"), "ab/abc"), None);
    }

    #[test]
    fn only_unreachable_remotes_and_server_errors_fail_the_sync() {
        let url = String::from("u");
        assert!(transient(&ClientError::Unreachable { url: url.clone(), reason: "cut".into() }));
        assert!(transient(&ClientError::Status { url: url.clone(), status: 503, message: String::new() }));
        assert!(!transient(&ClientError::NotFound { url: url.clone() }));
        assert!(!transient(&ClientError::Protocol { url, reason: "hash".into() }));
    }
}
