//! Push (links in direction `both` only): local changes after the link's local checkpoint,
//! tombstones included, oldest first, go to the remote in `/batch` requests of at most the
//! remote's `batch_max_requests` writes.
//!
//! A local change is skipped when its timestamp is the one in the record's sync state (the
//! pull wrote it, or it was pushed already), when the record is in conflict (it waits for the
//! owner), or when it holds the agreed content anyway. Otherwise it is sent with
//! `If-Match: "<remote timestamp of the agreed version>"`, or `If-None-Match: *` for a record
//! the remote has no live version of. The answers:
//! * 2xx → the pushed version is the new agreed one (with the remote's new timestamp, which
//!   the next pull then recognises as our own echo);
//! * 412 → a conflict, `theirs` from the 412 body's `details.existing` (absent: deleted there),
//!   unless that holds the same content (agreement);
//! * 404 on a delete → it was deleted there already: agreed;
//! * another 4xx for one record → a conflict with the remote's refusal as its reason;
//! * 401/403 or a 5xx → the push stops with an error.
//!
//! A record with an attachment whose file the remote does not hold uploads it first
//! ([`super::files`]); a refused upload is answered like a refused write.
//!
//! The local checkpoint only moves past changes that were handled, in order.

use serde_json::Value;

use super::client::{BatchOp, Hello};
use super::files::{self, RemoteField};
use super::local::{self, Collection};
use super::progress::Progress;
use super::runner::Context;
use super::{ClientError, SyncError, conflicts, version};
use crate::storage::{ConflictRow, SyncState, Tx};

/// Local changes looked at per read.
const SCAN: usize = 1000;
/// Writes per batch when the remote does not say.
const DEFAULT_BATCH: usize = 25;

/// What to do with one local change.
#[derive(Debug, Clone)]
enum Step {
    /// Nothing to send, nothing to record.
    Skip,
    /// Nothing to send; the agreed state now names this local timestamp.
    Touch(SyncState),
    /// Send `op`; `mine` is the version sent, `state` the record's state before.
    Send { op: BatchOp, mine: Value, state: Option<SyncState> },
}

/// One local change and what to do with it.
#[derive(Debug, Clone)]
struct Change {
    id: String,
    local_ts: i64,
    step: Step,
}

/// Reads the next local changes after `since` and decides what to do with each; stops after
/// `batch` sends. Empty when there is nothing after `since`.
fn plan(
    tx: &mut dyn Tx,
    link_id: &str,
    collection: &Collection,
    since: i64,
    batch: usize,
) -> Result<Vec<Change>, SyncError> {
    let mut changes = Vec::new();
    let mut sends = 0;
    for object in local::changes_since(tx, collection, since, SCAN)? {
        let id = object.id.clone();
        let local_ts = object.last_modified;
        let state = tx.sync_state(link_id, &id)?;
        let mine = version::of_local(&object);
        let step =
            if tx.sync_conflict(link_id, &id)?.is_some() || state.as_ref().is_some_and(|s| s.local_ts == local_ts) {
                Step::Skip
            } else {
                match (&state, &mine) {
                    (None, Value::Null) => Step::Skip,
                    (Some(s), _) if version::same_content(&mine, &s.base) => {
                        Step::Touch(SyncState { local_ts, ..s.clone() })
                    }
                    (Some(s), Value::Null) => match s.remote_ts {
                        Some(if_match) => Step::Send { op: BatchOp::Delete { id: id.clone(), if_match }, mine, state },
                        None => Step::Touch(SyncState { local_ts, base: Value::Null, ..s.clone() }),
                    },
                    (_, Value::Object(fields)) => {
                        let if_match = state.as_ref().filter(|s| !s.base.is_null()).and_then(|s| s.remote_ts);
                        let op = BatchOp::Put { id: id.clone(), data: fields.clone(), if_match };
                        Step::Send { op, mine, state }
                    }
                    (_, _) => Step::Skip,
                }
            };
        sends += usize::from(matches!(step, Step::Send { .. }));
        changes.push(Change { id, local_ts, step });
        if sends >= batch {
            break;
        }
    }
    Ok(changes)
}

/// What a batch answer means for one change.
#[derive(Debug)]
enum Answer {
    /// Handled: the new agreed state.
    Agreed(SyncState),
    /// Handled: a conflict.
    Conflict(ConflictRow),
    /// Not handled: the push must stop.
    Stop(SyncError),
}

fn answer(link_id: &str, change: &Change, status: u16, body: &Value, theirs_now: Option<&Value>) -> Answer {
    let Step::Send { op, mine, state } = &change.step else {
        return Answer::Stop(protocol("no write was sent for this change"));
    };
    let base = state.as_ref().map(|s| s.base.clone());
    let agreed = |remote_ts: Option<i64>, version: Value| {
        Answer::Agreed(SyncState { record_id: change.id.clone(), local_ts: change.local_ts, remote_ts, base: version })
    };
    let conflict = |theirs: Value, theirs_ts: Option<i64>, reason: String| {
        Answer::Conflict(ConflictRow {
            link_id: link_id.to_owned(),
            record_id: change.id.clone(),
            mine: mine.clone(),
            mine_ts: change.local_ts,
            theirs,
            theirs_ts,
            base: base.clone(),
            reason,
            detected_at: crate::storage::sqlite::now_ms(),
        })
    };
    match status {
        // The agreed version is the remote's own form of it (its attachment `location`).
        200 | 201 => match body["data"]["last_modified"].as_i64() {
            Some(remote_ts) => {
                agreed(Some(remote_ts), body["data"].as_object().map_or_else(|| mine.clone(), version::of_remote))
            }
            None => Answer::Stop(protocol("a write's answer has no last_modified")),
        },
        412 => {
            let existing = body["details"]["existing"].as_object();
            let theirs = existing.map_or(Value::Null, version::of_remote);
            let theirs_ts = existing.and_then(|e| e.get("last_modified")).and_then(Value::as_i64);
            if version::same_content(mine, &theirs) {
                agreed(theirs_ts, theirs)
            } else {
                conflict(theirs, theirs_ts, conflicts::CONCURRENT_EDIT.to_owned())
            }
        }
        404 if matches!(op, BatchOp::Delete { .. }) => agreed(state.as_ref().and_then(|s| s.remote_ts), Value::Null),
        401 | 403 => Answer::Stop(SyncError::Remote(if status == 401 {
            ClientError::Unauthorized { url: "batch".into() }
        } else {
            ClientError::Forbidden { url: format!("batch: writing record {}", change.id) }
        })),
        400..=499 => {
            let message = body["message"].as_str().unwrap_or("refused").to_owned();
            let theirs = theirs_now.cloned().unwrap_or_else(|| base.clone().unwrap_or(Value::Null));
            let theirs_ts = state.as_ref().and_then(|s| s.remote_ts);
            conflict(theirs, theirs_ts, format!("refused by the remote ({status}): {message}"))
        }
        _ => Answer::Stop(SyncError::Remote(ClientError::Status {
            url: "batch".into(),
            status,
            message: body["message"].as_str().unwrap_or("error").to_owned(),
        })),
    }
}

fn protocol(reason: &str) -> SyncError {
    SyncError::Remote(ClientError::Protocol { url: "batch".into(), reason: reason.into() })
}

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushReport {
    pub sent: u64,
    pub conflicts: u64,
}

/// Records the outcome of a planned batch: states, conflicts, and the local checkpoint moved
/// past the leading handled changes (only if nobody moved it meanwhile). Returns the error
/// that stopped the batch, if any.
fn settle(
    tx: &mut dyn Tx,
    link_id: &str,
    from: i64,
    changes: &[Change],
    answers: Vec<Option<Answer>>,
) -> Result<Option<SyncError>, SyncError> {
    let mut handled_to = from;
    let mut stopped = None;
    for (change, answer) in changes.iter().zip(answers) {
        match (&change.step, answer) {
            (Step::Skip, _) => {}
            (Step::Touch(state), _) => tx.put_sync_state(link_id, state)?,
            (Step::Send { .. }, Some(Answer::Agreed(state))) => tx.put_sync_state(link_id, &state)?,
            (Step::Send { .. }, Some(Answer::Conflict(conflict))) => conflicts::record(tx, &conflict)?,
            (Step::Send { .. }, Some(Answer::Stop(err))) => {
                stopped.get_or_insert(err);
            }
            (Step::Send { .. }, None) => {
                stopped.get_or_insert_with(|| protocol("no answer for a write"));
            }
        }
        if stopped.is_none() {
            handled_to = change.local_ts;
        }
    }
    let current = tx.sync_link(link_id)?.ok_or_else(|| SyncError::UnknownLink(link_id.to_owned()))?;
    if current.local_checkpoint == from && handled_to > from {
        tx.set_sync_checkpoints(link_id, None, Some(handled_to))?;
    }
    Ok(stopped)
}

/// What a remote write's answer means for a change; a refusal other than a precondition is
/// shown with the remote's version now.
async fn judge(context: &Context, change: &Change, status: u16, body: &Value) -> Answer {
    let link = &context.link;
    let refused = (400..500).contains(&status) && !matches!(status, 401 | 403 | 404 | 412);
    let theirs_now = if refused {
        let found = context.client.get_record(&link.remote_bucket, &link.remote_collection, &change.id).await;
        found.ok().map(|found| found.map_or(Value::Null, |o| version::of_remote(&o)))
    } else {
        None
    };
    answer(&link.id, change, status, body, theirs_now.as_ref())
}

/// Gives the remote the files of the records about to be put ([`files::remote_field`]): each
/// put then carries the remote's own `attachment` field. Returns the changes already answered
/// (their upload was refused), by index.
async fn send_files(
    context: &Context,
    hello: &Hello,
    changes: &mut [Change],
) -> Result<Vec<(usize, (u16, Value))>, SyncError> {
    let mut answered = Vec::new();
    for (index, change) in changes.iter_mut().enumerate() {
        let Step::Send { op: BatchOp::Put { id, data, if_match }, mine, state } = &mut change.step else { continue };
        if version::attachment(mine).is_none() {
            continue;
        }
        let base = state.as_ref().map(|s| &s.base);
        match files::remote_field(context, hello, id, (mine, base), *if_match).await? {
            RemoteField::Held(field) => {
                data.insert("attachment".into(), field);
            }
            RemoteField::Uploaded { field, remote_ts } => {
                data.insert("attachment".into(), field);
                *if_match = Some(remote_ts);
            }
            RemoteField::Answered { status, body } => answered.push((index, (status, body))),
        }
    }
    Ok(answered)
}

/// Pushes every local change after the local checkpoint.
pub async fn push(context: &Context, progress: &Progress) -> Result<PushReport, SyncError> {
    let link = &context.link;
    let client = &context.client;
    // The remote's batch size is asked only when there is something to send.
    let mut batch: Option<usize> = None;
    let mut hello: Option<Hello> = None;
    let mut report = PushReport::default();
    loop {
        let (link_id, collection) = (link.id.clone(), context.local.clone());
        let limit = batch.unwrap_or(1);
        let (from, mut changes) = context
            .store
            .read(move |tx| {
                let from =
                    tx.sync_link(&link_id)?.ok_or_else(|| SyncError::UnknownLink(link_id.clone()))?.local_checkpoint;
                Ok::<_, SyncError>((from, plan(tx, &link_id, &collection, from, limit)?))
            })
            .await?;
        if changes.is_empty() {
            return Ok(report);
        }
        if batch.is_none() && changes.iter().any(|c| matches!(c.step, Step::Send { .. })) {
            let found = client.hello().await?;
            let size = found.batch_max_requests.unwrap_or(DEFAULT_BATCH).clamp(1, 100);
            batch = Some(size);
            hello = Some(found);
            let (link_id, collection) = (link.id.clone(), context.local.clone());
            changes = context.store.read(move |tx| plan(tx, &link_id, &collection, from, size)).await?;
        }
        let mut answers: Vec<Option<Answer>> = changes.iter().map(|_| None).collect();
        if let Some(hello) = &hello {
            for (index, (status, body)) in send_files(context, hello, &mut changes).await? {
                answers[index] = Some(judge(context, &changes[index], status, &body).await);
            }
        }
        let unanswered: Vec<usize> = (0..changes.len())
            .filter(|&i| answers[i].is_none() && matches!(changes[i].step, Step::Send { .. }))
            .collect();
        let ops: Vec<BatchOp> = unanswered
            .iter()
            .filter_map(|&i| match &changes[i].step {
                Step::Send { op, .. } => Some(op.clone()),
                _ => None,
            })
            .collect();
        if !ops.is_empty() {
            let results = client.batch(&link.remote_bucket, &link.remote_collection, &ops).await?;
            for (&index, (status, body)) in unanswered.iter().zip(results) {
                answers[index] = Some(judge(context, &changes[index], status, &body).await);
            }
        }
        let conflicts_found = answers.iter().filter(|a| matches!(a, Some(Answer::Conflict(_)))).count() as u64;
        let (link_id, settled_changes) = (link.id.clone(), changes.clone());
        let stopped = context.store.write(move |tx| settle(tx, &link_id, from, &settled_changes, answers)).await?;
        report.sent += ops.len() as u64;
        report.conflicts += conflicts_found;
        progress.pushed(ops.len() as u64, conflicts_found);
        if let Some(err) = stopped {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn send(op: BatchOp, mine: Value, state: Option<SyncState>) -> Change {
        Change { id: op.id().to_owned(), local_ts: 10, step: Step::Send { op, mine, state } }
    }

    fn agreed_state() -> SyncState {
        SyncState { record_id: "r".into(), local_ts: 5, remote_ts: Some(50), base: json!({"a": 1}) }
    }

    #[test]
    fn a_412_with_another_version_is_a_conflict_with_both_sides_and_the_base() {
        let put = BatchOp::Put { id: "r".into(), data: Map::new(), if_match: Some(50) };
        let change = send(put, json!({"a": 2}), Some(agreed_state()));
        let body = json!({"details": {"existing": {"id": "r", "last_modified": 60, "a": 3}}});
        match answer("l", &change, 412, &body, None) {
            Answer::Conflict(c) => {
                assert_eq!(
                    (c.mine, c.theirs, c.theirs_ts, c.base),
                    (json!({"a": 2}), json!({"a": 3}), Some(60), Some(json!({"a": 1})))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_412_holding_the_same_content_or_a_gone_delete_is_agreement() {
        let put = BatchOp::Put { id: "r".into(), data: Map::new(), if_match: None };
        let change = send(put, json!({"a": 3}), None);
        let body = json!({"details": {"existing": {"id": "r", "last_modified": 60, "a": 3}}});
        assert!(matches!(answer("l", &change, 412, &body, None), Answer::Agreed(s) if s.remote_ts == Some(60)));
        let delete = send(BatchOp::Delete { id: "r".into(), if_match: 50 }, Value::Null, Some(agreed_state()));
        assert!(matches!(answer("l", &delete, 404, &Value::Null, None), Answer::Agreed(s) if s.base.is_null()));
        let gone = send(
            BatchOp::Put { id: "r".into(), data: Map::new(), if_match: Some(50) },
            json!({"a": 2}),
            Some(agreed_state()),
        );
        assert!(
            matches!(answer("l", &gone, 412, &json!({}), None), Answer::Conflict(c) if c.theirs.is_null() && c.theirs_ts.is_none())
        );
    }

    #[test]
    fn refusals_and_server_errors() {
        let change = send(
            BatchOp::Put { id: "r".into(), data: Map::new(), if_match: Some(50) },
            json!({"a": 2}),
            Some(agreed_state()),
        );
        let refused = answer("l", &change, 400, &json!({"message": "bad"}), Some(&json!({"a": 1})));
        assert!(matches!(refused, Answer::Conflict(c) if c.reason.contains("bad") && c.theirs == json!({"a": 1})));
        assert!(matches!(answer("l", &change, 403, &Value::Null, None), Answer::Stop(_)));
        assert!(matches!(answer("l", &change, 503, &Value::Null, None), Answer::Stop(_)));
    }
}
