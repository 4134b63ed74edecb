//! The conflict inbox. A record changed on both sides since they last agreed — found by a pull
//! (the local record changed too) or by a push answered 412 — keeps both versions and the common
//! ancestor (the last agreed version) until the owner decides. The local record stays as it is
//! and is never pushed meanwhile; a later remote change just refreshes `theirs`, and the
//! conflict dissolves by itself if both sides come to hold the same content.
//!
//! Resolving writes the chosen version locally (through the engine) and sets the record's sync
//! state to "agreed on theirs": keeping theirs leaves nothing to push; keeping mine or a merge
//! leaves a local change that the next push sends with `If-Match: "<theirs' timestamp>"` (the
//! local checkpoint is moved back so that push sees it). If the remote changed again meanwhile,
//! that push is a new 412: nothing is ever overwritten blindly.

use serde::Serialize;
use serde_json::{Map, Value};

use super::local::{self, Collection};
use super::version;
use crate::error::ApiError;
use crate::settings::Settings;
use crate::storage::{ConflictRow, LinkRow, StorageResult, SyncState, Tx};

/// The reason of a conflict found by comparing versions.
pub const CONCURRENT_EDIT: &str = "concurrent_edit";

/// A state that no local timestamp matches: the local version is a change to push.
const PENDING_PUSH: i64 = -1;

/// Stores (or replaces) a conflict.
pub fn record(tx: &mut dyn Tx, conflict: &ConflictRow) -> StorageResult<()> {
    tracing::info!(link = %conflict.link_id, record = %conflict.record_id, reason = %conflict.reason, "sync conflict");
    tx.put_sync_conflict(conflict)
}

/// A new version of theirs arrived for a record in conflict: the conflict dissolves when both
/// sides now hold the same content (returns `true`), else it shows the newer `theirs`.
pub fn refresh(
    tx: &mut dyn Tx,
    mut conflict: ConflictRow,
    mine: (Value, i64),
    theirs: Value,
    theirs_ts: i64,
) -> StorageResult<bool> {
    let (mine, mine_ts) = mine;
    if version::same_content(&mine, &theirs) {
        tx.delete_sync_conflict(&conflict.link_id, &conflict.record_id)?;
        let state = SyncState {
            record_id: conflict.record_id.clone(),
            local_ts: mine_ts,
            remote_ts: Some(theirs_ts),
            base: theirs,
        };
        tx.put_sync_state(&conflict.link_id, &state)?;
        return Ok(true);
    }
    conflict.mine = mine;
    conflict.mine_ts = mine_ts;
    conflict.theirs = theirs;
    conflict.theirs_ts = Some(theirs_ts);
    tx.put_sync_conflict(&conflict)?;
    Ok(false)
}

/// A conflict as the inbox shows it (`mine` is the local record now).
#[derive(Debug, Clone, Serialize)]
pub struct ConflictView {
    pub record_id: String,
    /// The local version (fields, or `null` when deleted here) and its local timestamp.
    pub mine: Value,
    pub mine_last_modified: i64,
    /// The remote version (`null`: deleted there) and its remote timestamp.
    pub theirs: Value,
    pub theirs_last_modified: Option<i64>,
    /// The last version both sides agreed on (`null` when deleted; absent when none).
    pub base: Option<Value>,
    pub reason: String,
    pub detected_at: i64,
}

/// The conflicts of a link.
pub fn list(tx: &mut dyn Tx, link: &LinkRow) -> StorageResult<Vec<ConflictView>> {
    let collection = super::link::local_of(link);
    let mut views = Vec::new();
    for conflict in tx.sync_conflicts(&link.id)? {
        let (mine, mine_ts) = match local::get(tx, &collection, &conflict.record_id)? {
            Some(object) => (version::of_local(&object), object.last_modified),
            None => (conflict.mine.clone(), conflict.mine_ts),
        };
        views.push(ConflictView {
            record_id: conflict.record_id,
            mine,
            mine_last_modified: mine_ts,
            theirs: conflict.theirs,
            theirs_last_modified: conflict.theirs_ts,
            base: conflict.base,
            reason: conflict.reason,
            detected_at: conflict.detected_at,
        });
    }
    Ok(views)
}

/// What the owner chose.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    Mine,
    Theirs,
    /// A version the UI built (fields of the record).
    Merge(Map<String, Value>),
}

impl Resolution {
    /// From `{"resolution": "mine"|"theirs"|"merge", "data": {...}}`.
    pub fn parse(body: &Value) -> Result<Resolution, ApiError> {
        let invalid = |name: &str, text: &str| ApiError::invalid_body(name, text);
        let Some(body) = body.as_object() else { return Err(invalid("", "Should be a JSON object")) };
        if let Some(extra) = body.keys().find(|k| !matches!(k.as_str(), "resolution" | "data")) {
            return Err(invalid(extra, "Unknown field"));
        }
        match (body.get("resolution").and_then(Value::as_str), body.get("data")) {
            (Some("mine"), None) => Ok(Resolution::Mine),
            (Some("theirs"), None) => Ok(Resolution::Theirs),
            (Some("merge"), Some(Value::Object(data))) => Ok(Resolution::Merge(version::fields(data))),
            (Some("merge"), _) => Err(invalid("data", "A merge needs the merged record as a JSON object")),
            (Some("mine" | "theirs"), Some(_)) => Err(invalid("data", "Only a merge takes data")),
            _ => Err(invalid("resolution", "Should be one of mine, theirs, merge")),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Resolution::Mine => "mine",
            Resolution::Theirs => "theirs",
            Resolution::Merge(_) => "merge",
        }
    }
}

/// What a resolution did.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub record_id: String,
    pub resolution: &'static str,
    /// The version now held locally (`null`: deleted).
    pub data: Value,
    /// Whether the next push sends it (the remote holds something else).
    pub push: bool,
    /// Attachment files the resolution left unused (see [`local::remove_unused_files`]).
    #[serde(skip)]
    pub unused_files: Vec<String>,
}

/// Settles a conflict in one transaction (see the module doc).
pub fn resolve(
    tx: &mut dyn Tx,
    settings: &Settings,
    link: &LinkRow,
    record_id: &str,
    resolution: Resolution,
) -> Result<Resolved, ApiError> {
    let not_found = || ApiError::ObjectNotFound { id: record_id.to_owned(), resource_name: "conflict" };
    let conflict = tx.sync_conflict(&link.id, record_id)?.ok_or_else(not_found)?;
    let collection: Collection = super::link::local_of(link);
    let (mine, mine_ts) = match local::get(tx, &collection, record_id)? {
        Some(object) => (version::of_local(&object), object.last_modified),
        None => (Value::Null, 0),
    };
    let name = resolution.name();
    let chosen = match resolution {
        Resolution::Mine => mine.clone(),
        Resolution::Theirs => conflict.theirs.clone(),
        Resolution::Merge(data) => Value::Object(data),
    };
    let mut unused_files = Vec::new();
    let local_ts = if version::same_content(&chosen, &mine) {
        mine_ts
    } else {
        local::write(tx, settings, &collection, record_id, &chosen, &mut unused_files)?
    };
    let push = !version::same_content(&chosen, &conflict.theirs);
    let state = SyncState {
        record_id: record_id.to_owned(),
        local_ts: if push { PENDING_PUSH } else { local_ts },
        remote_ts: conflict.theirs_ts,
        base: conflict.theirs.clone(),
    };
    tx.put_sync_state(&link.id, &state)?;
    if push {
        // The local version may be older than what push already went past.
        let current = tx.sync_link(&link.id)?.map_or(0, |l| l.local_checkpoint);
        let before = local_ts.saturating_sub(1).max(0);
        if before < current {
            tx.set_sync_checkpoints(&link.id, None, Some(before))?;
        }
    }
    tx.delete_sync_conflict(&link.id, record_id)?;
    tracing::info!(link = %link.id, record = %record_id, resolution = name, push, "sync conflict resolved");
    Ok(Resolved { record_id: record_id.to_owned(), resolution: name, data: chosen, push, unused_files })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resolutions_parse_strictly() {
        assert_eq!(Resolution::parse(&json!({"resolution": "mine"})).ok(), Some(Resolution::Mine));
        assert_eq!(Resolution::parse(&json!({"resolution": "theirs"})).ok(), Some(Resolution::Theirs));
        let merged =
            Resolution::parse(&json!({"resolution": "merge", "data": {"a": 1, "id": "x", "last_modified": 2}}));
        assert_eq!(merged.ok(), Some(Resolution::Merge(json!({"a": 1}).as_object().cloned().unwrap_or_default())));
        for bad in [
            json!({"resolution": "merge"}),
            json!({"resolution": "mine", "data": {}}),
            json!({"resolution": "both"}),
            json!({"resolution": "mine", "extra": 1}),
            json!([]),
        ] {
            assert!(matches!(Resolution::parse(&bad), Err(ApiError::Invalid(_))), "{bad}");
        }
    }
}
