//! Live change streams (Server-Sent Events, Kintoun's own; Kinto has none):
//! `GET /v1/buckets/{bid}/collections/{cid}/events` (the collection's records) and
//! `GET /v1/buckets/{bid}/events` (the bucket's collections and their records).
//!
//! A stream is authorised like a `GET` of the list it follows (same 401/403/404 bodies, same
//! per-record read filter) and re-checked at every catch-up: when the caller may no longer
//! list, an `end` event carries the list's refusal and the stream closes.
//!
//! Wire format: a `retry:` hint first; then, oldest first, one event per change:
//!
//! ```text
//! id: 1795330480999
//! event: record
//! data: {"action":"update","resource_name":"record","bucket":"b","collection":"c","id":"r1","timestamp":1795330480999,"data":{...}}
//! ```
//!
//! (`action` is `delete` for tombstones, `update` otherwise: storage cannot tell a create from
//! an update). Bucket streams also send `event: collection` for their collections. Once the
//! stream has replayed what the client missed, `event: ready` (its `id` is the position) marks
//! the switch to live changes; `: keep-alive` comments come every `events_heartbeat_seconds`.
//! Ids are positions ([`cursor`]): `Last-Event-ID` (or `?_since=`) resumes after them with
//! neither gap nor duplicate. The stream subscribes to the change bus *before* its first read,
//! then re-reads storage by timestamp after every notification ("notify then query").
//!
//! Limits: `events_max_streams` open streams (503 with `Retry-After` beyond), a bucket stream
//! follows at most [`cursor::MAX_BUCKET_COLLECTIONS`] collections, at most [`follow::PAGE`]
//! changes per list per read. Streams end at server shutdown. Browsers cannot set
//! `Authorization` on an `EventSource`: they read the stream with `fetch()` (no token in URLs).

pub mod cursor;
pub mod follow;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::IntoResponse;
use axum::response::sse::{Event, Sse};
use futures_util::StreamExt;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::changes::Changed;
use crate::error::ApiError;
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::state::AppState;
use follow::{Follow, Resume, Scope};

/// Events buffered for a slow client before the stream waits for it.
const BUFFER: usize = 64;

/// The open streams: a slot each (`events_max_streams`), and the signal that ends them all.
#[derive(Clone)]
pub struct Streams {
    slots: Arc<Semaphore>,
    limit: usize,
    closing: CancellationToken,
}

impl Streams {
    pub fn new(limit: usize) -> Streams {
        Streams { slots: Arc::new(Semaphore::new(limit)), limit, closing: CancellationToken::new() }
    }

    /// Ends every open stream (the server is stopping); later ones end at once.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// How many streams are open.
    pub fn open(&self) -> usize {
        self.limit.saturating_sub(self.slots.available_permits())
    }
}

/// What a stream needs besides its position.
#[derive(Clone)]
struct Context {
    state: AppState,
    user_id: Option<String>,
}

/// `/buckets/default/...`: the caller's personal bucket (not created by reading its stream).
fn personal(state: &AppState, scope: &Scope, user_id: Option<&str>) -> Result<Scope, ApiError> {
    let settings = &state.settings;
    let bucket = match scope {
        Scope::Collection { bucket, .. } | Scope::Bucket { bucket } => bucket,
    };
    if bucket != "default" || !settings.includes("default_bucket") {
        return Ok(scope.clone());
    }
    let Some(user) = user_id else { return Err(crate::auth::deny(settings, None)) };
    let real = crate::plugins::default_bucket::bucket_id(&settings.default_bucket_hmac_secret, user);
    Ok(match scope {
        Scope::Collection { collection, .. } => Scope::Collection { bucket: real, collection: collection.clone() },
        Scope::Bucket { .. } => Scope::Bucket { bucket: real },
    })
}

/// Answers `GET .../events`: the response head and the event stream.
pub async fn open(
    state: &AppState,
    request: &ApiRequest,
    scope: &Scope,
    user_id: Option<String>,
) -> Result<(ApiResponse, Body), ApiError> {
    let scope = personal(state, scope, user_id.as_deref())?;
    let resume = match request.header("last-event-id").map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => Some(Resume::Header(id.to_owned())),
        None => request.query_pairs().into_iter().find(|(name, _)| name == "_since").map(|(_, v)| Resume::Query(v)),
    };
    // Subscribe before the first read: whatever commits after it is announced to this stream.
    let changes = state.changes.subscribe();
    let settings = state.settings.clone();
    let user = user_id.clone();
    let follow =
        state.store.read(move |tx| Follow::start(tx, &settings, &scope, user.as_deref(), resume.as_ref())).await?;
    let permit = state
        .streams
        .slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::TooManyStreams { limit: state.streams.limit })?;
    let (sender, mut receiver) = mpsc::channel::<Event>(BUFFER);
    let closing = state.streams.closing.clone();
    let context = Context { state: state.clone(), user_id };
    tokio::spawn(async move {
        pump(context, follow, changes, sender).await;
        drop(permit);
    });
    let events = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
        .map(Ok::<Event, Infallible>)
        .take_until(closing.cancelled_owned());
    let body = Sse::new(events).into_response().into_body();
    let head = ApiResponse::empty(200)
        .with_header("content-type", "text/event-stream")
        .with_header("cache-control", "no-cache")
        .with_header("x-accel-buffering", "no");
    Ok((head, body))
}

/// An event as SSE frames it.
fn frame(event: &follow::Outgoing) -> Event {
    Event::default().id(&event.id).event(event.name).data(&event.data)
}

/// The last event of a stream the caller may no longer read: the list's error body.
fn end_event(state: &AppState, err: &ApiError) -> Event {
    Event::default().event("end").data(crate::json::to_string(&err.body(&state.settings.error_info_link)))
}

/// Sends one event; false when the client left or the server is stopping.
async fn emit(out: &mpsc::Sender<Event>, closing: &CancellationToken, event: Event) -> bool {
    tokio::select! {
        biased;
        _ = closing.cancelled() => false,
        sent = out.send(event) => sent.is_ok(),
    }
}

/// Reads and sends every change after the stream's position, page after page.
async fn catch_up(context: &Context, follow: &mut Follow, out: &mpsc::Sender<Event>) -> Result<bool, ApiError> {
    let closing = &context.state.streams.closing;
    loop {
        let settings = context.state.settings.clone();
        let user = context.user_id.clone();
        let current = follow.clone();
        let caught = context.state.store.read(move |tx| current.catch_up(tx, &settings, user.as_deref())).await?;
        *follow = caught.follow;
        for event in &caught.events {
            if !emit(out, closing, frame(event)).await {
                return Ok(false);
            }
        }
        if !caught.more {
            return Ok(true);
        }
    }
}

/// Runs one stream until the client leaves, the caller loses access or the server stops.
async fn pump(
    context: Context,
    mut follow: Follow,
    mut changes: broadcast::Receiver<Changed>,
    out: mpsc::Sender<Event>,
) {
    let state = &context.state;
    let closing = state.streams.closing.clone();
    let retry = Duration::from_secs(state.settings.retry_after_seconds.max(1));
    if !emit(&out, &closing, Event::default().retry(retry)).await {
        return;
    }
    let period = Duration::from_secs(state.settings.events_heartbeat_seconds.max(1));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ready = false;
    loop {
        match catch_up(&context, &mut follow, &out).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                if err.status() >= 500 {
                    tracing::warn!(%err, "an event stream stopped on a storage error");
                }
                emit(&out, &closing, end_event(state, &err)).await;
                return;
            }
        }
        if !ready {
            ready = true;
            let event = Event::default().id(follow.id()).event("ready").data("{}");
            if !emit(&out, &closing, event).await {
                return;
            }
        }
        // Wait for a change this stream follows, or the heartbeat (which also re-checks access).
        loop {
            tokio::select! {
                biased;
                _ = closing.cancelled() => return,
                _ = out.closed() => return,
                _ = heartbeat.tick() => {
                    if !emit(&out, &closing, Event::default().comment("keep-alive")).await {
                        return;
                    }
                    follow.note_all();
                    break;
                }
                received = changes.recv() => match received {
                    Ok(changed) => {
                        if follow.note(&changed) {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        follow.note_all();
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
        // Coalesce what is already queued into this one catch-up.
        loop {
            match changes.try_recv() {
                Ok(changed) => {
                    follow.note(&changed);
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => follow.note_all(),
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn framed(events: Vec<Event>) -> String {
        let stream = futures_util::stream::iter(events.into_iter().map(Ok::<Event, Infallible>));
        let body = Sse::new(stream).into_response().into_body();
        let bytes = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn events_are_framed_as_sse_with_multi_line_data_split() {
        let record = follow::Outgoing { id: "17".into(), name: "record", data: "{\"a\":\"x\\ny\"}".into() };
        let text = framed(vec![
            Event::default().retry(Duration::from_secs(3)),
            frame(&record),
            Event::default().event("end").data("line one\nline two\nline three"),
            Event::default().comment("keep-alive"),
        ])
        .await;
        assert_eq!(
            text,
            "retry: 3000\n\n\
             id: 17\nevent: record\ndata: {\"a\":\"x\\ny\"}\n\n\
             event: end\ndata: line one\ndata: line two\ndata: line three\n\n\
             : keep-alive\n\n"
        );
    }

    #[test]
    fn streams_count_their_slots() {
        let streams = Streams::new(2);
        let first = streams.slots.clone().try_acquire_owned();
        assert!(first.is_ok());
        assert_eq!(streams.open(), 1);
        let second = streams.slots.clone().try_acquire_owned();
        assert!(second.is_ok() && streams.slots.clone().try_acquire_owned().is_err());
        drop(first);
        assert_eq!(streams.open(), 1);
    }
}
