//! History plugin (KINTO_API.md §10.2 HIST-RECORD, HIST-ENTRY, HIST-LIST, HIST-DELETE). Every expected
//! value was checked against the reference Kinto 26.5.0 server; entry ids, timestamps and dates are
//! asserted by shape.

mod common;

use common::helpers::{FORBIDDEN, UNAUTHORIZED, assert_next_page, call, get};

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

const ALICE: Option<&str> = Some("alice:secret");
const BOB: Option<&str> = Some("bob:secret");

const ALICE_ID: &str = "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319";
const BOB_ID: &str = "basicauth:2f5b2d6eec075bb5dfdc68772f7844b59d5e41a2f8d3733000b0027a1f1de19d";
const ALICE_BUCKET: &str = "712952ec-da9d-549b-ff85-e7d9846b3d17";

const HISTORY: &str = "/v1/buckets/b1/history";

/// A write that must succeed (2xx); returns the reply.
async fn write(s: &TestServer, method: Method, path: &str, body: Option<Value>) -> Reply {
    let r = call(s, method.clone(), path, ALICE, body).await;
    assert!((200..300).contains(&r.status), "{method} {path}: {} {}", r.status, r.text);
    r
}

async fn put(s: &TestServer, path: &str, body: Value) -> Reply {
    write(s, Method::PUT, path, Some(body)).await
}

async fn delete(s: &TestServer, path: &str) -> Reply {
    write(s, Method::DELETE, path, None).await
}

/// The history entries of a GET (asserting 200).
async fn entries(s: &TestServer, path: &str, auth: Option<&str>) -> Vec<Value> {
    let r = get(s, path, auth).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.text);
    r.json["data"].as_array().unwrap_or_else(|| panic!("data list: {}", r.text)).clone()
}

/// `(action, resource_name, uri)` of each entry, newest first.
fn summary(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["action"].as_str().unwrap_or("?"),
                e["resource_name"].as_str().unwrap_or("?"),
                e["uri"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn is_uuid4(value: &str) -> bool {
    regex::Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        .expect("regex")
        .is_match(value)
}

/// Milliseconds since the epoch of an ISO date `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`.
fn iso_to_ms(date: &str) -> i64 {
    let re = regex::Regex::new(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{6})?\+00:00$").expect("regex");
    let caps = re.captures(date).unwrap_or_else(|| panic!("ISO date with +00:00 offset: {date}"));
    let n = |i: usize| caps[i].parse::<i64>().expect("number");
    let (y, m, d) = (n(1), n(2), n(3));
    // days_from_civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let micros = caps.get(7).map(|f| f.as_str()[1..].parse::<i64>().expect("fraction")).unwrap_or(0);
    ((days * 86_400 + n(4) * 3600 + n(5) * 60 + n(6)) * 1000) + micros / 1000
}

/// Checks the generated fields of an entry (uuid4 `id`, integer `last_modified`, ISO `date` close to
/// it) and returns the entry without them, for exact comparison.
#[track_caller]
fn strip(entry: &Value) -> Value {
    let mut entry = entry.clone();
    let obj = entry.as_object_mut().expect("entry object");
    let id = obj.remove("id").expect("id");
    assert!(is_uuid4(id.as_str().expect("string id")), "uuid4 id: {id}");
    let ts = obj.remove("last_modified").and_then(|v| v.as_i64()).expect("integer last_modified");
    let date = obj.remove("date").expect("date");
    let date_ms = iso_to_ms(date.as_str().expect("string date"));
    assert!((date_ms - ts).abs() < 5000, "date {date} close to last_modified {ts}");
    entry
}

fn ts_of(r: &Reply) -> i64 {
    r.json["data"]["last_modified"].as_i64().unwrap_or_else(|| panic!("data.last_modified: {}", r.text))
}

#[track_caller]
fn expect_json(r: &Reply, status: u16, body: &str) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    let expected: Value = serde_json::from_str(body).expect("expected body parses");
    assert_eq!(r.json, expected, "body");
}

/// b1 with g1, c1 (record r1 created, updated, deleted).
async fn scenario(s: &TestServer) -> Vec<Reply> {
    vec![
        put(s, "/v1/buckets/b1", json!({"data": {"t": 1}})).await,
        put(s, "/v1/buckets/b1/groups/g1", json!({"data": {"members": ["x"]}})).await,
        put(s, "/v1/buckets/b1/collections/c1", json!({"data": {}})).await,
        put(s, "/v1/buckets/b1/collections/c1/records/r1", json!({"data": {"x": 1}})).await,
        write(s, Method::PATCH, "/v1/buckets/b1/collections/c1/records/r1", Some(json!({"data": {"x": 2}}))).await,
        delete(s, "/v1/buckets/b1/collections/c1/records/r1").await,
    ]
}

// ------------------------------------------------------------------------------------------------
// HIST-ENTRY / HIST-RECORD

/// HIST-ENTRY: the exact shape of each kind of entry (newest first).
#[tokio::test]
async fn entry_shape() {
    let s = common::start().await;
    let replies = scenario(&s).await;
    let ts: Vec<i64> = replies.iter().map(ts_of).collect();
    let r = get(&s, HISTORY, ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
    let list = r.json["data"].as_array().expect("data").clone();
    assert_eq!(list.len(), 6, "{}", r.text);
    let stamps: Vec<i64> = list.iter().map(|e| e["last_modified"].as_i64().expect("present")).collect();
    assert!(stamps.windows(2).all(|w| w[0] > w[1]), "newest first: {stamps:?}");
    assert_eq!(r.etag(), stamps[0], "list ETag = newest entry");
    let owner = json!({"write": [ALICE_ID]});
    let expected = [
        json!({"action": "delete", "resource_name": "record", "uri": "/buckets/b1/collections/c1/records/r1",
               "user_id": ALICE_ID, "collection_id": "c1", "record_id": "r1",
               "target": {"data": {"id": "r1", "last_modified": ts[5], "deleted": true}, "permissions": {}}}),
        json!({"action": "update", "resource_name": "record", "uri": "/buckets/b1/collections/c1/records/r1",
               "user_id": ALICE_ID, "collection_id": "c1", "record_id": "r1",
               "target": {"data": {"x": 2, "id": "r1", "last_modified": ts[4]}, "permissions": owner}}),
        json!({"action": "create", "resource_name": "record", "uri": "/buckets/b1/collections/c1/records/r1",
               "user_id": ALICE_ID, "collection_id": "c1", "record_id": "r1",
               "target": {"data": {"x": 1, "id": "r1", "last_modified": ts[3]}, "permissions": owner}}),
        json!({"action": "create", "resource_name": "collection", "uri": "/buckets/b1/collections/c1",
               "user_id": ALICE_ID, "collection_id": "c1",
               "target": {"data": {"id": "c1", "last_modified": ts[2]}, "permissions": owner}}),
        json!({"action": "create", "resource_name": "group", "uri": "/buckets/b1/groups/g1",
               "user_id": ALICE_ID, "group_id": "g1",
               "target": {"data": {"members": ["x"], "id": "g1", "last_modified": ts[1]}, "permissions": owner}}),
        json!({"action": "create", "resource_name": "bucket", "uri": "/buckets/b1",
               "user_id": ALICE_ID, "bucket_id": "b1",
               "target": {"data": {"t": 1, "id": "b1", "last_modified": ts[0]}, "permissions": owner}}),
    ];
    for (entry, expected) in list.iter().zip(expected) {
        assert_eq!(strip(entry), expected);
    }
    let ids: std::collections::BTreeSet<&str> = list.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), 6, "distinct entry ids");
}

/// HIST-RECORD: updates and deletes of groups, collections and the bucket; cascaded records get no entry;
/// a plural DELETE gives one entry per object.
#[tokio::test]
async fn one_entry_per_change() {
    let s = common::start().await;
    put(&s, "/v1/buckets/b1", json!({})).await;
    put(&s, "/v1/buckets/b1/groups/g1", json!({"data": {"members": ["x"]}})).await;
    put(&s, "/v1/buckets/b1/collections/c1", json!({})).await;
    put(&s, "/v1/buckets/b1/collections/c1/records/r2", json!({})).await;
    put(&s, "/v1/buckets/b1/collections/c1/records/r3", json!({})).await;
    let r = delete(&s, "/v1/buckets/b1/collections/c1/records").await;
    let ids: Vec<&str> = r.json["data"].as_array().expect("present").iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["r3", "r2"]);
    put(&s, "/v1/buckets/b1/collections/c2", json!({})).await;
    put(&s, "/v1/buckets/b1/collections/c2/records/z", json!({})).await;
    delete(&s, "/v1/buckets/b1/collections/c2").await;
    write(&s, Method::PATCH, "/v1/buckets/b1/groups/g1", Some(json!({"data": {"members": ["y"]}}))).await;
    delete(&s, "/v1/buckets/b1/groups/g1").await;
    write(&s, Method::PATCH, "/v1/buckets/b1", Some(json!({"data": {"t": 2}}))).await;
    // Reads are never recorded.
    get(&s, "/v1/buckets/b1/collections/c1/records", ALICE).await;
    get(&s, "/v1/buckets/b1", ALICE).await;

    let list = entries(&s, HISTORY, ALICE).await;
    assert_eq!(
        summary(&list),
        [
            "update bucket /buckets/b1",
            "delete group /buckets/b1/groups/g1",
            "update group /buckets/b1/groups/g1",
            "delete collection /buckets/b1/collections/c2",
            "create record /buckets/b1/collections/c2/records/z",
            "create collection /buckets/b1/collections/c2",
            "delete record /buckets/b1/collections/c1/records/r2",
            "delete record /buckets/b1/collections/c1/records/r3",
            "create record /buckets/b1/collections/c1/records/r3",
            "create record /buckets/b1/collections/c1/records/r2",
            "create collection /buckets/b1/collections/c1",
            "create group /buckets/b1/groups/g1",
            "create bucket /buckets/b1",
        ]
    );
    // Deleted group and collection: tombstones with empty permissions.
    assert_eq!(list[1]["target"]["permissions"], json!({}));
    assert_eq!(list[1]["target"]["data"]["deleted"], json!(true));
    assert_eq!(list[3]["target"]["data"]["deleted"], json!(true));
    assert_eq!(list[0]["target"]["data"]["t"], json!(2));
    assert_eq!(list[2]["target"]["data"]["members"], json!(["y"]));
}

/// HIST-RECORD: implicit default-bucket creations are recorded under the real bucket id.
#[tokio::test]
async fn implicit_default_bucket_creations_recorded() {
    let s = common::start().await;
    let r = get(&s, "/v1/buckets/default/collections/tasks/records", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bucket = get(&s, "/v1/buckets/default", ALICE).await;
    let collection = get(&s, "/v1/buckets/default/collections/tasks", ALICE).await;
    let owner = json!({"write": [ALICE_ID]});
    for path in [format!("/v1/buckets/{ALICE_BUCKET}/history"), "/v1/buckets/default/history".to_owned()] {
        let list = entries(&s, &path, ALICE).await;
        assert_eq!(list.len(), 2, "{path}: {list:?}");
        assert_eq!(
            strip(&list[0]),
            json!({"action": "create", "resource_name": "collection",
                   "uri": format!("/buckets/{ALICE_BUCKET}/collections/tasks"),
                   "user_id": ALICE_ID, "collection_id": "tasks",
                   "target": {"data": collection.json["data"], "permissions": owner}})
        );
        assert_eq!(
            strip(&list[1]),
            json!({"action": "create", "resource_name": "bucket", "uri": format!("/buckets/{ALICE_BUCKET}"),
                   "user_id": ALICE_ID, "bucket_id": ALICE_BUCKET,
                   "target": {"data": bucket.json["data"], "permissions": owner}})
        );
    }
}

/// HIST-RECORD: deleting a bucket deletes its history.
#[tokio::test]
async fn deleting_the_bucket_deletes_its_history() {
    let s = common::start().await;
    scenario(&s).await;
    delete(&s, "/v1/buckets/b1").await;
    put(&s, "/v1/buckets/b1", json!({})).await;
    let list = entries(&s, HISTORY, ALICE).await;
    assert_eq!(summary(&list), ["create bucket /buckets/b1"]);
}

// ------------------------------------------------------------------------------------------------
// HIST-LIST

/// HIST-LIST: `resource_name`, `collection_id`, `exclude_resource_name`, sub-field and `_since` filters.
#[tokio::test]
async fn filters() {
    let s = common::start().await;
    scenario(&s).await;
    put(&s, "/v1/buckets/b1/collections/c2", json!({})).await;
    put(&s, "/v1/buckets/b1/collections/c2/records/z", json!({})).await;

    let list = entries(&s, &format!("{HISTORY}?resource_name=collection"), ALICE).await;
    assert_eq!(
        summary(&list),
        ["create collection /buckets/b1/collections/c2", "create collection /buckets/b1/collections/c1"]
    );

    let list = entries(&s, &format!("{HISTORY}?collection_id=c2"), ALICE).await;
    assert_eq!(
        summary(&list),
        ["create record /buckets/b1/collections/c2/records/z", "create collection /buckets/b1/collections/c2"]
    );

    let list = entries(&s, &format!("{HISTORY}?exclude_resource_name=record,group"), ALICE).await;
    assert_eq!(
        summary(&list),
        [
            "create collection /buckets/b1/collections/c2",
            "create collection /buckets/b1/collections/c1",
            "create bucket /buckets/b1"
        ]
    );

    let list = entries(&s, &format!("{HISTORY}?target.data.x=2"), ALICE).await;
    assert_eq!(summary(&list), ["update record /buckets/b1/collections/c1/records/r1"]);

    let list = entries(&s, &format!("{HISTORY}?resource_name=record&action=delete"), ALICE).await;
    assert_eq!(summary(&list), ["delete record /buckets/b1/collections/c1/records/r1"]);

    let all = entries(&s, HISTORY, ALICE).await;
    let since = all[2]["last_modified"].as_i64().expect("present");
    let list = entries(&s, &format!("{HISTORY}?_since={since}"), ALICE).await;
    assert_eq!(list, all[..2].to_vec());
}

/// HIST-LIST: `_limit` with `Next-Page`, `_fields`.
#[tokio::test]
async fn pagination_and_fields() {
    let s = common::start().await;
    scenario(&s).await;
    let all = entries(&s, HISTORY, ALICE).await;
    let r = get(&s, &format!("{HISTORY}?_limit=4"), ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"].as_array().expect("present").as_slice(), &all[..4]);
    let next = r.header("next-page").expect("Next-Page").to_owned();
    assert_next_page(&next, &format!("{}{HISTORY}", s.root), &[("_limit", "4")]);
    let page2 =
        Reply::from(s.client.get(&next).basic_auth("alice", Some("secret")).send().await.expect("present")).await;
    assert_eq!(page2.status, 200);
    assert_eq!(page2.json["data"].as_array().expect("present").as_slice(), &all[4..]);
    assert!(page2.header("next-page").is_none());

    let r = get(&s, &format!("{HISTORY}?_fields=action,uri&_limit=1"), ALICE).await;
    assert_eq!(
        r.json,
        json!({"data": [{"action": "delete", "uri": "/buckets/b1/collections/c1/records/r1",
                         "id": all[0]["id"], "last_modified": all[0]["last_modified"]}]})
    );
}

/// HIST-LIST: closed field set — an unknown field → 400.
#[tokio::test]
async fn unknown_filter_field() {
    let s = common::start().await;
    put(&s, "/v1/buckets/b1", json!({})).await;
    let r = get(&s, &format!("{HISTORY}?x=1"), ALICE).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": "Unknown filter field 'x'",
               "details": [{"location": "querystring", "name": "x", "description": "Unknown filter field 'x'"}]})
    );
}

/// HIST-LIST visibility: a user with read on one collection only sees the entries created since, for
/// that collection and its records; the list ETag is unfiltered. Anonymous → 401, missing bucket → 403.
#[tokio::test]
async fn visibility_for_a_collection_reader() {
    let s = common::start().await;
    scenario(&s).await;
    write(&s, Method::PATCH, "/v1/buckets/b1/collections/c1", Some(json!({"permissions": {"read": [BOB_ID]}}))).await;
    put(&s, "/v1/buckets/b1/collections/c1/records/v1", json!({})).await;
    put(&s, "/v1/buckets/b1/collections/c3", json!({})).await;
    put(&s, "/v1/buckets/b1/collections/c3/records/w1", json!({})).await;

    let all = get(&s, HISTORY, ALICE).await;
    let r = get(&s, HISTORY, BOB).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.json["data"].as_array().expect("present");
    assert_eq!(
        summary(list),
        ["create record /buckets/b1/collections/c1/records/v1", "update collection /buckets/b1/collections/c1"]
    );
    assert_eq!(r.etag(), all.etag(), "ETag of the unfiltered list");
    assert_eq!(list[1]["target"]["permissions"], json!({"read": [BOB_ID], "write": [ALICE_ID]}));

    expect_json(&get(&s, HISTORY, None).await, 401, UNAUTHORIZED);
    expect_json(&get(&s, "/v1/buckets/zz/history", ALICE).await, 403, FORBIDDEN);
}

/// HIST-LIST visibility: a bucket reader sees everything.
#[tokio::test]
async fn bucket_reader_sees_everything() {
    let s = common::start().await;
    scenario(&s).await;
    write(&s, Method::PATCH, "/v1/buckets/b1", Some(json!({"permissions": {"read": [BOB_ID]}}))).await;
    let alice = entries(&s, HISTORY, ALICE).await;
    let bob = entries(&s, HISTORY, BOB).await;
    assert_eq!(alice.len(), 7);
    assert_eq!(bob, alice);
}

// ------------------------------------------------------------------------------------------------
// HIST-DELETE

/// HIST-DELETE: needs bucket write (reader → 403, anonymous → 401); returns tombstones; filters apply.
#[tokio::test]
async fn purge_history() {
    let s = common::start().await;
    scenario(&s).await;
    write(&s, Method::PATCH, "/v1/buckets/b1", Some(json!({"permissions": {"read": [BOB_ID]}}))).await;
    expect_json(&call(&s, Method::DELETE, HISTORY, BOB, None).await, 403, FORBIDDEN);
    expect_json(&call(&s, Method::DELETE, HISTORY, None, None).await, 401, UNAUTHORIZED);

    let before = entries(&s, HISTORY, ALICE).await;
    let groups: Vec<Value> = before.iter().filter(|e| e["resource_name"] == json!("group")).cloned().collect();
    assert_eq!(groups.len(), 1);
    let r = call(&s, Method::DELETE, &format!("{HISTORY}?resource_name=group"), ALICE, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tombstones = r.json["data"].as_array().expect("tombstones");
    assert_eq!(tombstones.len(), 1);
    let ts = tombstones[0]["last_modified"].as_i64().expect("tombstone ts");
    assert_eq!(tombstones[0], json!({"id": groups[0]["id"], "last_modified": ts, "deleted": true}));
    assert!(entries(&s, &format!("{HISTORY}?resource_name=group"), ALICE).await.is_empty());
    assert_eq!(entries(&s, HISTORY, ALICE).await.len(), before.len() - 1);

    let r = call(&s, Method::DELETE, HISTORY, ALICE, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"].as_array().expect("present").len(), before.len() - 1);
    assert!(r.json["data"].as_array().expect("present").iter().all(|t| t["deleted"] == json!(true)));
    assert!(entries(&s, HISTORY, ALICE).await.is_empty());
}
