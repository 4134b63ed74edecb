//! Adaptive expression indexes on data fields. Kinto objects are schemaless, so no index can
//! be declared up front for the fields users filter and sort on. When a listing that filters
//! or sorts on data fields takes longer than [`SLOW_LISTING`], each such field gets an index on
//! `(parent_id, resource_name, rank, value)` — the exact expressions `sql` compares — built by
//! the writer after the current jobs. At most [`MAX_FIELD_INDEXES`] are built, so writes stay
//! cheap; the fields of slow queries on large collections are the ones that get them.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::sql::{rank_expr, value_expr};
use crate::storage::{Field, ListQuery, Operator};

/// A listing slower than this asks for indexes on its data fields.
pub const SLOW_LISTING: Duration = Duration::from_millis(15);

/// Most field indexes kept.
pub const MAX_FIELD_INDEXES: usize = 24;

/// Which field indexes exist and which are wanted.
#[derive(Debug, Default)]
pub struct FieldIndexes {
    known: Mutex<HashSet<Vec<String>>>,
    wanted: Mutex<HashSet<Vec<String>>>,
}

/// The index name of a field path.
fn index_name(path: &[String]) -> String {
    let digest = Sha256::digest(path.join("\u{0}").as_bytes());
    format!("objects_field_{}", hex::encode(&digest[..8]))
}

/// The data fields a listing compares by value (filters other than `has`/`contains*`, sorts).
fn data_fields(query: &ListQuery) -> Vec<Vec<String>> {
    let mut fields = Vec::new();
    let filters = query
        .filters
        .iter()
        .filter(|f| !matches!(f.operator, Operator::Has | Operator::Contains | Operator::ContainsAny | Operator::Like));
    for field in filters.map(|f| &f.field).chain(query.sort.iter().map(|k| &k.field)) {
        if let Field::Data(path) = field {
            if !fields.contains(path) {
                fields.push(path.clone());
            }
        }
    }
    fields
}

impl FieldIndexes {
    /// Reads the field indexes the database already has.
    pub fn load(conn: &Connection) -> rusqlite::Result<FieldIndexes> {
        let mut stmt = conn.prepare("SELECT path FROM field_indexes")?;
        let paths = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut known = HashSet::new();
        for path in paths {
            if let Ok(path) = serde_json::from_str::<Vec<String>>(&path?) {
                known.insert(path);
            }
        }
        Ok(FieldIndexes { known: Mutex::new(known), wanted: Mutex::default() })
    }

    /// Notes a listing that took `elapsed`: a slow one wants its data fields indexed.
    pub fn observe(&self, query: &ListQuery, elapsed: Duration) {
        if elapsed < SLOW_LISTING {
            return;
        }
        let (Ok(known), Ok(mut wanted)) = (self.known.lock(), self.wanted.lock()) else { return };
        for path in data_fields(query) {
            if !known.contains(&path) && known.len() + wanted.len() < MAX_FIELD_INDEXES {
                wanted.insert(path);
            }
        }
    }

    /// The fields waiting for an index (and forgets them).
    pub fn take_wanted(&self) -> Vec<Vec<String>> {
        self.wanted.lock().map(|mut wanted| wanted.drain().collect()).unwrap_or_default()
    }

    /// Builds the index of one field (inside the writer's transaction) and refreshes the
    /// planner's statistics so that it is used.
    pub fn create(&self, conn: &Connection, path: &[String]) -> rusqlite::Result<()> {
        if self.known.lock().map(|known| known.contains(path)).unwrap_or(true) {
            return Ok(());
        }
        let name = index_name(path);
        let started = std::time::Instant::now();
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS {name} ON objects (parent_id, resource_name, ({}), ({}))",
            rank_expr(path),
            value_expr(path)
        ))?;
        conn.execute(
            "INSERT OR REPLACE INTO field_indexes (path, name) VALUES (?, ?)",
            rusqlite::params![serde_json::to_string(path).unwrap_or_default(), name],
        )?;
        conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE objects;")?;
        if let Ok(mut known) = self.known.lock() {
            known.insert(path.to_vec());
        }
        tracing::info!(field = %path.join("."), elapsed_ms = started.elapsed().as_millis() as u64, "built a field index");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Filter, SortKey};
    use serde_json::json;

    #[test]
    fn only_value_comparisons_on_data_fields_count() {
        let query = ListQuery {
            filters: vec![
                Filter { field: Field::parse("n"), operator: Operator::Gt, values: vec![json!(1)] },
                Filter { field: Field::parse("tags"), operator: Operator::Contains, values: vec![json!("a")] },
                Filter { field: Field::Id, operator: Operator::Eq, values: vec![json!("x")] },
            ],
            sort: vec![SortKey { field: Field::parse("a.b"), descending: false }],
            ..ListQuery::default()
        };
        assert_eq!(data_fields(&query), vec![vec!["n".to_owned()], vec!["a".to_owned(), "b".to_owned()]]);
    }

    #[test]
    fn slow_listings_want_indexes_once() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE objects (parent_id, resource_name, id, last_modified, deleted, data);
             CREATE TABLE field_indexes (path TEXT PRIMARY KEY, name TEXT);",
        )?;
        let indexes = FieldIndexes::load(&conn)?;
        let query =
            ListQuery { sort: vec![SortKey { field: Field::parse("n"), descending: false }], ..ListQuery::default() };
        indexes.observe(&query, Duration::from_millis(1));
        assert!(indexes.take_wanted().is_empty());
        indexes.observe(&query, Duration::from_millis(100));
        let wanted = indexes.take_wanted();
        assert_eq!(wanted, vec![vec!["n".to_owned()]]);
        indexes.create(&conn, &wanted[0])?;
        indexes.observe(&query, Duration::from_millis(100));
        assert!(indexes.take_wanted().is_empty());
        Ok(())
    }
}
