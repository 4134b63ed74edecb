//! Pull: the remote's changes since the link's remote checkpoint
//! (`GET records?_since=<checkpoint>&_sort=last_modified`, tombstones included, oldest first),
//! following `Next-Page`. Each page is applied in ONE local write transaction together with the
//! records' sync state and the new checkpoint (the page's newest timestamp): after a crash or a
//! network cut the next pull starts after the last applied page, so nothing is lost or applied
//! twice. The files of the page's attachments are fetched first ([`super::files`]).
//!
//! For each remote object, with the record's sync state (what both sides last agreed on):
//! * its timestamp is the one we know (our own push coming back, or already applied) → skip;
//! * the record is in conflict → the conflict's `theirs` is refreshed (or it dissolves);
//! * it holds the agreed content (the base) → only its timestamp is recorded;
//! * the local record is unchanged since the last agreement → the remote version is written
//!   locally through the engine (a put, or a delete leaving a tombstone);
//! * the local record changed too → the same content means agreement; anything else is a
//!   conflict: both versions and the base go to the inbox, the local record is left untouched.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::conflicts::{self, CONCURRENT_EDIT};
use super::local::{self, Collection};
use super::progress::Progress;
use super::runner::Context;
use super::{SyncError, files, version};
use crate::error::ApiError;
use crate::settings::Settings;
use crate::storage::{ConflictRow, SyncState, Tx};

/// What happened to one remote object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Already known (an echo of our push, or applied before).
    Known,
    /// Written locally.
    Applied,
    /// Both sides hold the same content.
    Agreed,
    /// In the conflict inbox.
    Conflict,
    /// A tombstone of a record never seen here.
    Nothing,
}

/// What one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageReport {
    pub applied: u64,
    pub known: u64,
    pub agreed: u64,
    pub conflicts: u64,
}

impl PageReport {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Applied => self.applied += 1,
            Outcome::Known | Outcome::Nothing => self.known += 1,
            Outcome::Agreed => self.agreed += 1,
            Outcome::Conflict => self.conflicts += 1,
        }
    }
}

/// A record-level refusal of the local engine (the rest of the page goes on): the version
/// breaks the local schema, a malformed id, an attachment it cannot take.
fn refused_here(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::Invalid(_) | ApiError::BadRequest(_) | ApiError::InvalidPostedData(_) | ApiError::AttachmentImmutable
    )
}

/// Applies one remote object (see the module doc).
pub fn apply_one(
    tx: &mut dyn Tx,
    settings: &Settings,
    (link_id, collection): (&str, &Collection),
    object: &Map<String, Value>,
    unused_files: &mut Vec<String>,
) -> Result<Outcome, SyncError> {
    let (Some(id), Some(remote_ts)) =
        (object.get("id").and_then(Value::as_str), object.get("last_modified").and_then(Value::as_i64))
    else {
        return Ok(Outcome::Nothing);
    };
    let theirs = version::of_remote(object);
    let state = tx.sync_state(link_id, id)?;
    if state.as_ref().and_then(|s| s.remote_ts).is_some_and(|known| remote_ts <= known) {
        return Ok(Outcome::Known);
    }
    let (mine, local_ts) = match local::get(tx, collection, id)? {
        Some(object) => (version::of_local(&object), object.last_modified),
        None => (Value::Null, 0),
    };
    if let Some(conflict) = tx.sync_conflict(link_id, id)? {
        let dissolved = conflicts::refresh(tx, conflict, (mine, local_ts), theirs, remote_ts)?;
        return Ok(if dissolved { Outcome::Agreed } else { Outcome::Conflict });
    }
    if let Some(state) = state.as_ref().filter(|s| version::same_content(&theirs, &s.base)) {
        // The remote holds the agreed content (e.g. the tombstone of a delete we agreed on):
        // only its timestamp is news.
        tx.put_sync_state(link_id, &SyncState { remote_ts: Some(remote_ts), ..state.clone() })?;
        return Ok(Outcome::Known);
    }
    let unchanged_here = match &state {
        Some(state) => state.local_ts == local_ts,
        None => mine.is_null(),
    };
    let agreed =
        |local_ts: i64, base: Value| SyncState { record_id: id.to_owned(), local_ts, remote_ts: Some(remote_ts), base };
    let conflict = |mine: Value, reason: String| ConflictRow {
        link_id: link_id.to_owned(),
        record_id: id.to_owned(),
        mine,
        mine_ts: local_ts,
        theirs: theirs.clone(),
        theirs_ts: Some(remote_ts),
        base: state.as_ref().map(|s| s.base.clone()),
        reason,
        detected_at: crate::storage::sqlite::now_ms(),
    };
    if unchanged_here {
        if state.is_none() && theirs.is_null() {
            return Ok(Outcome::Nothing);
        }
        return match local::write(tx, settings, collection, id, &theirs, unused_files) {
            Ok(written_ts) => {
                tx.put_sync_state(link_id, &agreed(written_ts, theirs.clone()))?;
                Ok(Outcome::Applied)
            }
            Err(err) if refused_here(&err) => {
                let message = err.body("").get("message").and_then(Value::as_str).unwrap_or("invalid").to_owned();
                conflicts::record(tx, &conflict(mine, format!("refused here: {message}")))?;
                Ok(Outcome::Conflict)
            }
            Err(err) => Err(SyncError::Local(err)),
        };
    }
    if version::same_content(&mine, &theirs) {
        tx.put_sync_state(link_id, &agreed(local_ts, theirs.clone()))?;
        return Ok(Outcome::Agreed);
    }
    conflicts::record(tx, &conflict(mine, CONCURRENT_EDIT.to_owned()))?;
    Ok(Outcome::Conflict)
}

/// Applies a page and moves the remote checkpoint to its newest timestamp (one transaction).
/// Also returns the attachment files the page left unused (to remove after the commit).
pub fn apply_page(
    tx: &mut dyn Tx,
    settings: &Settings,
    link_id: &str,
    collection: &Collection,
    objects: &[Map<String, Value>],
) -> Result<(PageReport, Vec<String>), SyncError> {
    let mut report = PageReport::default();
    let mut unused_files = Vec::new();
    for object in objects {
        report.count(apply_one(tx, settings, (link_id, collection), object, &mut unused_files)?);
    }
    let newest = objects.iter().filter_map(|o| o.get("last_modified").and_then(Value::as_i64)).max();
    let current = tx.sync_link(link_id)?.ok_or_else(|| SyncError::UnknownLink(link_id.to_owned()))?;
    if let Some(newest) = newest.filter(|n| *n > current.remote_checkpoint) {
        tx.set_sync_checkpoints(link_id, Some(newest), None)?;
    }
    Ok((report, unused_files))
}

/// Pulls every remote change after the checkpoint; the totals.
pub async fn pull(context: &Context, progress: &Progress) -> Result<PageReport, SyncError> {
    let link = &context.link;
    let client = &context.client;
    let since = context.store.read(remote_checkpoint(link.id.clone())).await?;
    if let Ok(Some(total)) = client.count_changes(&link.remote_bucket, &link.remote_collection, since).await {
        progress.set_total(total);
    }
    let mut url = client.changes_url(&link.remote_bucket, &link.remote_collection, since, context.page_size);
    let mut totals = PageReport::default();
    let mut hello = None;
    loop {
        let page = client.page(&url).await?;
        let count = page.objects.len() as u64;
        files::fetch_page_files(context, &mut hello, &page.objects).await?;
        let settings: Arc<Settings> = context.settings.clone();
        let (link_id, collection) = (link.id.clone(), context.local.clone());
        let objects = page.objects;
        let page_settings = settings.clone();
        let (report, unused_files) =
            context.store.write(move |tx| apply_page(tx, &page_settings, &link_id, &collection, &objects)).await?;
        local::remove_unused_files(&context.store, settings, unused_files).await;
        totals.applied += report.applied;
        totals.known += report.known;
        totals.agreed += report.agreed;
        totals.conflicts += report.conflicts;
        progress.pulled_page(count, report.conflicts);
        match page.next {
            Some(next) if count > 0 => url = next,
            _ => break,
        }
    }
    Ok(totals)
}

/// Reads a link's remote checkpoint.
fn remote_checkpoint(link_id: String) -> impl FnOnce(&mut dyn Tx) -> Result<i64, SyncError> + Send + 'static {
    move |tx| tx.sync_link(&link_id)?.map(|l| l.remote_checkpoint).ok_or(SyncError::UnknownLink(link_id))
}
