//! A link's live progress, as the owner endpoints and the CLI show it: the phase, what the
//! current (or last) run pulled and pushed, the total announced by the remote, run numbers
//! (a "sync now" answers the number of the run that will include it; `completed_run` reaching
//! it means done), and when the next scheduled sync is due.

use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::watch;

use crate::storage::sqlite::now_ms;

/// What the link's task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    #[default]
    Idle,
    Pulling,
    Pushing,
    /// Waiting for the remote's `Backoff`/`Retry-After`.
    Waiting,
}

/// A copy of the progress, for the endpoints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    pub phase: Phase,
    /// The number of the newest run asked for, and of the last one finished.
    pub run: u64,
    pub completed_run: u64,
    /// Changes pulled (remote objects read) and pushed (writes sent) by the current/last run.
    pub pulled: u64,
    pub pushed: u64,
    /// How many remote changes this run had to pull, when the remote says (`Total-Records`).
    pub total: Option<u64>,
    pub pages: u64,
    pub conflicts_found: u64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The outcome of the last finished run (`None`: it succeeded).
    pub last_run_error: Option<String>,
    /// When the next scheduled attempt is due (ms since the epoch).
    pub next_sync_at: Option<i64>,
}

/// The shared, updatable progress of one link.
pub struct Progress {
    state: Mutex<Snapshot>,
    completed: watch::Sender<u64>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress { state: Mutex::default(), completed: watch::channel(0).0 }
    }
}

impl Progress {
    fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        if let Ok(mut state) = self.state.lock() {
            change(&mut state);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A new run was asked for: its number.
    pub fn request(&self) -> u64 {
        let mut run = 0;
        self.update(|s| {
            s.run += 1;
            run = s.run;
        });
        run
    }

    /// The run numbers asked for so far.
    pub fn requested(&self) -> u64 {
        self.snapshot().run
    }

    /// A run starts that covers every request made so far; returns that number.
    pub fn start(&self) -> u64 {
        let mut covers = 0;
        self.update(|s| {
            covers = s.run;
            s.phase = Phase::Pulling;
            s.pulled = 0;
            s.pushed = 0;
            s.total = None;
            s.pages = 0;
            s.conflicts_found = 0;
            s.started_at = Some(now_ms());
            s.next_sync_at = None;
        });
        covers
    }

    pub fn phase(&self, phase: Phase) {
        self.update(|s| s.phase = phase);
    }

    pub fn set_total(&self, total: u64) {
        self.update(|s| s.total = Some(total));
    }

    pub fn pulled_page(&self, objects: u64, conflicts: u64) {
        self.update(|s| {
            s.pulled += objects;
            s.pages += 1;
            s.conflicts_found += conflicts;
        });
    }

    pub fn pushed(&self, writes: u64, conflicts: u64) {
        self.update(|s| {
            s.pushed += writes;
            s.conflicts_found += conflicts;
        });
    }

    /// The run covering requests up to `covers` ended.
    pub fn finish(&self, covers: u64, error: Option<String>, next_sync_at: i64) {
        self.update(|s| {
            s.phase = Phase::Idle;
            s.completed_run = s.completed_run.max(covers);
            s.finished_at = Some(now_ms());
            s.last_run_error = error;
            s.next_sync_at = Some(next_sync_at);
        });
        self.completed.send_replace(covers);
    }

    /// Waits until run `run` has finished.
    pub async fn finished(&self, run: u64) {
        let mut completed = self.completed.subscribe();
        let _ = completed.wait_for(|done| *done >= run).await;
    }
}
