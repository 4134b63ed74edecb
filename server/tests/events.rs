//! Live change streams (`GET .../events`, Server-Sent Events) against the real server: order,
//! resumption without gap or duplicate (collection and bucket streams), permissions like a list
//! read, heartbeats, shutdown with open streams, the stream cap, routing like every endpoint,
//! and the change bus seen from the library.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::helpers::{FORBIDDEN, UNAUTHORIZED, delete, get, patch, post, put};
use common::{Reply, TestServer, start, start_with};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");
const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";

/// Only to stop a broken test from hanging: nothing is asserted about time.
const PATIENCE: Duration = Duration::from_secs(30);

/// One SSE frame, parsed as the EventSource specification reads it.
#[derive(Debug, Default, Clone)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
    retry: Option<String>,
    comments: Vec<String>,
}

impl Frame {
    fn json(&self) -> Value {
        serde_json::from_str(self.data.as_deref().unwrap_or("null")).expect("data is JSON")
    }

    fn name(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// An open event stream.
struct Stream {
    response: Response,
    buffer: String,
}

impl Stream {
    /// The next frame; `None` once the server ended the stream.
    async fn frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in block.trim_end_matches('\n').split('\n') {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    match field {
                        "" => frame.comments.push(value),
                        "id" => frame.id = Some(value),
                        "event" => frame.event = Some(value),
                        "retry" => frame.retry = Some(value),
                        "data" => {
                            frame.data = Some(match frame.data.take() {
                                Some(before) => format!("{before}\n{value}"),
                                None => value,
                            })
                        }
                        other => panic!("unexpected field {other:?} in {block:?}"),
                    }
                }
                return Some(frame);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk()).await.expect("the stream stalled");
            match chunk {
                Ok(Some(bytes)) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
                Ok(None) | Err(_) => {
                    assert!(self.buffer.trim().is_empty(), "an unfinished frame: {:?}", self.buffer);
                    return None;
                }
            }
        }
    }

    /// The next event (comments and the retry hint skipped).
    async fn event(&mut self) -> Frame {
        let next = async {
            loop {
                let frame = self.frame().await.expect("an event, not the end of the stream");
                if frame.event.is_some() || frame.data.is_some() {
                    return frame;
                }
            }
        };
        tokio::time::timeout(PATIENCE, next).await.expect("no event came")
    }

    /// The next `n` change events (`ready` skipped).
    async fn changes(&mut self, n: usize) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(n);
        while frames.len() < n {
            let frame = self.event().await;
            if frame.name() != "ready" {
                frames.push(frame);
            }
        }
        frames
    }

    /// Events up to `ready` (the replay), without it; and `ready`'s id.
    async fn replay(&mut self) -> (Vec<Frame>, String) {
        let mut frames = Vec::new();
        loop {
            let frame = self.event().await;
            if frame.name() == "ready" {
                return (frames, frame.id.expect("ready has an id"));
            }
            frames.push(frame);
        }
    }
}

fn basic(builder: reqwest::RequestBuilder, auth: Option<&str>) -> reqwest::RequestBuilder {
    match auth.and_then(|a| a.split_once(':')) {
        Some((user, password)) => builder.basic_auth(user, Some(password)),
        None => builder,
    }
}

/// Opens `path` as an event stream; panics unless it answers 200.
async fn open(s: &TestServer, path: &str, auth: Option<&str>, headers: &[(&str, &str)]) -> Stream {
    let response = request(s, path, auth, headers).await;
    assert_eq!(response.status(), 200, "opening {path}");
    Stream { response, buffer: String::new() }
}

async fn request(s: &TestServer, path: &str, auth: Option<&str>, headers: &[(&str, &str)]) -> Response {
    let mut builder = basic(s.req(Method::GET, path), auth).header("Accept", "text/event-stream");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    tokio::time::timeout(PATIENCE, builder.send()).await.expect("the server answers").expect("request")
}

/// A bucket `b` with collections `names`, owned by alice.
async fn setup(s: &TestServer, names: &[&str]) {
    assert_eq!(put(s, "/v1/buckets/b", ALICE, json!({})).await.status, 201);
    for name in names {
        assert_eq!(put(s, &format!("/v1/buckets/b/collections/{name}"), ALICE, json!({})).await.status, 201);
    }
}

fn records(collection: &str) -> String {
    format!("/v1/buckets/b/collections/{collection}/records")
}

fn record(collection: &str, id: &str) -> String {
    format!("/v1/buckets/b/collections/{collection}/records/{id}")
}

/// `(collection, id, timestamp, deleted)` of a record event.
fn change(frame: &Frame) -> (String, String, i64, bool) {
    let data = frame.json();
    (
        data["collection"].as_str().unwrap_or_default().to_owned(),
        data["id"].as_str().unwrap_or_default().to_owned(),
        data["timestamp"].as_i64().expect("timestamp"),
        data["action"] == "delete",
    )
}

#[tokio::test]
async fn a_collection_stream_sends_each_change_in_order() {
    let s = start().await;
    setup(&s, &["c"]).await;
    let mut stream = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
    assert_eq!(stream.response.headers()["content-type"], "text/event-stream");
    assert_eq!(stream.response.headers()["cache-control"], "no-cache");
    assert_eq!(stream.response.headers()["x-accel-buffering"], "no");
    let first = stream.frame().await.expect("the retry hint");
    assert_eq!(first.retry.as_deref(), Some("3000"));
    let (replayed, ready) = stream.replay().await;
    assert!(replayed.is_empty(), "a fresh stream starts at the present");

    // Each write's event is read before the next write: changes a stream has not read yet
    // coalesce into the record's latest state (as `_since` polling sees them).
    let created = post(&s, &records("c"), ALICE, json!({"data": {"title": "one\ntwo"}})).await;
    let id = created.json["data"]["id"].as_str().expect("id").to_owned();
    let mut frames = stream.changes(1).await;
    let updated = patch(&s, &record("c", &id), ALICE, json!({"data": {"done": true}})).await;
    frames.extend(stream.changes(1).await);
    let deleted = delete(&s, &record("c", &id), ALICE).await;
    frames.extend(stream.changes(1).await);
    let batch = post(
        &s,
        "/v1/batch",
        ALICE,
        json!({"requests": [
            {"method": "PUT", "path": "/buckets/b/collections/c/records/x", "body": {"data": {"n": 1}}},
            {"method": "PUT", "path": "/buckets/b/collections/c/records/y", "body": {"data": {"n": 2}}},
            {"method": "DELETE", "path": "/buckets/b/collections/c/records/old"},
            {"method": "PUT", "path": "/buckets/b/collections/c/records/z", "body": {"data": {"n": 3}}},
        ]}),
    )
    .await;
    assert_eq!(batch.status, 200);
    assert_eq!(batch.json["responses"][2]["status"], 404, "no record `old`: nothing to announce");
    frames.extend(stream.changes(3).await);
    let stamps: Vec<i64> = frames.iter().map(|f| change(f).2).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "strictly increasing: {stamps:?}");
    assert!(stamps[0] > ready.parse::<i64>().expect("ready id"), "after the ready position");
    for frame in &frames {
        assert_eq!(frame.name(), "record");
        assert_eq!(frame.id.as_deref(), Some(change(frame).2.to_string().as_str()), "id = last_modified");
        assert_eq!(frame.json()["resource_name"], "record");
        assert_eq!(frame.json()["bucket"], "b");
    }
    let got: Vec<(String, String)> =
        frames.iter().map(|f| (change(f).1, f.json()["action"].as_str().unwrap_or_default().to_owned())).collect();
    let expected: Vec<(String, String)> =
        [(id.as_str(), "update"), (&id, "update"), (&id, "delete"), ("x", "update"), ("y", "update"), ("z", "update")]
            .iter()
            .map(|(i, a)| (i.to_string(), a.to_string()))
            .collect();
    assert_eq!(got, expected);
    // The events carry what the API answered.
    assert_eq!(frames[0].json()["data"], created.json["data"]);
    assert_eq!(frames[1].json()["data"], updated.json["data"]);
    assert_eq!(frames[2].json()["data"], deleted.json["data"]);
    assert_eq!(frames[2].json()["data"]["deleted"], true);

    // Latency from a write's answer to its event (printed, not asserted).
    let mut latencies = Vec::new();
    for n in 0..20 {
        let sent = Instant::now();
        let reply = post(&s, &records("c"), ALICE, json!({"data": {"n": n}})).await;
        let answered = sent.elapsed();
        let frame = stream.event().await;
        let arrived = sent.elapsed();
        assert_eq!(change(&frame).1, reply.json["data"]["id"].as_str().unwrap_or_default());
        latencies.push((arrived.saturating_sub(answered), arrived));
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    println!(
        "SSE latency over 20 creates: 201 -> event median {:?} (max {:?}); request sent -> event median {:?}",
        median.0,
        latencies.last().map(|l| l.0).unwrap_or_default(),
        median.1
    );
}

#[tokio::test]
async fn a_collection_stream_resumes_without_gap_or_duplicate() {
    let s = start().await;
    setup(&s, &["c"]).await;
    let mut stream = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
    stream.replay().await;
    for id in ["r1", "r2", "r3"] {
        put(&s, &record("c", id), ALICE, json!({"data": {}})).await;
    }
    let seen = stream.changes(2).await;
    let last = seen[1].id.clone().expect("id");
    drop(stream); // disconnected, r3's event unread

    put(&s, &record("c", "r4"), ALICE, json!({"data": {}})).await;
    delete(&s, &record("c", "r1"), ALICE).await;
    let mut resumed = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[("Last-Event-ID", &last)]).await;
    let (replayed, ready) = resumed.replay().await;
    let ids: Vec<(String, bool)> = replayed.iter().map(|f| (change(f).1, change(f).3)).collect();
    assert_eq!(ids, vec![("r3".into(), false), ("r4".into(), false), ("r1".into(), true)]);
    assert_eq!(ready, replayed[2].id.clone().expect("id"), "ready stands after the replay");
    // Live after the replay, and no duplicate of the replayed ones.
    put(&s, &record("c", "r5"), ALICE, json!({"data": {}})).await;
    assert_eq!(change(&resumed.event().await).1, "r5");
    drop(resumed);

    // `?_since=` for clients that cannot send headers: the same replay (a list's `_since`).
    let mut by_query = open(&s, &format!("/v1/buckets/b/collections/c/events?_since={last}"), ALICE, &[]).await;
    let (replayed, _) = by_query.replay().await;
    let ids: Vec<String> = replayed.iter().map(|f| change(f).1).collect();
    assert_eq!(ids, vec!["r3", "r4", "r1", "r5"]);
    let list = get(&s, &format!("{}?_since={last}&_sort=last_modified", records("c")), ALICE).await;
    let listed: Vec<&str> =
        list.json["data"].as_array().expect("data").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(listed, ids, "the replay is the list's _since answer");
    // Last-Event-ID (the browser's reconnection) wins over the page's original `_since`.
    let both = open(
        &s,
        &format!("/v1/buckets/b/collections/c/events?_since={last}"),
        ALICE,
        &[("Last-Event-ID", replayed[3].id.as_deref().unwrap_or_default())],
    )
    .await;
    let mut both = both;
    let (replayed, _) = both.replay().await;
    assert!(replayed.is_empty(), "nothing after r5");

    // Malformed positions: the list's 400 for `_since`, a header error for Last-Event-ID.
    let bad = Reply::from(request(&s, "/v1/buckets/b/collections/c/events?_since=abc", ALICE, &[]).await).await;
    let list_bad = get(&s, &format!("{}?_since=abc", records("c")), ALICE).await;
    assert_eq!((bad.status, &bad.json), (400, &list_bad.json));
    let bad =
        Reply::from(request(&s, "/v1/buckets/b/collections/c/events", ALICE, &[("Last-Event-ID", "x1")]).await).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["details"][0]["location"], "header");
    assert_eq!(bad.json["details"][0]["name"], "Last-Event-ID");
}

#[tokio::test]
async fn a_bucket_stream_resumes_across_collections_without_gap_or_duplicate() {
    let s = start().await;
    setup(&s, &["c1", "c2"]).await;
    let mut stream = open(&s, "/v1/buckets/b/events", ALICE, &[]).await;
    let (replayed, _) = stream.replay().await;
    assert!(replayed.is_empty());

    // c1 runs ahead of the clock (a client-chosen timestamp in the future), so c2's next
    // records get smaller timestamps than c1's: one number could not say what was delivered.
    let ahead = chrono_free_now() + 3_600_000;
    let mut written: Vec<(String, String, i64, bool)> = Vec::new();
    let mut received: Vec<(String, String, i64, bool)> = Vec::new();
    let mut position = String::new();
    for (collection, id, data) in
        [("c1", "a1", json!({"last_modified": ahead})), ("c2", "b1", json!({})), ("c1", "a2", json!({}))]
    {
        let reply = put(&s, &record(collection, id), ALICE, json!({"data": data})).await;
        written.push((collection.into(), id.into(), reply.json["data"]["last_modified"].as_i64().expect("ts"), false));
        let frame = stream.changes(1).await.remove(0);
        assert_eq!(change(&frame).1, id);
        received.push(change(&frame));
        position = frame.id.clone().expect("id");
    }
    assert!(written[1].2 < written[0].2, "c2 stamps below c1");
    assert!(position.starts_with("1."), "a composite id: {position}");
    // Written but not read before the disconnection: its timestamp is below the last one read.
    let reply = put(&s, &record("c2", "b2"), ALICE, json!({"data": {}})).await;
    written.push(("c2".into(), "b2".into(), reply.json["data"]["last_modified"].as_i64().expect("ts"), false));
    assert!(written[3].2 < written[2].2);
    drop(stream);

    // While away: interleaved writes in both collections, a batch over both, a deletion and a
    // new collection with records.
    for (collection, id) in [("c2", "b3"), ("c1", "a3"), ("c2", "b4")] {
        let reply = put(&s, &record(collection, id), ALICE, json!({"data": {}})).await;
        written.push((collection.into(), id.into(), reply.json["data"]["last_modified"].as_i64().expect("ts"), false));
    }
    let batch = post(
        &s,
        "/v1/batch",
        ALICE,
        json!({"requests": [
            {"method": "PUT", "path": "/buckets/b/collections/c1/records/a4", "body": {"data": {}}},
            {"method": "PUT", "path": "/buckets/b/collections/c2/records/b5", "body": {"data": {}}},
            {"method": "DELETE", "path": "/buckets/b/collections/c2/records/b1"},
        ]}),
    )
    .await;
    for (response, (collection, id, deleted)) in batch.json["responses"].as_array().expect("responses").iter().zip([
        ("c1", "a4", false),
        ("c2", "b5", false),
        ("c2", "b1", true),
    ]) {
        let ts = response["body"]["data"]["last_modified"].as_i64().expect("ts");
        written.push((collection.into(), id.into(), ts, deleted));
    }
    put(&s, "/v1/buckets/b/collections/c3", ALICE, json!({})).await;
    let reply = put(&s, &record("c3", "n1"), ALICE, json!({"data": {}})).await;
    written.push(("c3".into(), "n1".into(), reply.json["data"]["last_modified"].as_i64().expect("ts"), false));

    let mut resumed = open(&s, "/v1/buckets/b/events", ALICE, &[("Last-Event-ID", &position)]).await;
    let (replayed, ready) = resumed.replay().await;
    let collections: Vec<String> = replayed
        .iter()
        .filter(|f| f.name() == "collection")
        .map(|f| f.json()["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(collections, vec!["c3"], "the new collection is announced");
    received.extend(replayed.iter().filter(|f| f.name() == "record").map(change));

    // Every change exactly once, each collection in its own timestamp order.
    let mut expected = written.clone();
    expected.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    let mut got = received.clone();
    got.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    assert_eq!(got, expected);
    let mut per_collection: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (collection, _, ts, _) in &received {
        per_collection.entry(collection.clone()).or_default().push(*ts);
    }
    for (collection, stamps) in per_collection {
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{collection} in order: {stamps:?}");
    }
    // A resumed stream is live too, and the position it reports resumes to nothing.
    put(&s, &record("c2", "b6"), ALICE, json!({"data": {}})).await;
    let live = resumed.changes(1).await;
    assert_eq!(change(&live[0]).1, "b6");
    let last = live[0].id.clone().expect("id");
    drop(resumed);
    let mut again = open(&s, "/v1/buckets/b/events", ALICE, &[("Last-Event-ID", &last)]).await;
    let (nothing, _) = again.replay().await;
    assert!(nothing.is_empty(), "no duplicate: {nothing:?}");
    // The ready id of the earlier replay was a position too: everything since it is b6.
    drop(again);
    let mut from_ready = open(&s, "/v1/buckets/b/events", ALICE, &[("Last-Event-ID", &ready)]).await;
    let (after_ready, _) = from_ready.replay().await;
    assert_eq!(after_ready.iter().map(|f| change(f).1).collect::<Vec<_>>(), vec!["b6"]);
}

#[tokio::test]
async fn a_bucket_stream_replays_a_plain_since_and_follows_at_most_100_collections() {
    let s = start().await;
    setup(&s, &["c1", "c2"]).await;
    put(&s, &record("c1", "r"), ALICE, json!({"data": {}})).await;
    put(&s, &record("c2", "r"), ALICE, json!({"data": {}})).await;
    // A plain `_since` is Kinto's: every list from that timestamp.
    let mut stream = open(&s, "/v1/buckets/b/events?_since=0", ALICE, &[]).await;
    let (replayed, _) = stream.replay().await;
    let names: Vec<(String, String)> = replayed
        .iter()
        .map(|f| {
            (
                f.name().to_owned(),
                format!(
                    "{}/{}",
                    f.json()["collection"].as_str().unwrap_or("-"),
                    f.json()["id"].as_str().unwrap_or_default()
                ),
            )
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [("collection", "-/c1"), ("collection", "-/c2"), ("record", "c1/r"), ("record", "c2/r")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .to_vec()
    );
    drop(stream);
    for chunk in 0..5 {
        let requests: Vec<Value> = (0..25)
            .map(|i| json!({"method": "PUT", "path": format!("/buckets/b/collections/x{chunk}-{i}"), "body": {}}))
            .collect();
        assert_eq!(post(&s, "/v1/batch", ALICE, json!({"requests": requests})).await.status, 200);
    }
    let refused = Reply::from(request(&s, "/v1/buckets/b/events", ALICE, &[]).await).await;
    assert_eq!(refused.status, 400);
    assert!(refused.json["message"].as_str().unwrap_or_default().contains("more than 100 collections"));
    // Collection streams are not limited.
    open(&s, "/v1/buckets/b/collections/c1/events", ALICE, &[]).await.replay().await;
}

/// The wall clock in ms (the server's timestamps follow it).
fn chrono_free_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[tokio::test]
async fn streams_are_authorised_like_a_list_read() {
    let s = start().await;
    setup(&s, &["c"]).await;
    // Refusals: exactly the list's status and body, for each caller.
    for (path, list) in [
        ("/v1/buckets/b/collections/c/events", records("c")),
        ("/v1/buckets/b/collections/nope/events", records("nope")),
        ("/v1/buckets/nope/collections/c/events", "/v1/buckets/nope/collections/c/records".to_owned()),
        ("/v1/buckets/b/events", "/v1/buckets/b/collections".to_owned()),
        ("/v1/buckets/nope/events", "/v1/buckets/nope/collections".to_owned()),
    ] {
        for auth in [None, BOB, ALICE] {
            let listed = get(&s, &list, auth).await;
            if listed.status == 200 {
                continue;
            }
            let streamed = Reply::from(request(&s, path, auth, &[]).await).await;
            assert_eq!((streamed.status, &streamed.json), (listed.status, &listed.json), "{path} as {auth:?}");
            assert_eq!(streamed.header("www-authenticate"), listed.header("www-authenticate"));
        }
    }
    let anonymous = Reply::from(request(&s, "/v1/buckets/b/collections/c/events", None, &[]).await).await;
    assert_eq!(anonymous.text, UNAUTHORIZED);
    let stranger = Reply::from(request(&s, "/v1/buckets/b/collections/c/events", BOB, &[]).await).await;
    assert_eq!(stranger.text, FORBIDDEN);

    // Bob may read one record only: he sees that record's changes and nothing else.
    put(&s, &record("c", "shared"), ALICE, json!({"data": {"v": 1}, "permissions": {"read": [BOB_ID]}})).await;
    put(&s, &record("c", "private"), ALICE, json!({"data": {"v": 1}})).await;
    let mut bob = open(&s, "/v1/buckets/b/collections/c/events?_since=0", BOB, &[]).await;
    let (replayed, _) = bob.replay().await;
    assert_eq!(replayed.iter().map(|f| change(f).1).collect::<Vec<_>>(), vec!["shared"]);
    patch(&s, &record("c", "private"), ALICE, json!({"data": {"v": 2}})).await;
    patch(&s, &record("c", "shared"), ALICE, json!({"data": {"v": 2}})).await;
    let next = bob.event().await;
    assert_eq!((change(&next).1, next.json()["data"]["v"].clone()), ("shared".to_owned(), json!(2)));

    // A reader whose permission is revoked gets the list's refusal, then the stream ends.
    put(&s, "/v1/buckets/b/collections/c2", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    let mut reader = open(&s, "/v1/buckets/b/collections/c2/events", BOB, &[]).await;
    reader.replay().await;
    // Bob also follows the bucket: he may list its collections through his read on `c2`.
    let mut bucket_reader = open(&s, "/v1/buckets/b/events", BOB, &[]).await;
    let (replayed, _) = bucket_reader.replay().await;
    assert!(replayed.is_empty());
    put(&s, &record("c2", "seen"), ALICE, json!({"data": {}})).await;
    assert_eq!(change(&reader.event().await).1, "seen");
    assert_eq!(change(&bucket_reader.changes(1).await[0]).1, "seen");
    patch(&s, "/v1/buckets/b/collections/c2", ALICE, json!({"permissions": {"read": []}})).await;
    put(&s, &record("c2", "unseen"), ALICE, json!({"data": {}})).await;
    let forbidden: Value = serde_json::from_str(FORBIDDEN).expect("json");
    for stream in [&mut reader, &mut bucket_reader] {
        let end = stream.event().await;
        assert_eq!((end.name(), end.json()), ("end", forbidden.clone()));
        assert!(stream.frame().await.is_none(), "the stream ended");
    }
}

#[tokio::test]
async fn a_deleted_collection_ends_its_stream_with_the_lists_404() {
    let s = start().await;
    setup(&s, &["c"]).await;
    let mut stream = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
    stream.replay().await;
    delete(&s, "/v1/buckets/b/collections/c", ALICE).await;
    let end = stream.event().await;
    let listed = get(&s, &records("c"), ALICE).await;
    assert_eq!(listed.status, 404);
    assert_eq!((end.name(), end.json()), ("end", listed.json));
    assert!(stream.frame().await.is_none());
}

#[tokio::test]
async fn the_personal_bucket_has_streams_too() {
    let s = start().await;
    let created = post(&s, "/v1/buckets/default/collections/tasks/records", ALICE, json!({"data": {"t": 1}})).await;
    assert_eq!(created.status, 201);
    let mut stream = open(&s, "/v1/buckets/default/collections/tasks/events?_since=0", ALICE, &[]).await;
    let (replayed, _) = stream.replay().await;
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].json()["data"], created.json["data"]);
    let anonymous = Reply::from(request(&s, "/v1/buckets/default/collections/tasks/events", None, &[]).await).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn heartbeats_keep_idle_streams_alive() {
    let s = start_with("events_heartbeat_seconds = 1").await;
    setup(&s, &["c"]).await;
    let mut stream = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
    stream.replay().await;
    loop {
        let frame = stream.frame().await.expect("a frame");
        if frame.comments.iter().any(|c| c == "keep-alive") {
            assert!(frame.event.is_none() && frame.data.is_none() && frame.id.is_none());
            break;
        }
    }
    // Still live after heartbeats.
    put(&s, &record("c", "r"), ALICE, json!({"data": {}})).await;
    assert_eq!(change(&stream.changes(1).await[0]).1, "r");
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let s = start().await;
    setup(&s, &["c"]).await;
    let mut collection = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
    collection.replay().await;
    let mut bucket = open(&s, "/v1/buckets/b/events", ALICE, &[]).await;
    bucket.replay().await;
    tokio::time::timeout(PATIENCE, s.stop()).await.expect("the server stops with streams open");
    assert!(collection.frame().await.is_none());
    assert!(bucket.frame().await.is_none());
}

#[tokio::test]
async fn streams_beyond_the_cap_get_503() {
    let s = start_with("events_max_streams = 2\nevents_heartbeat_seconds = 1").await;
    setup(&s, &["c"]).await;
    let mut first = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
    first.replay().await;
    let mut second = open(&s, "/v1/buckets/b/events", ALICE, &[]).await;
    second.replay().await;
    let refused = Reply::from(request(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await).await;
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.json,
        json!({"code": 503, "errno": 201, "error": "Service Unavailable",
               "message": "Service temporary unavailable due to overloading or maintenance, please retry later."})
    );
    assert_eq!(refused.header("retry-after"), Some("3"));
    // A slot comes back once a client leaves (noticed at the latest on the next heartbeat).
    drop(first);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let response = request(&s, "/v1/buckets/b/collections/c/events", ALICE, &[]).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(Instant::now() < deadline, "the slot never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The remaining stream is unaffected.
    put(&s, &record("c", "r"), ALICE, json!({"data": {}})).await;
    assert_eq!(change(&second.changes(1).await[0]).1, "r");
}

#[tokio::test]
async fn event_routes_behave_like_every_endpoint() {
    let s = start_with(r#"cors_origins = ["chrome-extension://*"]"#).await;
    setup(&s, &["c"]).await;
    let post = s.call(Method::POST, "/v1/buckets/b/collections/c/events", ALICE, Some(json!({}))).await;
    assert_eq!((post.status, post.json["errno"].as_i64()), (405, Some(115)));
    assert_eq!(post.header("allow"), Some("GET, OPTIONS"));
    let slash = s.call(Method::GET, "/v1/buckets/b/events/", ALICE, None).await;
    assert_eq!(slash.status, 307);
    assert!(slash.header("location").is_some_and(|l| l.ends_with("/v1/buckets/b/events")));
    let unknown = s.call(Method::GET, "/v1/buckets/b/collections/c/events/more", ALICE, None).await;
    assert_eq!(unknown.status, 404);
    // A browser extension reads it (fetch with Authorization; EventSource cannot send it).
    let origin = "chrome-extension://abcdefghijklmnop";
    let preflight = s
        .req(Method::OPTIONS, "/v1/buckets/b/collections/c/events")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization,last-event-id")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), 200);
    assert_eq!(preflight.headers()["access-control-allow-origin"], origin);
    let mut stream = open(&s, "/v1/buckets/b/collections/c/events", ALICE, &[("Origin", origin)]).await;
    assert_eq!(stream.response.headers()["access-control-allow-origin"], origin);
    stream.replay().await;
    let web = Reply::from(
        request(&s, "/v1/buckets/b/collections/c/events", ALICE, &[("Origin", "https://evil.example")]).await,
    )
    .await;
    assert_eq!(web.status, 400);
    // Not in a batch.
    let batch = s
        .call(
            Method::POST,
            "/v1/batch",
            ALICE,
            Some(json!({"requests": [{"path": "/buckets/b/collections/c/events"}]})),
        )
        .await;
    assert_eq!(batch.json["responses"][0]["status"], 400);
}

#[tokio::test]
async fn every_committed_write_reaches_the_change_bus() {
    use kintoun::storage::Stamp;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = kintoun::Settings::from_toml_str(common::REFERENCE_TOML).expect("settings");
    settings.data_dir = Some(dir.path().to_path_buf());
    settings.secrets_backend = kintoun::settings::SecretsBackend::File;
    let server = kintoun::Server::open(settings).await.expect("open");
    let mut changes = server.changes().subscribe();
    // An internal write, as plugins and the replicator make them (no HTTP involved).
    let stamp = server
        .store()
        .write(|tx| {
            tx.put("/buckets/b/collections/c", "record", "r", serde_json::Map::new(), Stamp::Now)
                .map(|o| o.last_modified)
        })
        .await
        .expect("write");
    let changed = tokio::time::timeout(PATIENCE, changes.recv()).await.expect("announced").expect("a change");
    assert_eq!(
        changed,
        kintoun::changes::Changed {
            parent_id: "/buckets/b/collections/c".into(),
            resource_name: "record".into(),
            timestamp: stamp
        }
    );
}
