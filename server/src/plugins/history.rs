//! The history plugin (HIST-*): every change of a bucket, group, collection or record appends
//! an entry to its bucket's history, in the same transaction; readers of an object can read
//! the entries about it. Kintoun keeps history bounded (`history.max_entries` per bucket,
//! `history.max_age_days`), trimming a little at a time as entries are written.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::resource::acl_json;
use crate::resource::kind::{Kind, Place};
use crate::settings::Settings;
use crate::storage::{Acl, Stamp, StoredObject, Tx};

/// The fields a history entry has: filters, sorts and `_fields` on others are refused.
pub const FIELDS: &[&str] = &[
    "id",
    "last_modified",
    "user_id",
    "uri",
    "action",
    "date",
    "resource_name",
    "bucket_id",
    "collection_id",
    "group_id",
    "record_id",
    "target",
];

/// Kintoun's default retention: entries kept per bucket.
const DEFAULT_MAX_ENTRIES: i64 = 10_000;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// Whether changes to objects of this kind are recorded.
pub fn tracks(settings: &Settings, kind: Kind) -> bool {
    settings.includes("history") && matches!(kind, Kind::Bucket | Kind::Collection | Kind::Group | Kind::Record)
}

/// `2026-11-22T06:56:30.656000+00:00` for a millisecond timestamp.
pub fn iso_date(timestamp_ms: i64) -> String {
    iso_date_micros(timestamp_ms.saturating_mul(1000))
}

/// `2026-11-22T06:56:30.656576+00:00` for a microsecond timestamp.
pub fn iso_date_micros(timestamp_us: i64) -> String {
    let seconds = timestamp_us.div_euclid(1_000_000);
    let micros = timestamp_us.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Appends the entry for a change of the object at `place` (now stored as `object`, with
/// `acl`), made by `user_id`.
pub fn record(
    tx: &mut dyn Tx,
    settings: &Settings,
    user_id: Option<&str>,
    place: &Place,
    action: Action,
    object: &StoredObject,
    acl: &Acl,
) -> Result<(), ApiError> {
    let Some(bucket) = place.bucket_id().map(str::to_owned) else { return Ok(()) };
    let bucket_uri = format!("/buckets/{bucket}");
    let uri = place.uri();
    let mut entry = Map::new();
    entry.insert("action".into(), json!(action.name()));
    entry.insert("uri".into(), json!(uri));
    entry.insert("user_id".into(), json!(user_id));
    entry.insert("resource_name".into(), json!(place.kind.name()));
    let id = place.id.clone().unwrap_or_default();
    match place.kind {
        Kind::Bucket => {
            entry.insert("bucket_id".into(), json!(id));
        }
        Kind::Collection => {
            entry.insert("collection_id".into(), json!(id));
        }
        Kind::Group => {
            entry.insert("group_id".into(), json!(id));
        }
        Kind::Record => {
            entry.insert("collection_id".into(), json!(place.ancestors.get(1)));
            entry.insert("record_id".into(), json!(id));
        }
        Kind::Account | Kind::History => return Ok(()),
    }
    entry.insert("target".into(), json!({"data": Value::Object(object.data.clone()), "permissions": acl_json(acl)}));
    // Readers of the bucket, the collection and the object may read the entry.
    let mut readers: Acl = Acl::new();
    if settings.explicit_permissions {
        let mut sources = vec![tx.acl(&bucket_uri)?];
        if let (Kind::Record, Some(collection)) = (place.kind, place.ancestors.get(1)) {
            sources.push(tx.acl(&format!("{bucket_uri}/collections/{collection}"))?);
        }
        if place.kind != Kind::Bucket {
            sources.push(acl.clone());
        }
        let principals = readers.entry("read".to_owned()).or_default();
        for source in &sources {
            for name in ["read", "write"] {
                principals.extend(source.get(name).into_iter().flatten().cloned());
            }
        }
        readers.retain(|_, p| !p.is_empty());
    }
    let now_us =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
    entry.insert("date".into(), json!(iso_date_micros(now_us)));
    let entry_id = uuid::Uuid::new_v4().to_string();
    let stored = tx.put(&bucket_uri, "history", &entry_id, entry, Stamp::Now)?;
    if !readers.is_empty() {
        tx.set_acl(&format!("{bucket_uri}/history/{entry_id}"), &readers)?;
    }
    trim(tx, settings, &bucket_uri, stored.last_modified)
}

/// Keeps the bucket's history within `history.max_entries` and `history.max_age_days`,
/// checking every `history.trim_every` entries (by timestamp) so no write pays for a full
/// purge.
fn trim(tx: &mut dyn Tx, settings: &Settings, bucket_uri: &str, now: i64) -> Result<(), ApiError> {
    let every = settings.extra_i64("history.trim_every").unwrap_or(32).max(1);
    if now.rem_euclid(every) != 0 {
        return Ok(());
    }
    let keep = settings.extra_i64("history.max_entries").unwrap_or(DEFAULT_MAX_ENTRIES);
    let max_age_days = settings.extra_i64("history.max_age_days").unwrap_or(0);
    let older_than = (max_age_days > 0).then(|| now - max_age_days * 86_400_000);
    let keep = (keep > 0).then_some(keep as usize);
    if keep.is_some() || older_than.is_some() {
        tx.trim_list(bucket_uri, "history", keep, older_than)?;
    }
    Ok(())
}

/// HIST-SNAPSHOT: the records of a collection as they were at `at`, newest first: for each
/// record, its latest history entry at or before `at` (absent if that entry is a deletion);
/// records older than the history itself come from the current data.
pub fn snapshot(tx: &mut dyn Tx, bucket: &str, collection: &str, at: i64) -> Result<Vec<Value>, ApiError> {
    use crate::storage::{Field, Filter, ListQuery, Operator};
    let bucket_uri = format!("/buckets/{bucket}");
    let query = ListQuery {
        filters: vec![
            Filter { field: Field::parse("resource_name"), operator: Operator::Eq, values: vec![json!("record")] },
            Filter { field: Field::parse("collection_id"), operator: Operator::Eq, values: vec![json!(collection)] },
            // As Kinto: the state of each record as of `at` is the one it had at that time.
            Filter {
                field: Field::parse("target.data.last_modified"),
                operator: Operator::Max,
                values: vec![json!(at)],
            },
        ],
        ..ListQuery::default()
    };
    let mut seen = std::collections::HashSet::new();
    let mut records: Vec<Map<String, Value>> = Vec::new();
    let mut entries = tx.list(&bucket_uri, "history", &query)?;
    let target_time = |e: &crate::storage::StoredObject| {
        e.data.get("target").and_then(|t| t.get("data")).and_then(|d| d.get("last_modified")).and_then(Value::as_i64)
    };
    entries.sort_by_key(|e| std::cmp::Reverse((target_time(e), e.last_modified)));
    for entry in entries {
        let Some(uri) = entry.data.get("uri").and_then(Value::as_str) else { continue };
        if !seen.insert(uri.to_owned()) {
            continue;
        }
        let deleted = entry.data.get("action").and_then(Value::as_str) == Some("delete");
        if let (false, Some(Value::Object(data))) = (deleted, entry.data.get("target").and_then(|t| t.get("data"))) {
            records.push(data.clone());
        }
    }
    let collection_uri = format!("{bucket_uri}/collections/{collection}");
    for record in tx.list(&collection_uri, "record", &ListQuery::default())? {
        if record.last_modified <= at && !seen.contains(&format!("{collection_uri}/records/{}", record.id)) {
            records.push(record.data);
        }
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.get("last_modified").and_then(Value::as_i64).unwrap_or(0)));
    Ok(records.into_iter().map(Value::Object).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_with_offset() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(iso_date(1_795_330_590_656), "2026-11-22T06:56:30.656000+00:00");
        assert_eq!(iso_date(951_782_400_001), "2000-02-29T00:00:00.001000+00:00");
    }
}
