//! Logs: `tracing` to stderr, to a daily-rotated file in `<data dir>/logs/` (a week kept), and to
//! a buffer of the most recent lines that the window shows (`recent_logs`).

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How many lines the buffer keeps.
const KEEP: usize = 500;

/// The most recent formatted log lines, shared with the IPC commands.
#[derive(Clone, Default)]
pub struct RecentLogs {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl RecentLogs {
    /// The last `limit` lines, oldest first.
    pub fn tail(&self, limit: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().skip(lines.len().saturating_sub(limit)).cloned().collect()
    }

    fn push(&self, text: &str) {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        for line in text.lines().filter(|line| !line.is_empty()) {
            if lines.len() == KEEP {
                lines.pop_front();
            }
            lines.push_back(line.to_owned());
        }
    }
}

/// One formatted event, handed to the buffer when the formatter is done with it.
pub struct LineWriter {
    logs: RecentLogs,
    buffer: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.logs.push(&String::from_utf8_lossy(&self.buffer));
    }
}

impl<'a> MakeWriter<'a> for RecentLogs {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter { logs: self.clone(), buffer: Vec::new() }
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("cannot create the log directory {path}: {source}")]
    Dir { path: std::path::PathBuf, source: std::io::Error },
    #[error(transparent)]
    File(#[from] tracing_appender::rolling::InitError),
}

/// What `init` returns: the buffer, and the guard that flushes the file writer when dropped.
pub struct Logging {
    pub recent: RecentLogs,
    _file_guard: tracing_appender::non_blocking::WorkerGuard,
}

/// Installs the global subscriber (level from `KINTOUN_LOG`, default `info`).
pub fn init(data_dir: &Path) -> Result<Logging, LoggingError> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir).map_err(|source| LoggingError::Dir { path: dir.clone(), source })?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("kintoun-desktop")
        .filename_suffix("log")
        .max_log_files(7)
        .build(&dir)?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    let recent = RecentLogs::default();
    let filter = || EnvFilter::try_from_env("KINTOUN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .with_filter(filter()),
        )
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(file).with_filter(filter()))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(recent.clone()).with_filter(filter()))
        .init();
    Ok(Logging { recent, _file_guard: guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_lines() {
        let logs = RecentLogs::default();
        for i in 0..(KEEP + 10) {
            let mut writer = logs.make_writer();
            let _ = writeln!(writer, "line {i}");
        }
        let tail = logs.tail(3);
        assert_eq!(
            tail,
            vec![format!("line {}", KEEP + 7), format!("line {}", KEEP + 8), format!("line {}", KEEP + 9)]
        );
        assert_eq!(logs.tail(usize::MAX).len(), KEEP);
    }
}
