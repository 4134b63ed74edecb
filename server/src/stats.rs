//! Live figures about the running server for its owner (`GET /v1/__stats__`, the desktop
//! status page): uptime, requests served and their recent rate, errors, memory, database size
//! and object counts. Counting a request is two relaxed atomic additions.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

/// Seconds of history behind `requests_per_second`.
const RATE_WINDOW: u64 = 10;
/// Slots of the per-second ring (more than the window, so the current second never overlaps).
const SLOTS: usize = 16;

/// Shared counters; cheap to clone.
#[derive(Clone)]
pub struct Stats {
    inner: Arc<Inner>,
}

struct Inner {
    started: Instant,
    started_at_ms: i64,
    requests: AtomicU64,
    errors: AtomicU64,
    /// Per second: `second << 24 | count` (counts past 16M a second are not a concern).
    ring: [AtomicU64; SLOTS],
    database: PathBuf,
}

/// Object counts by kind (live objects, tombstones aside).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ObjectCounts {
    pub buckets: u64,
    pub collections: u64,
    pub groups: u64,
    pub records: u64,
    pub accounts: u64,
}

/// A reading of the counters, as `/__stats__` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StatsSnapshot {
    pub version: &'static str,
    /// Milliseconds since the epoch.
    pub started_at: i64,
    pub uptime_seconds: u64,
    pub requests: u64,
    /// Answers with a 5xx status.
    pub errors: u64,
    /// Mean over the last ten seconds.
    pub requests_per_second: f64,
    /// Resident memory of the process (Linux; 0 elsewhere).
    pub rss_bytes: u64,
    /// The database file and its write-ahead log.
    pub database_bytes: u64,
    pub data_dir: String,
    pub objects: ObjectCounts,
}

impl Stats {
    pub fn new(database: &Path) -> Stats {
        let started_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Stats {
            inner: Arc::new(Inner {
                started: Instant::now(),
                started_at_ms,
                requests: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                ring: std::array::from_fn(|_| AtomicU64::new(0)),
                database: database.to_path_buf(),
            }),
        }
    }

    /// Counts one answered request.
    pub fn record(&self, status: u16) {
        let inner = &self.inner;
        inner.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            inner.errors.fetch_add(1, Ordering::Relaxed);
        }
        let second = inner.started.elapsed().as_secs();
        let slot = &inner.ring[(second % SLOTS as u64) as usize];
        let mut current = slot.load(Ordering::Relaxed);
        loop {
            let next = if current >> 24 == second { current + 1 } else { (second << 24) | 1 };
            match slot.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
    }

    /// The counters now; `objects` comes from the storage (see [`crate::Server::stats_snapshot`]).
    pub fn snapshot(&self, objects: ObjectCounts) -> StatsSnapshot {
        let inner = &self.inner;
        let elapsed = inner.started.elapsed();
        let now = elapsed.as_secs();
        // The finished seconds of the window (the current one is still filling).
        let window = RATE_WINDOW.min(now).max(1);
        let recent: u64 = inner
            .ring
            .iter()
            .map(|slot| slot.load(Ordering::Relaxed))
            .filter(|packed| {
                let second = packed >> 24;
                second < now && second + window >= now
            })
            .map(|packed| packed & 0xFF_FFFF)
            .sum();
        let file_size = |path: PathBuf| std::fs::metadata(path).map_or(0, |m| m.len());
        let wal = inner.database.with_extension("sqlite-wal");
        StatsSnapshot {
            version: env!("CARGO_PKG_VERSION"),
            started_at: inner.started_at_ms,
            uptime_seconds: now,
            requests: inner.requests.load(Ordering::Relaxed),
            errors: inner.errors.load(Ordering::Relaxed),
            requests_per_second: if now == 0 { 0.0 } else { recent as f64 / window as f64 },
            rss_bytes: resident_bytes(),
            database_bytes: file_size(inner.database.clone()) + file_size(wal),
            data_dir: inner.database.parent().map(|p| p.display().to_string()).unwrap_or_default(),
            objects,
        }
    }
}

/// `VmRSS` of this process, from /proc (0 where there is none).
fn resident_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return 0 };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_server_errors() {
        let stats = Stats::new(Path::new("/nonexistent/kintoun.sqlite"));
        for status in [200, 404, 500, 503] {
            stats.record(status);
        }
        let snapshot = stats.snapshot(ObjectCounts::default());
        assert_eq!(snapshot.requests, 4);
        assert_eq!(snapshot.errors, 2);
        assert_eq!(snapshot.database_bytes, 0);
        assert_eq!(snapshot.data_dir, "/nonexistent");
        #[cfg(target_os = "linux")]
        assert!(snapshot.rss_bytes > 0);
    }
}
