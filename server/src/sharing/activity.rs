//! The device layer's activity log (pairings started, to confirm, paired, failed, revoked):
//! the last events, numbered by a serial that keeps growing while the server runs — across
//! restarts of the LAN side too — so the UI and the desktop notifications read "what's new
//! since N" without missing or repeating anything.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use crate::storage::sqlite::now_ms;

/// How many events are kept.
const MAX_EVENTS: usize = 200;

/// Something the UI may want to show or notify about.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub serial: u64,
    pub at: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    PairingStarted {
        code_expires_in_seconds: u64,
    },
    /// The PAKE succeeded: the user must compare `sas` with the other screen and confirm.
    PairingConfirm {
        device: String,
        name: String,
        sas: String,
    },
    Paired {
        device: String,
        name: String,
        sas: String,
    },
    PairingFailed {
        reason: String,
        attempts_left: u8,
        /// The peer, when a pending confirmation was rejected or expired.
        #[serde(skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    PairingClosed {
        state: String,
    },
    Revoked {
        device: String,
        by: String,
    },
}

/// The last [`MAX_EVENTS`] events.
#[derive(Default)]
pub struct EventLog {
    events: Mutex<(u64, VecDeque<Event>)>,
}

impl EventLog {
    /// Events after serial `since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<Event> {
        self.events.lock().map(|e| e.1.iter().filter(|e| e.serial > since).cloned().collect()).unwrap_or_default()
    }

    /// Records an event with the next serial.
    pub fn push(&self, kind: EventKind) {
        if let Ok(mut events) = self.events.lock() {
            events.0 += 1;
            let serial = events.0;
            events.1.push_back(Event { serial, at: now_ms(), kind });
            while events.1.len() > MAX_EVENTS {
                events.1.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_grow_and_old_events_fall_off() {
        let log = EventLog::default();
        for _ in 0..MAX_EVENTS + 5 {
            log.push(EventKind::PairingClosed { state: "expired".into() });
        }
        let all = log.since(0);
        assert_eq!(all.len(), MAX_EVENTS);
        assert_eq!(all.first().map(|e| e.serial), Some(6));
        assert_eq!(log.since(MAX_EVENTS as u64 + 3).len(), 2);
    }
}
