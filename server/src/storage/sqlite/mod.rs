//! The SQLite backend: one database file in WAL mode, one writer thread that commits queued
//! write jobs together (group commit, one savepoint per job), and a small pool of read-only
//! connections for read jobs. A reply to a write is only sent once its commit is durable;
//! then the lists the group changed are published on the [`ChangeBus`].

mod indexes;
mod migrations;
mod sql;
mod sync_tx;
mod tx;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use rusqlite::{Connection, OpenFlags};

pub use migrations::CURRENT_VERSION as SCHEMA_VERSION;
pub use tx::now_ms;
use tx::{SqliteTx, map_err};

use crate::changes::{ChangeBus, ChangeSet};
use crate::storage::{Backend, ReadJob, StorageError, StorageResult, WriteJob, WriteOutcome};
use indexes::FieldIndexes;

/// Most write jobs committed together in one transaction.
const MAX_GROUP: usize = 128;

/// How durable a commit is (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// fsync the WAL on every commit: survives power loss.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a killed process, not a power cut.
    Normal,
}

/// Options for opening the database.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub durability: Durability,
    pub readers: usize,
}

/// The SQLite backend handle.
pub struct SqliteBackend {
    writer: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer_thread: Mutex<Option<thread::JoinHandle<()>>>,
    readers: Arc<ReadPool>,
    healthy: Arc<AtomicBool>,
    changes: ChangeBus,
}

/// Reader threads, each owning a read-only connection, taking jobs from one queue.
struct ReadPool {
    path: PathBuf,
    queue: Mutex<Option<mpsc::Sender<ReadJob>>>,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

/// Page cache of the writer's connection, in KiB: writes touch indexes all over the file.
const WRITER_CACHE_KIB: i64 = 16_000;
/// Page cache of each reader's connection, in KiB. Readers are several and pages they miss come
/// from the OS's file cache; with 16 MB each, a server that had read 100k records held 64 MB of
/// duplicate pages.
const READER_CACHE_KIB: i64 = 4_000;

fn configure(conn: &Connection, durability: Durability, cache_kib: i64) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}")]
    Directory { path: PathBuf, source: std::io::Error },
    #[error("cannot open the database {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("the database {path} was written by a newer Kintoun (schema {found}, this build knows {known})")]
    TooNew { path: PathBuf, found: usize, known: usize },
    #[error("cannot start the writer thread: {0}")]
    Thread(std::io::Error),
}

impl SqliteBackend {
    /// Opens (creating and migrating if needed) the database at `options.path`.
    pub fn open(options: &SqliteOptions) -> Result<Self, OpenError> {
        let path = options.path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::Directory { path: dir.to_owned(), source })?;
        }
        let sqlite_err = |source| OpenError::Sqlite { path: path.clone(), source };
        let mut conn = Connection::open(&path).map_err(sqlite_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite_err)?;
        configure(&conn, options.durability, WRITER_CACHE_KIB).map_err(sqlite_err)?;
        let report = migrations::migrate(&mut conn).map_err(sqlite_err)?;
        if report.too_new {
            return Err(OpenError::TooNew { path, found: report.from, known: migrations::CURRENT_VERSION });
        }
        let indexes = Arc::new(FieldIndexes::load(&conn).map_err(sqlite_err)?);
        let healthy = Arc::new(AtomicBool::new(true));
        let (sender, receiver) = mpsc::channel::<WriteJob>();
        let writer_health = healthy.clone();
        let writer_indexes = indexes.clone();
        let changes = ChangeBus::new();
        let writer_changes = changes.clone();
        let handle = thread::Builder::new()
            .name("kintoun-writer".into())
            .spawn(move || writer_loop(conn, receiver, writer_health, writer_indexes, writer_changes))
            .map_err(OpenError::Thread)?;
        let readers = Arc::new(ReadPool::start(path.clone(), options.readers, indexes, sender.clone())?);
        tracing::info!(path = %path.display(), schema = migrations::CURRENT_VERSION, "storage opened");
        Ok(SqliteBackend {
            writer: Mutex::new(Some(sender)),
            writer_thread: Mutex::new(Some(handle)),
            readers,
            healthy,
            changes,
        })
    }

    /// Stops accepting writes and waits for queued ones to be committed.
    pub fn close(&self) {
        self.readers.stop();
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        if let Some(handle) = self.writer_thread.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.readers.path
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.close();
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    configure(&conn, Durability::Normal, READER_CACHE_KIB)?;
    Ok(conn)
}

/// Runs transaction-control statements through the connection's statement cache
/// (`execute_batch` parsed them again for every job: ~5% of a record GET's CPU).
fn exec(conn: &Connection, statements: &[&str]) -> rusqlite::Result<()> {
    for sql in statements {
        conn.prepare_cached(sql)?.execute([])?;
    }
    Ok(())
}

/// Runs one read job in its own snapshot.
fn run_read_job(conn: &Connection, indexes: &FieldIndexes, job: ReadJob) {
    if let Err(err) = exec(conn, &["BEGIN"]) {
        tracing::error!(%err, "cannot begin a read transaction");
        return; // dropping the job answers 503
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut tx = SqliteTx::new(conn, false, indexes);
        job(&mut tx);
    }));
    let _ = exec(conn, &["COMMIT"]);
    if outcome.is_err() {
        tracing::error!("a read job panicked");
    }
}

/// Hands the fields that slow listings want indexed to the writer.
fn request_indexes(indexes: &FieldIndexes, writer: &mpsc::Sender<WriteJob>) {
    let wanted = indexes.take_wanted();
    if wanted.is_empty() {
        return;
    }
    let _ = writer.send(Box::new(move |tx| {
        for path in &wanted {
            if let Err(err) = tx.ensure_field_index(path) {
                tracing::warn!(%err, field = %path.join("."), "could not build a field index");
            }
        }
        WriteOutcome { keep: true, complete: Box::new(|_| {}) }
    }));
}

impl ReadPool {
    fn start(
        path: PathBuf,
        count: usize,
        indexes: Arc<FieldIndexes>,
        writer: mpsc::Sender<WriteJob>,
    ) -> Result<ReadPool, OpenError> {
        let (sender, receiver) = mpsc::channel::<ReadJob>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = Vec::with_capacity(count);
        for index in 0..count.max(1) {
            // Open every connection now so that a broken file fails at start.
            let conn = open_reader(&path).map_err(|source| OpenError::Sqlite { path: path.clone(), source })?;
            let receiver = receiver.clone();
            let (indexes, writer) = (indexes.clone(), writer.clone());
            let handle = thread::Builder::new()
                .name(format!("kintoun-reader-{index}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => break,
                        };
                        match job {
                            Ok(job) => run_read_job(&conn, &indexes, job),
                            Err(_) => break,
                        }
                        request_indexes(&indexes, &writer);
                    }
                })
                .map_err(OpenError::Thread)?;
            threads.push(handle);
        }
        Ok(ReadPool { path, queue: Mutex::new(Some(sender)), threads: Mutex::new(threads) })
    }

    fn submit(&self, job: ReadJob) {
        let sender = self.queue.lock().ok().and_then(|q| q.clone());
        if let Some(sender) = sender {
            let _ = sender.send(job);
        }
    }

    fn stop(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let threads = self.threads.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        for handle in threads {
            let _ = handle.join();
        }
    }
}

impl Backend for SqliteBackend {
    fn run_read(&self, job: ReadJob) {
        self.readers.submit(job);
    }

    fn run_write(&self, job: WriteJob) {
        let sender = self.writer.lock().ok().and_then(|w| w.clone());
        if let Some(sender) = sender {
            // A send error drops the job, which answers 503.
            let _ = sender.send(job);
        }
    }

    fn changes(&self) -> &ChangeBus {
        &self.changes
    }

    fn healthy(&self) -> bool {
        if !self.healthy.load(Ordering::Relaxed) {
            return false;
        }
        match open_reader(&self.readers.path) {
            Ok(conn) => conn.query_row("SELECT COUNT(*) FROM timestamps", [], |row| row.get::<_, i64>(0)).is_ok(),
            Err(_) => false,
        }
    }
}

/// The writer thread: takes every queued job, runs each in its own savepoint inside one
/// transaction, commits once, then tells each job how the commit went and publishes the lists
/// the kept jobs changed.
fn writer_loop(
    conn: Connection,
    receiver: mpsc::Receiver<WriteJob>,
    healthy: Arc<AtomicBool>,
    indexes: Arc<FieldIndexes>,
    bus: ChangeBus,
) {
    while let Ok(first) = receiver.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        if let Err(err) = exec(&conn, &["BEGIN IMMEDIATE"]) {
            tracing::error!(%err, "cannot begin a write transaction");
            healthy.store(false, Ordering::Relaxed);
            continue; // the dropped jobs answer 503
        }
        let mut completions = Vec::with_capacity(jobs.len());
        let mut changes = ChangeSet::default();
        for job in jobs {
            if let Err(err) = exec(&conn, &["SAVEPOINT job"]) {
                tracing::error!(%err, "cannot open a savepoint");
                continue;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let mut tx = SqliteTx::new(&conn, true, &indexes);
                let outcome = job(&mut tx);
                let changed = if outcome.keep { tx.take_changes() } else { ChangeSet::default() };
                (outcome, changed)
            }));
            match outcome {
                Ok((outcome, changed)) => {
                    let end: &[&str] =
                        if outcome.keep { &["RELEASE job"] } else { &["ROLLBACK TO job", "RELEASE job"] };
                    match exec(&conn, end) {
                        Ok(()) => {
                            changes.merge(changed);
                            completions.push(outcome.complete);
                        }
                        Err(err) => {
                            tracing::error!(%err, "cannot close a savepoint");
                            (outcome.complete)(Err(map_err(err)));
                        }
                    }
                }
                Err(_) => {
                    tracing::error!("a write job panicked; its changes were rolled back");
                    let _ = exec(&conn, &["ROLLBACK TO job", "RELEASE job"]);
                }
            }
        }
        let commit: StorageResult<()> = exec(&conn, &["COMMIT"]).map_err(|err| {
            let _ = exec(&conn, &["ROLLBACK"]);
            map_err(err)
        });
        healthy.store(commit.is_ok(), Ordering::Relaxed);
        if let Err(err) = &commit {
            tracing::error!(%err, "commit failed");
        }
        let committed = commit.is_ok();
        for complete in completions {
            complete(commit.clone().map_err(|e: StorageError| e));
        }
        if committed {
            bus.publish(changes);
        }
    }
    // Channel closed: checkpoint so the WAL does not linger.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{ListQuery, Stamp, Store};
    use serde_json::{Map, json};

    fn open(dir: &tempfile::TempDir) -> Store {
        let backend = SqliteBackend::open(&SqliteOptions {
            path: dir.path().join("test.sqlite"),
            durability: Durability::Normal,
            readers: 2,
        })
        .expect("open");
        Store::new(Arc::new(backend))
    }

    fn fields(value: serde_json::Value) -> Map<String, serde_json::Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[tokio::test]
    async fn write_then_read_back() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        let stored =
            store.write(|tx| tx.put("/buckets/b", "collection", "c", fields(json!({"a": 1})), Stamp::Now)).await?;
        let read = store.read(|tx| tx.get("/buckets/b", "collection", "c")).await?;
        assert_eq!(read.as_ref().map(|o| &o.data), Some(&stored.data));
        assert_eq!(stored.data["a"], json!(1));
        Ok(())
    }

    #[tokio::test]
    async fn timestamps_strictly_increase_per_list() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        let stamps = store
            .write(|tx| {
                let mut out = Vec::new();
                for i in 0..50 {
                    out.push(tx.put("p", "record", &format!("r{i}"), Map::new(), Stamp::Now)?.last_modified);
                }
                Ok::<_, StorageError>(out)
            })
            .await?;
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
        Ok(())
    }

    #[tokio::test]
    async fn requested_timestamps_follow_the_list_rules() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        let (past, equal, list_after) = store
            .write(|tx| {
                let past = tx.put("p", "record", "b", Map::new(), Stamp::Requested(123))?.last_modified;
                // The first write in a list leaves it at "now", not at a past value.
                assert!(tx.list_timestamp("p", "record")? > 123);
                let first = tx.put("p", "record", "a", Map::new(), Stamp::Now)?.last_modified;
                let equal = tx.put("p", "record", "c", Map::new(), Stamp::Requested(first))?.last_modified;
                let list = tx.list_timestamp("p", "record")?;
                Ok::<_, StorageError>((past, equal - first, list - first))
            })
            .await?;
        assert_eq!((past, equal, list_after), (123, 1, 1));
        Ok(())
    }

    #[tokio::test]
    async fn a_failed_job_is_rolled_back_alone() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        let failed: Result<(), StorageError> = store
            .write(|tx| {
                tx.put("p", "record", "lost", Map::new(), Stamp::Now)?;
                Err(StorageError::Conflict("test".into()))
            })
            .await;
        assert!(failed.is_err());
        store.write(|tx| tx.put("p", "record", "kept", Map::new(), Stamp::Now).map(drop)).await?;
        let all = store.read(|tx| tx.list("p", "record", &ListQuery::default())).await?;
        assert_eq!(all.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), vec!["kept"]);
        Ok(())
    }

    #[tokio::test]
    async fn committed_writes_are_announced_and_rolled_back_ones_are_not() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        let mut changes = store.changes().subscribe();
        let _: Result<(), StorageError> = store
            .write(|tx| {
                tx.put("/buckets/b/collections/c", "record", "lost", Map::new(), Stamp::Now)?;
                Err(StorageError::Conflict("test".into()))
            })
            .await;
        let stamps = store
            .write(|tx| {
                let a = tx.put("/buckets/b/collections/c", "record", "a", Map::new(), Stamp::Now)?.last_modified;
                let b = tx.delete("/buckets/b/collections/c", "record", "a", Stamp::Now)?.last_modified;
                tx.set_acl("/buckets/b/collections/d", &crate::storage::Acl::new())?;
                Ok::<_, StorageError>((a, b))
            })
            .await?;
        let first = changes.recv().await.expect("a change");
        assert_eq!((first.parent_id.as_str(), first.resource_name.as_str()), ("/buckets/b/collections/c", "record"));
        assert_eq!(first.timestamp, stamps.1);
        let second = changes.recv().await.expect("a change");
        assert_eq!((second.parent_id.as_str(), second.resource_name.as_str()), ("/buckets/b", "collection"));
        assert!(changes.try_recv().is_err(), "the rolled-back job announced nothing, each list came once");
        Ok(())
    }

    #[tokio::test]
    async fn reads_never_write() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        let result = store.read(|tx| tx.list_timestamp("never", "record")).await;
        assert!(matches!(result, Err(StorageError::NeedsWrite)));
        let stamp = store.write(|tx| tx.list_timestamp("never", "record")).await?;
        assert_eq!(store.read(|tx| tx.list_timestamp("never", "record")).await?, stamp);
        Ok(())
    }

    #[tokio::test]
    async fn purge_removes_everything_below_but_not_siblings() -> Result<(), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir);
        store
            .write(|tx| {
                tx.put("/buckets/b/collections/c", "record", "r", Map::new(), Stamp::Now)?;
                tx.put("/buckets/b/collections/c2", "record", "r", Map::new(), Stamp::Now)?;
                tx.put("/buckets/b0", "collection", "x", Map::new(), Stamp::Now)?;
                tx.purge_below("/buckets/b/collections/c")
            })
            .await?;
        let gone = store.read(|tx| tx.get("/buckets/b/collections/c", "record", "r")).await?;
        let kept = store.read(|tx| tx.get("/buckets/b/collections/c2", "record", "r")).await?;
        let sibling = store.read(|tx| tx.get("/buckets/b0", "collection", "x")).await?;
        assert!(gone.is_none() && kept.is_some() && sibling.is_some());
        Ok(())
    }
}
