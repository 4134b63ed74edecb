//! Versioned schema migrations for the SQLite backend, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

/// Each entry upgrades the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: objects, list timestamps, access control entries, group memberships.
    r#"
    CREATE TABLE objects (
        parent_id     TEXT    NOT NULL,
        resource_name TEXT    NOT NULL,
        id            TEXT    NOT NULL,
        last_modified INTEGER NOT NULL,
        deleted       INTEGER NOT NULL DEFAULT 0,
        data          TEXT    NOT NULL,
        PRIMARY KEY (parent_id, resource_name, id)
    ) WITHOUT ROWID;
    CREATE INDEX objects_by_time ON objects (parent_id, resource_name, last_modified DESC, id DESC);

    CREATE TABLE timestamps (
        parent_id     TEXT    NOT NULL,
        resource_name TEXT    NOT NULL,
        last_modified INTEGER NOT NULL,
        PRIMARY KEY (parent_id, resource_name)
    ) WITHOUT ROWID;

    CREATE TABLE aces (
        object_id  TEXT NOT NULL,
        permission TEXT NOT NULL,
        principal  TEXT NOT NULL,
        PRIMARY KEY (object_id, permission, principal)
    ) WITHOUT ROWID;
    CREATE INDEX aces_by_principal ON aces (principal, permission, object_id);

    CREATE TABLE memberships (
        user_id   TEXT NOT NULL,
        principal TEXT NOT NULL,
        PRIMARY KEY (user_id, principal)
    ) WITHOUT ROWID;
    CREATE INDEX memberships_by_principal ON memberships (principal);
    "#,
    // 2: single-use pagination tokens of plural DELETEs (REC-PAGE-DELETE).
    r#"
    CREATE TABLE delete_tokens (
        nonce      TEXT    NOT NULL PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: the registry of adaptive field indexes (see `indexes`).
    r#"
    CREATE TABLE field_indexes (
        path TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 4: how many records use each stored attachment file (content-addressed files are shared).
    r#"
    CREATE TABLE attachment_refs (
        location TEXT    NOT NULL PRIMARY KEY,
        refs     INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 5: paired LAN devices (`sharing`): the pinned key of each, in the same database as the
    // ACLs so that revoking a device (ACEs, groups, pin) is one transaction.
    r#"
    CREATE TABLE devices (
        id        TEXT    NOT NULL PRIMARY KEY,
        spki      BLOB    NOT NULL,
        name      TEXT    NOT NULL,
        address   TEXT    NOT NULL,
        paired_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 6: the replicator (`sync`): links between a local and a remote collection with their
    // checkpoints, each record's last agreed version, and the conflict inbox. Credentials for
    // the remote are never here (secrets store, `sync-<link id>`).
    r#"
    CREATE TABLE sync_links (
        id                TEXT    NOT NULL PRIMARY KEY,
        local_bucket      TEXT    NOT NULL,
        local_collection  TEXT    NOT NULL,
        remote_kind       TEXT    NOT NULL,
        remote_url        TEXT,
        remote_device     TEXT,
        remote_bucket     TEXT    NOT NULL,
        remote_collection TEXT    NOT NULL,
        direction         TEXT    NOT NULL,
        remote_checkpoint INTEGER NOT NULL DEFAULT 0,
        local_checkpoint  INTEGER NOT NULL DEFAULT 0,
        last_sync         INTEGER,
        last_error        TEXT,
        created_at        INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE sync_records (
        link_id   TEXT    NOT NULL,
        record_id TEXT    NOT NULL,
        local_ts  INTEGER NOT NULL,
        remote_ts INTEGER,
        base      TEXT    NOT NULL,
        PRIMARY KEY (link_id, record_id)
    ) WITHOUT ROWID;

    CREATE TABLE sync_conflicts (
        link_id     TEXT    NOT NULL,
        record_id   TEXT    NOT NULL,
        mine        TEXT    NOT NULL,
        mine_ts     INTEGER NOT NULL,
        theirs      TEXT    NOT NULL,
        theirs_ts   INTEGER,
        base        TEXT,
        reason      TEXT    NOT NULL,
        detected_at INTEGER NOT NULL,
        PRIMARY KEY (link_id, record_id)
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`CURRENT_VERSION`], one transaction per step. Refuses a database
/// written by a newer Kintoun.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<MigrationReport> {
    let from: usize = conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))? as usize;
    if from > CURRENT_VERSION {
        return Ok(MigrationReport { from, to: from, too_new: true });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied storage migration");
    }
    Ok(MigrationReport { from, to: CURRENT_VERSION, too_new: false })
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    pub from: usize,
    pub to: usize,
    /// The file comes from a newer version of Kintoun; it was left untouched.
    pub too_new: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_new_database_once() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        let first = migrate(&mut conn)?;
        assert_eq!((first.from, first.to), (0, CURRENT_VERSION));
        let second = migrate(&mut conn)?;
        assert_eq!((second.from, second.to), (CURRENT_VERSION, CURRENT_VERSION));
        Ok(())
    }

    #[test]
    fn refuses_a_newer_schema() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "user_version", 999)?;
        assert!(migrate(&mut conn)?.too_new);
        Ok(())
    }
}
