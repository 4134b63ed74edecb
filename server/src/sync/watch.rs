//! Follows a link's remote collection live: the remote's change stream (Kintoun's SSE,
//! `GET .../collections/{cid}/events`, also over the devices' pinned TLS) wakes the link's task
//! on every event, so a change on the other side is pulled within a second. A remote without
//! the stream (any other Kinto server) is left to the periodic sync; a dropped stream is
//! reopened after a pause that grows while it keeps failing, and each (re)opening starts a sync
//! for what changed while it was closed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::client::KintoClient;
use crate::storage::LinkRow;

/// Pauses before reopening a stream: 1 s, doubling to 5 minutes.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(300);
/// How long to wait before asking again a remote that has no stream.
const NO_STREAM_PAUSE: Duration = Duration::from_secs(600);

/// What the watcher needs from the runner: the link as stored, and a client for its remote.
pub trait Remote: Send + Sync {
    fn link(&self) -> impl std::future::Future<Output = Option<LinkRow>> + Send;
    fn client(&self, link: &LinkRow) -> impl std::future::Future<Output = Option<KintoClient>> + Send;
}

/// Counts complete SSE events in a byte stream (a blank line ends one; comments such as the
/// `: keep-alive` heartbeat are not events).
#[derive(Default)]
pub struct EventCounter {
    line: Vec<u8>,
    has_field: bool,
}

impl EventCounter {
    /// Feeds a chunk; returns how many events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> usize {
        let mut events = 0;
        for &byte in chunk {
            if byte != b'\n' {
                if byte != b'\r' {
                    self.line.push(byte);
                }
                continue;
            }
            if self.line.is_empty() {
                if self.has_field {
                    events += 1;
                }
                self.has_field = false;
            } else if self.line.first() != Some(&b':') {
                self.has_field = true;
            }
            self.line.clear();
        }
        events
    }
}

/// Runs until `cancel`: keeps the remote's stream open and notifies `wake` on each event.
pub async fn follow(remote: impl Remote, wake: Arc<Notify>, cancel: CancellationToken) {
    let mut pause = FIRST_PAUSE;
    loop {
        let opened = async {
            let link = remote.link().await?;
            let client = remote.client(&link).await?;
            Some((link.id.clone(), client.open_events(&link.remote_bucket, &link.remote_collection).await))
        };
        let outcome = tokio::select! {
            _ = cancel.cancelled() => return,
            outcome = opened => outcome,
        };
        let wait = match outcome {
            Some((link, Ok(Some(mut response)))) => {
                tracing::debug!(%link, "following the remote's change stream");
                // The stream tells only what happens from now on: one sync covers what changed
                // while it was closed (or before it was first opened).
                wake.notify_one();
                let mut counter = EventCounter::default();
                loop {
                    let chunk = tokio::select! {
                        _ = cancel.cancelled() => return,
                        chunk = response.chunk() => chunk,
                    };
                    match chunk {
                        Ok(Some(bytes)) => {
                            if counter.feed(&bytes) > 0 {
                                pause = FIRST_PAUSE;
                                wake.notify_one();
                            }
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
                pause = (pause * 2).min(MAX_PAUSE);
                pause
            }
            Some((link, Ok(None))) => {
                tracing::debug!(%link, "the remote has no change stream: periodic sync only");
                NO_STREAM_PAUSE
            }
            Some((link, Err(err))) => {
                tracing::debug!(%link, error = %err, "cannot open the remote's change stream");
                pause = (pause * 2).min(MAX_PAUSE);
                pause
            }
            None => {
                pause = (pause * 2).min(MAX_PAUSE);
                pause
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_counted_at_blank_lines_and_heartbeats_are_not() {
        let mut counter = EventCounter::default();
        assert_eq!(counter.feed(b": keep-alive\n\n"), 0);
        assert_eq!(counter.feed(b"id: 12\nevent: record\ndata: {\"a\":"), 0);
        assert_eq!(counter.feed(b"1}\n\nid: 13\r\ndata: {}\r\n\r\n"), 2);
        assert_eq!(counter.feed(b"retry: 2000\n\n"), 1);
    }
}
