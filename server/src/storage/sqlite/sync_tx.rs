//! [`SyncTx`] on SQLite: the `sync_links`, `sync_records` and `sync_conflicts` tables
//! (migration 6). Versions are stored as JSON text (`null` for a deleted record).

use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::tx::{SqliteTx, map_err};
use crate::storage::{ConflictRow, LinkRow, StorageError, StorageResult, SyncState, SyncTx};

const LINK_COLUMNS: &str = "id, local_bucket, local_collection, remote_kind, remote_url, remote_device, \
     remote_bucket, remote_collection, direction, remote_checkpoint, local_checkpoint, last_sync, last_error, created_at";

const CONFLICT_COLUMNS: &str = "link_id, record_id, mine, mine_ts, theirs, theirs_ts, base, reason, detected_at";

fn link_of(row: &Row<'_>) -> rusqlite::Result<LinkRow> {
    Ok(LinkRow {
        id: row.get(0)?,
        local_bucket: row.get(1)?,
        local_collection: row.get(2)?,
        remote_kind: row.get(3)?,
        remote_url: row.get(4)?,
        remote_device: row.get(5)?,
        remote_bucket: row.get(6)?,
        remote_collection: row.get(7)?,
        direction: row.get(8)?,
        remote_checkpoint: row.get(9)?,
        local_checkpoint: row.get(10)?,
        last_sync: row.get(11)?,
        last_error: row.get(12)?,
        created_at: row.get(13)?,
    })
}

fn parse(text: &str) -> StorageResult<Value> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("sync version: {e}")))
}

fn text(value: &Value) -> String {
    crate::json::to_string(value)
}

/// The raw columns of a conflict, parsed once the statement is done.
type RawConflict = (String, String, String, i64, String, Option<i64>, Option<String>, String, i64);

fn raw_conflict(row: &Row<'_>) -> rusqlite::Result<RawConflict> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

fn conflict_of(raw: RawConflict) -> StorageResult<ConflictRow> {
    let (link_id, record_id, mine, mine_ts, theirs, theirs_ts, base, reason, detected_at) = raw;
    Ok(ConflictRow {
        link_id,
        record_id,
        mine: parse(&mine)?,
        mine_ts,
        theirs: parse(&theirs)?,
        theirs_ts,
        base: base.as_deref().map(parse).transpose()?,
        reason,
        detected_at,
    })
}

impl SyncTx for SqliteTx<'_> {
    fn sync_links(&mut self) -> StorageResult<Vec<LinkRow>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {LINK_COLUMNS} FROM sync_links ORDER BY id")).map_err(map_err)?;
        let rows = stmt.query_map([], link_of).map_err(map_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    fn sync_link(&mut self, id: &str) -> StorageResult<Option<LinkRow>> {
        self.conn
            .prepare_cached(&format!("SELECT {LINK_COLUMNS} FROM sync_links WHERE id = ?"))
            .and_then(|mut stmt| stmt.query_row(params![id], link_of).optional())
            .map_err(map_err)
    }

    fn put_sync_link(&mut self, link: &LinkRow) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO sync_links ({LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    link.id,
                    link.local_bucket,
                    link.local_collection,
                    link.remote_kind,
                    link.remote_url,
                    link.remote_device,
                    link.remote_bucket,
                    link.remote_collection,
                    link.direction,
                    link.remote_checkpoint,
                    link.local_checkpoint,
                    link.last_sync,
                    link.last_error,
                    link.created_at,
                ])
            })
            .map(drop)
            .map_err(map_err)
    }

    fn delete_sync_link(&mut self, id: &str) -> StorageResult<bool> {
        self.require_writable()?;
        for table in ["sync_records", "sync_conflicts"] {
            self.conn
                .prepare_cached(&format!("DELETE FROM {table} WHERE link_id = ?"))
                .and_then(|mut stmt| stmt.execute(params![id]))
                .map_err(map_err)?;
        }
        self.conn
            .prepare_cached("DELETE FROM sync_links WHERE id = ?")
            .and_then(|mut stmt| stmt.execute(params![id]))
            .map(|n| n > 0)
            .map_err(map_err)
    }

    fn set_sync_checkpoints(&mut self, id: &str, remote: Option<i64>, local: Option<i64>) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached(
                "UPDATE sync_links SET remote_checkpoint = COALESCE(?, remote_checkpoint), \
                 local_checkpoint = COALESCE(?, local_checkpoint) WHERE id = ?",
            )
            .and_then(|mut stmt| stmt.execute(params![remote, local, id]))
            .map(drop)
            .map_err(map_err)
    }

    fn set_sync_outcome(&mut self, id: &str, outcome: Result<i64, &str>) -> StorageResult<()> {
        self.require_writable()?;
        let result = match outcome {
            Ok(at) => self
                .conn
                .prepare_cached("UPDATE sync_links SET last_sync = ?, last_error = NULL WHERE id = ?")
                .and_then(|mut stmt| stmt.execute(params![at, id])),
            Err(message) => self
                .conn
                .prepare_cached("UPDATE sync_links SET last_error = ? WHERE id = ?")
                .and_then(|mut stmt| stmt.execute(params![message, id])),
        };
        result.map(drop).map_err(map_err)
    }

    fn sync_state(&mut self, link_id: &str, record_id: &str) -> StorageResult<Option<SyncState>> {
        let row = self
            .conn
            .prepare_cached("SELECT local_ts, remote_ts, base FROM sync_records WHERE link_id = ? AND record_id = ?")
            .and_then(|mut stmt| {
                stmt.query_row(params![link_id, record_id], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?, row.get::<_, String>(2)?))
                })
                .optional()
            })
            .map_err(map_err)?;
        row.map(|(local_ts, remote_ts, base)| {
            Ok(SyncState { record_id: record_id.to_owned(), local_ts, remote_ts, base: parse(&base)? })
        })
        .transpose()
    }

    fn put_sync_state(&mut self, link_id: &str, state: &SyncState) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO sync_records (link_id, record_id, local_ts, remote_ts, base) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![link_id, state.record_id, state.local_ts, state.remote_ts, text(&state.base)])
            })
            .map(drop)
            .map_err(map_err)
    }

    fn sync_conflict(&mut self, link_id: &str, record_id: &str) -> StorageResult<Option<ConflictRow>> {
        let raw = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CONFLICT_COLUMNS} FROM sync_conflicts WHERE link_id = ? AND record_id = ?"
            ))
            .and_then(|mut stmt| stmt.query_row(params![link_id, record_id], raw_conflict).optional())
            .map_err(map_err)?;
        raw.map(conflict_of).transpose()
    }

    fn sync_conflicts(&mut self, link_id: &str) -> StorageResult<Vec<ConflictRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CONFLICT_COLUMNS} FROM sync_conflicts WHERE link_id = ? ORDER BY detected_at, record_id"
            ))
            .map_err(map_err)?;
        let rows = stmt.query_map(params![link_id], raw_conflict).map_err(map_err)?;
        let raw = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        raw.into_iter().map(conflict_of).collect()
    }

    fn put_sync_conflict(&mut self, c: &ConflictRow) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO sync_conflicts ({CONFLICT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    c.link_id,
                    c.record_id,
                    text(&c.mine),
                    c.mine_ts,
                    text(&c.theirs),
                    c.theirs_ts,
                    c.base.as_ref().map(text),
                    c.reason,
                    c.detected_at,
                ])
            })
            .map(drop)
            .map_err(map_err)
    }

    fn delete_sync_conflict(&mut self, link_id: &str, record_id: &str) -> StorageResult<bool> {
        self.require_writable()?;
        self.conn
            .prepare_cached("DELETE FROM sync_conflicts WHERE link_id = ? AND record_id = ?")
            .and_then(|mut stmt| stmt.execute(params![link_id, record_id]))
            .map(|n| n > 0)
            .map_err(map_err)
    }

    fn sync_conflict_counts(&mut self) -> StorageResult<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT link_id, COUNT(*) FROM sync_conflicts GROUP BY link_id")
            .map_err(map_err)?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))).map_err(map_err)?;
        let counts = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        Ok(counts.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::storage::sqlite::{SqliteBackend, SqliteOptions};
    use crate::storage::{ConflictRow, LinkRow, StorageError, Store, SyncState};

    fn link(id: &str) -> LinkRow {
        LinkRow {
            id: id.into(),
            local_bucket: "b".into(),
            local_collection: "c".into(),
            remote_kind: "kinto".into(),
            remote_url: Some("http://127.0.0.1:1/v1".into()),
            remote_device: None,
            remote_bucket: "rb".into(),
            remote_collection: "rc".into(),
            direction: "both".into(),
            remote_checkpoint: 0,
            local_checkpoint: 0,
            last_sync: None,
            last_error: None,
            created_at: 1,
        }
    }

    #[tokio::test]
    async fn links_states_and_conflicts_round_trip_and_go_with_their_link() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let backend = SqliteBackend::open(&SqliteOptions {
            path: dir.path().join("db.sqlite"),
            durability: crate::settings::Durability::Normal,
            readers: 1,
        })
        .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let store = Store::new(std::sync::Arc::new(backend));
        let state = SyncState { record_id: "r1".into(), local_ts: 5, remote_ts: Some(7), base: json!({"a": 1}) };
        let conflict = ConflictRow {
            link_id: "l1".into(),
            record_id: "r1".into(),
            mine: json!({"a": 2}),
            mine_ts: 9,
            theirs: json!(null),
            theirs_ts: None,
            base: Some(json!({"a": 1})),
            reason: "concurrent_edit".into(),
            detected_at: 10,
        };
        let (s, c) = (state.clone(), conflict.clone());
        store
            .write(move |tx| {
                tx.put_sync_link(&link("l1"))?;
                tx.put_sync_link(&link("l2"))?;
                tx.put_sync_state("l1", &s)?;
                tx.put_sync_conflict(&c)?;
                tx.set_sync_checkpoints("l1", Some(42), None)?;
                tx.set_sync_outcome("l1", Err("boom"))
            })
            .await?;
        let (links, got_state, got_conflict, counts) = store
            .read(|tx| {
                Ok::<_, StorageError>((
                    tx.sync_links()?,
                    tx.sync_state("l1", "r1")?,
                    tx.sync_conflict("l1", "r1")?,
                    tx.sync_conflict_counts()?,
                ))
            })
            .await?;
        assert_eq!(links.len(), 2);
        assert_eq!((links[0].remote_checkpoint, links[0].local_checkpoint), (42, 0));
        assert_eq!(links[0].last_error.as_deref(), Some("boom"));
        assert_eq!(got_state, Some(state));
        assert_eq!(got_conflict, Some(conflict));
        assert_eq!(counts, vec![("l1".to_owned(), 1)]);
        store.write(|tx| tx.set_sync_outcome("l1", Ok(99))).await?;
        let gone = store.write(|tx| tx.delete_sync_link("l1")).await?;
        assert!(gone);
        let (left, state, conflicts) = store
            .read(|tx| Ok::<_, StorageError>((tx.sync_links()?, tx.sync_state("l1", "r1")?, tx.sync_conflicts("l1")?)))
            .await?;
        assert_eq!(left.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), vec!["l2"]);
        assert_eq!((state, conflicts.len()), (None, 0));
        Ok(())
    }
}
