//! [`Tx`] on a SQLite connection that is already inside a transaction.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::{Map, Value};

use super::indexes::FieldIndexes;
use super::sql;
use crate::changes::ChangeSet;
use crate::storage::{
    AccessFilter, Acl, DeviceRow, ListQuery, RawObject, Stamp, StorageError, StorageResult, StoredObject, Tx,
    parse_object,
};

/// A transaction on `conn`; `writable` is false on read-only snapshot connections.
pub struct SqliteTx<'c> {
    pub conn: &'c Connection,
    pub writable: bool,
    pub indexes: &'c FieldIndexes,
    /// The lists this job changed, for the change bus (see `crate::changes`).
    pub changes: ChangeSet,
}

impl<'c> SqliteTx<'c> {
    pub fn new(conn: &'c Connection, writable: bool, indexes: &'c FieldIndexes) -> Self {
        SqliteTx { conn, writable, indexes, changes: ChangeSet::default() }
    }

    /// The lists this job changed, each with its timestamp (read now for ACL-only changes).
    pub fn take_changes(&mut self) -> ChangeSet {
        let mut changes = std::mem::take(&mut self.changes);
        let unstamped: Vec<(String, String)> = changes.unstamped().map(|(p, r)| (p.to_owned(), r.to_owned())).collect();
        for (parent, resource) in unstamped {
            let timestamp = self.stored_list_timestamp(&parent, &resource).ok().flatten().unwrap_or(0);
            changes.stamp(&parent, &resource, timestamp);
        }
        changes
    }
}

pub(crate) fn map_err(err: rusqlite::Error) -> StorageError {
    use rusqlite::ErrorCode;
    match &err {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::ConstraintViolation => StorageError::Conflict(err.to_string()),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StorageError::Conflict(err.to_string()),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StorageError::Corrupt(err.to_string()),
            _ => StorageError::Unavailable(err.to_string()),
        },
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StorageError::Corrupt(err.to_string())
        }
        _ => StorageError::Unavailable(err.to_string()),
    }
}

/// Milliseconds since the epoch, from the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The smallest string greater than every string that starts with `prefix`'s last byte bumped:
/// `uri + "/"` .. `uri + "0"` bounds everything below `uri`.
fn below_bounds(uri: &str) -> (String, String) {
    (format!("{uri}/"), format!("{uri}0"))
}

impl SqliteTx<'_> {
    pub(super) fn require_writable(&self) -> StorageResult<()> {
        if self.writable { Ok(()) } else { Err(StorageError::NeedsWrite) }
    }

    fn stored_list_timestamp(&self, parent: &str, resource: &str) -> StorageResult<Option<i64>> {
        self.conn
            .prepare_cached("SELECT last_modified FROM timestamps WHERE parent_id = ? AND resource_name = ?")
            .and_then(|mut stmt| stmt.query_row(params![parent, resource], |row| row.get(0)).optional())
            .map_err(map_err)
    }

    fn store_list_timestamp(&self, parent: &str, resource: &str, value: i64) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES (?, ?, ?) \
                 ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = excluded.last_modified",
            )
            .and_then(|mut stmt| stmt.execute(params![parent, resource, value]))
            .map(drop)
            .map_err(map_err)
    }

    /// Assigns a timestamp in the list following TS-MONOTONIC and TS-CLIENT-VALUE.
    fn next_timestamp(&self, parent: &str, resource: &str, stamp: Stamp) -> StorageResult<i64> {
        // A list never touched before starts at "now", as if it had been read just before.
        let stored = self.stored_list_timestamp(parent, resource)?;
        let current = stored.unwrap_or_else(|| now_ms() - 1);
        let (assigned, list) = match stamp {
            Stamp::Now => {
                let next = now_ms().max(current.saturating_add(1));
                (next, next)
            }
            Stamp::Requested(value) if value == current => (current.saturating_add(1), current.saturating_add(1)),
            Stamp::Requested(value) if value > current => (value, value),
            Stamp::Requested(value) => (value, current),
        };
        if stored != Some(list) {
            self.store_list_timestamp(parent, resource, list)?;
        }
        Ok(assigned)
    }

    fn store_object(&self, parent: &str, resource: &str, object: &StoredObject) -> StorageResult<()> {
        let text = crate::json::to_string(&object.data);
        self.conn
            .prepare_cached(
                "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data) \
                 VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (parent_id, resource_name, id) DO UPDATE SET \
                 last_modified = excluded.last_modified, deleted = excluded.deleted, data = excluded.data",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![parent, resource, object.id, object.last_modified, object.deleted, text])
            })
            .map(drop)
            .map_err(map_err)
    }

    fn select_objects(&self, sql: &str, args: Vec<SqlValue>) -> StorageResult<Vec<StoredObject>> {
        let mut objects = Vec::new();
        self.select_rows(sql, args, |id, last_modified, deleted, text| {
            objects.push(parse_object(id, last_modified, deleted, &text)?);
            Ok(())
        })?;
        Ok(objects)
    }

    fn select_raw(&self, sql: &str, args: Vec<SqlValue>) -> StorageResult<Vec<RawObject>> {
        let mut objects = Vec::new();
        self.select_rows(sql, args, |id, last_modified, deleted, json| {
            objects.push(RawObject { id, last_modified, deleted, json });
            Ok(())
        })?;
        Ok(objects)
    }

    /// Runs a listing's SELECT with `select`, telling the adaptive indexes how long it took.
    fn timed_list<T>(
        &self,
        parent: &str,
        resource: &str,
        query: &ListQuery,
        select: impl FnOnce(&Self, &str, Vec<SqlValue>) -> StorageResult<T>,
    ) -> StorageResult<T> {
        let started = std::time::Instant::now();
        let sql = sql::select(parent, resource, query);
        let objects = select(self, &sql.text, sql.args)?;
        self.indexes.observe(query, started.elapsed());
        Ok(objects)
    }

    /// Runs a `SELECT id, last_modified, deleted, data` and hands each row to `each`.
    fn select_rows(
        &self,
        sql: &str,
        args: Vec<SqlValue>,
        mut each: impl FnMut(String, i64, bool, String) -> StorageResult<()>,
    ) -> StorageResult<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_err)?;
        let mut rows = stmt.query(params_from_iter(args)).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let read = (|| Ok::<_, rusqlite::Error>((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))();
            let (id, last_modified, deleted, text) = read.map_err(map_err)?;
            each(id, last_modified, deleted, text)?;
        }
        Ok(())
    }
}

impl Tx for SqliteTx<'_> {
    fn get(&mut self, parent: &str, resource: &str, id: &str) -> StorageResult<Option<StoredObject>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT last_modified, deleted, data FROM objects \
                 WHERE parent_id = ? AND resource_name = ? AND id = ?",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![parent, resource, id], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?, row.get::<_, String>(2)?))
                })
                .optional()
            })
            .map_err(map_err)?;
        row.map(|(last_modified, deleted, text)| parse_object(id.to_owned(), last_modified, deleted, &text)).transpose()
    }

    fn put(
        &mut self,
        parent: &str,
        resource: &str,
        id: &str,
        mut data: Map<String, Value>,
        stamp: Stamp,
    ) -> StorageResult<StoredObject> {
        self.require_writable()?;
        let last_modified = self.next_timestamp(parent, resource, stamp)?;
        data.insert("id".into(), Value::String(id.to_owned()));
        data.insert("last_modified".into(), Value::from(last_modified));
        data.remove("deleted");
        let object = StoredObject { id: id.to_owned(), last_modified, deleted: false, data };
        self.store_object(parent, resource, &object)?;
        self.changes.touch(parent, resource, Some(last_modified));
        Ok(object)
    }

    fn delete(&mut self, parent: &str, resource: &str, id: &str, stamp: Stamp) -> StorageResult<StoredObject> {
        self.require_writable()?;
        let last_modified = self.next_timestamp(parent, resource, stamp)?;
        let mut data = Map::new();
        data.insert("id".into(), Value::String(id.to_owned()));
        data.insert("last_modified".into(), Value::from(last_modified));
        data.insert("deleted".into(), Value::Bool(true));
        let object = StoredObject { id: id.to_owned(), last_modified, deleted: true, data };
        self.store_object(parent, resource, &object)?;
        self.changes.touch(parent, resource, Some(last_modified));
        Ok(object)
    }

    fn list(&mut self, parent: &str, resource: &str, query: &ListQuery) -> StorageResult<Vec<StoredObject>> {
        self.timed_list(parent, resource, query, Self::select_objects)
    }

    fn list_raw(&mut self, parent: &str, resource: &str, query: &ListQuery) -> StorageResult<Vec<RawObject>> {
        self.timed_list(parent, resource, query, Self::select_raw)
    }

    fn count(&mut self, parent: &str, resource: &str, query: &ListQuery) -> StorageResult<u64> {
        let sql = sql::count(parent, resource, query);
        self.conn
            .prepare_cached(&sql.text)
            .and_then(|mut stmt| stmt.query_row(params_from_iter(sql.args), |row| row.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
            .map_err(map_err)
    }

    fn list_timestamp(&mut self, parent: &str, resource: &str) -> StorageResult<i64> {
        if let Some(value) = self.stored_list_timestamp(parent, resource)? {
            return Ok(value);
        }
        self.require_writable()?;
        let now = now_ms();
        self.store_list_timestamp(parent, resource, now)?;
        Ok(now)
    }

    fn purge_below(&mut self, uri: &str) -> StorageResult<()> {
        self.require_writable()?;
        let (low, high) = below_bounds(uri);
        let statements = [
            "DELETE FROM objects WHERE parent_id = ?1 OR (parent_id >= ?2 AND parent_id < ?3)",
            "DELETE FROM timestamps WHERE parent_id = ?1 OR (parent_id >= ?2 AND parent_id < ?3)",
            "DELETE FROM aces WHERE object_id >= ?2 AND object_id < ?3 AND ?1 IS NOT NULL",
            "DELETE FROM memberships WHERE principal >= ?2 AND principal < ?3 AND ?1 IS NOT NULL",
        ];
        for sql in statements {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute(params![uri, low, high]))
                .map_err(map_err)?;
        }
        Ok(())
    }

    fn acl(&mut self, object_uri: &str) -> StorageResult<Acl> {
        let mut stmt =
            self.conn.prepare_cached("SELECT permission, principal FROM aces WHERE object_id = ?").map_err(map_err)?;
        let rows = stmt
            .query_map(params![object_uri], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(map_err)?;
        let mut acl = Acl::new();
        for row in rows {
            let (permission, principal) = row.map_err(map_err)?;
            acl.entry(permission).or_default().insert(principal);
        }
        Ok(acl)
    }

    fn set_acl(&mut self, object_uri: &str, acl: &Acl) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached("DELETE FROM aces WHERE object_id = ?")
            .and_then(|mut stmt| stmt.execute(params![object_uri]))
            .map_err(map_err)?;
        let mut insert = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO aces (object_id, permission, principal) VALUES (?, ?, ?)")
            .map_err(map_err)?;
        for (permission, principals) in acl {
            for principal in principals {
                insert.execute(params![object_uri, permission, principal]).map_err(map_err)?;
            }
        }
        self.changes.touch_object(object_uri);
        Ok(())
    }

    fn attachment_refs(&mut self, location: &str, delta: i64) -> StorageResult<i64> {
        if delta != 0 {
            self.require_writable()?;
            self.conn
                .prepare_cached(
                    "INSERT INTO attachment_refs (location, refs) VALUES (?1, MAX(?2, 0)) \
                     ON CONFLICT (location) DO UPDATE SET refs = MAX(refs + ?2, 0)",
                )
                .and_then(|mut stmt| stmt.execute(params![location, delta]))
                .map_err(map_err)?;
        }
        let refs: Option<i64> = self
            .conn
            .prepare_cached("SELECT refs FROM attachment_refs WHERE location = ?")
            .and_then(|mut stmt| stmt.query_row(params![location], |row| row.get(0)).optional())
            .map_err(map_err)?;
        let refs = refs.unwrap_or(0);
        if refs == 0 && self.writable {
            self.conn
                .prepare_cached("DELETE FROM attachment_refs WHERE location = ?")
                .and_then(|mut stmt| stmt.execute(params![location]))
                .map_err(map_err)?;
        }
        Ok(refs)
    }

    fn attachments_below(&mut self, uri: &str) -> StorageResult<Vec<String>> {
        let (low, high) = below_bounds(uri);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT json_extract(data, '$.attachment.location') FROM objects \
                 WHERE (parent_id = ?1 OR (parent_id >= ?2 AND parent_id < ?3)) AND resource_name = 'record' \
                 AND deleted = 0 AND json_type(data, '$.attachment.location') = 'text'",
            )
            .map_err(map_err)?;
        let rows = stmt.query_map(params![uri, low, high], |row| row.get::<_, String>(0)).map_err(map_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    fn flush(&mut self) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .execute_batch(
                "DELETE FROM objects; DELETE FROM timestamps; DELETE FROM aces; DELETE FROM memberships; \
                 DELETE FROM delete_tokens; DELETE FROM attachment_refs;",
            )
            .map_err(map_err)?;
        // Every list is gone; the bucket list stands for all of them.
        self.changes.touch("", "bucket", Some(0));
        Ok(())
    }

    fn aces_of(&mut self, principals: &[String]) -> StorageResult<Vec<(String, String)>> {
        if principals.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT object_id, permission FROM aces WHERE principal IN ({})",
            vec!["?"; principals.len()].join(",")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let rows = stmt
            .query_map(params_from_iter(principals.iter()), |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(map_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    fn any_ace(&mut self, grants: &[(String, &'static str)], principals: &[String]) -> StorageResult<bool> {
        if grants.is_empty() || principals.is_empty() {
            return Ok(false);
        }
        let mut sql = String::from("SELECT EXISTS (SELECT 1 FROM aces WHERE (");
        let mut args: Vec<SqlValue> = Vec::with_capacity(grants.len() * 2 + principals.len());
        for (index, (uri, permission)) in grants.iter().enumerate() {
            if index > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str("(object_id = ? AND permission = ?)");
            args.push(uri.clone().into());
            args.push(permission.to_string().into());
        }
        // `+principal`: look the grants up by (object, permission) through the primary key, not
        // through every ACE the caller holds (which grows with everything they ever wrote).
        sql.push_str(") AND +principal IN (");
        sql.push_str(&vec!["?"; principals.len()].join(","));
        sql.push_str("))");
        args.extend(principals.iter().cloned().map(SqlValue::from));
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row(params_from_iter(args), |row| row.get::<_, bool>(0)))
            .map_err(map_err)
    }

    fn any_accessible(&mut self, filter: &AccessFilter) -> StorageResult<bool> {
        let mut subquery = sql::Sql::default();
        sql::access_subquery(&mut subquery, filter);
        // Only ids directly under the prefix count (no further '/').
        let text = format!("SELECT EXISTS (SELECT 1 FROM ({}) WHERE instr(id, '/') = 0)", subquery.text);
        self.conn
            .prepare_cached(&text)
            .and_then(|mut stmt| stmt.query_row(params_from_iter(subquery.args), |row| row.get::<_, bool>(0)))
            .map_err(map_err)
    }

    fn remove_principal_aces(&mut self, principal: &str) -> StorageResult<Vec<String>> {
        self.require_writable()?;
        let mut stmt =
            self.conn.prepare_cached("DELETE FROM aces WHERE principal = ? RETURNING object_id").map_err(map_err)?;
        let rows = stmt.query_map(params![principal], |row| row.get::<_, String>(0)).map_err(map_err)?;
        let mut uris = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        uris.sort();
        uris.dedup();
        for uri in &uris {
            self.changes.touch_object(uri);
        }
        Ok(uris)
    }

    fn object_counts(&mut self) -> StorageResult<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT resource_name, COUNT(*) FROM objects WHERE deleted = 0 GROUP BY resource_name")
            .map_err(map_err)?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))).map_err(map_err)?;
        rows.map(|row| row.map(|(name, n)| (name, u64::try_from(n).unwrap_or(0))))
            .collect::<Result<_, _>>()
            .map_err(map_err)
    }

    fn member_of(&mut self, user_ids: &[&str]) -> StorageResult<Vec<String>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT principal FROM memberships WHERE user_id IN ({}) ORDER BY principal",
            vec!["?"; user_ids.len()].join(",")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let rows = stmt.query_map(params_from_iter(user_ids.iter()), |row| row.get::<_, String>(0)).map_err(map_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    fn trim_list(
        &mut self,
        parent: &str,
        resource: &str,
        keep: Option<usize>,
        older_than: Option<i64>,
    ) -> StorageResult<usize> {
        self.require_writable()?;
        // The newest timestamp beyond the ones kept: everything at or below it goes.
        let mut cutoff = older_than.map(|ts| ts - 1);
        if let Some(keep) = keep {
            let beyond: Option<i64> = self
                .conn
                .prepare_cached(
                    "SELECT last_modified FROM objects WHERE parent_id = ? AND resource_name = ? \
                     ORDER BY last_modified DESC LIMIT 1 OFFSET ?",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(params![parent, resource, keep as i64], |row| row.get(0)).optional()
                })
                .map_err(map_err)?;
            cutoff = match (cutoff, beyond) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        let Some(cutoff) = cutoff else { return Ok(0) };
        let prefix = format!("{parent}/{resource}/");
        self.conn
            .prepare_cached(
                "DELETE FROM aces WHERE object_id IN (SELECT ? || id FROM objects \
                 WHERE parent_id = ? AND resource_name = ? AND last_modified <= ?)",
            )
            .and_then(|mut stmt| stmt.execute(params![prefix, parent, resource, cutoff]))
            .map_err(map_err)?;
        self.conn
            .prepare_cached("DELETE FROM objects WHERE parent_id = ? AND resource_name = ? AND last_modified <= ?")
            .and_then(|mut stmt| stmt.execute(params![parent, resource, cutoff]))
            .map_err(map_err)
    }

    fn issue_token(&mut self, nonce: &str, expires_at: i64) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached("DELETE FROM delete_tokens WHERE expires_at < ?")
            .and_then(|mut stmt| stmt.execute(params![now_ms()]))
            .map_err(map_err)?;
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO delete_tokens (nonce, expires_at) VALUES (?, ?)")
            .and_then(|mut stmt| stmt.execute(params![nonce, expires_at]))
            .map(drop)
            .map_err(map_err)
    }

    fn redeem_token(&mut self, nonce: &str, now: i64) -> StorageResult<bool> {
        self.require_writable()?;
        let removed = self
            .conn
            .prepare_cached("DELETE FROM delete_tokens WHERE nonce = ? AND expires_at >= ?")
            .and_then(|mut stmt| stmt.execute(params![nonce, now]))
            .map_err(map_err)?;
        Ok(removed > 0)
    }

    fn ensure_field_index(&mut self, path: &[String]) -> StorageResult<()> {
        self.require_writable()?;
        self.indexes.create(self.conn, path).map_err(map_err)
    }

    fn set_group_members(&mut self, group_uri: &str, members: &[String]) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached("DELETE FROM memberships WHERE principal = ?")
            .and_then(|mut stmt| stmt.execute(params![group_uri]))
            .map_err(map_err)?;
        let mut insert = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO memberships (user_id, principal) VALUES (?, ?)")
            .map_err(map_err)?;
        for member in members {
            insert.execute(params![member, group_uri]).map_err(map_err)?;
        }
        Ok(())
    }

    fn devices(&mut self) -> StorageResult<Vec<DeviceRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, spki, name, address, paired_at FROM devices ORDER BY id")
            .map_err(map_err)?;
        let rows = stmt
            .query_map([], |row| {
                Ok(DeviceRow {
                    id: row.get(0)?,
                    spki: row.get(1)?,
                    name: row.get(2)?,
                    address: row.get(3)?,
                    paired_at: row.get(4)?,
                })
            })
            .map_err(map_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    fn put_device(&mut self, device: &DeviceRow) -> StorageResult<()> {
        self.require_writable()?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO devices (id, spki, name, address, paired_at) VALUES (?, ?, ?, ?, ?)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![device.id, device.spki, device.name, device.address, device.paired_at])
            })
            .map(drop)
            .map_err(map_err)
    }

    fn delete_device(&mut self, id: &str) -> StorageResult<bool> {
        self.require_writable()?;
        self.conn
            .prepare_cached("DELETE FROM devices WHERE id = ?")
            .and_then(|mut stmt| stmt.execute(params![id]))
            .map(|n| n > 0)
            .map_err(map_err)
    }
}
