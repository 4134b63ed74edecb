//! Polling for changes and the kinto.js sync flow (KINTO_API.md §5.5 SYNC-SINCE, SYNC-BEFORE, SYNC-TO,
//! SYNC-TOMBSTONES, SYNC-ETAG-UNFILTERED; §16 SYNC-FLOW-KINTOJS). Expected values were checked against the
//! reference Kinto 26.5.0.
#![allow(dead_code)]

mod common;

use common::Reply;
use serde_json::{Value, json};

use common::srv::*;

// ------------------------------------------------------------------------------------------------
// helpers of this file

fn bad_param(name: &str, description: &str) -> Value {
    let message = if description.contains(name) {
        description.to_owned()
    } else {
        format!("{name} in querystring: {description}")
    };
    invalid("querystring", json!(name), description, &message)
}

fn tombstone(id: &str, ts: i64) -> Value {
    json!({"id": id, "last_modified": ts, "deleted": true})
}

/// PUTs a record as alice and returns its data.
async fn put_record(s: &Srv, id: &str, data: Value) -> Value {
    let r = s.put(&record(id), ALICE, json!({"data": data})).await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    r.json["data"].clone()
}

/// DELETEs a record as alice and returns its tombstone.
async fn delete_record(s: &Srv, id: &str) -> Value {
    let r = s.delete(&record(id), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["data"].clone()
}

fn lm(v: &Value) -> i64 {
    v["last_modified"].as_i64().unwrap_or_else(|| panic!("last_modified in {v}"))
}

/// Asserts a 200 list with exactly `data` and the list ETag/Last-Modified.
#[track_caller]
fn expect_changes(r: &Reply, data: &[&Value], list_ts: i64) {
    expect(r, 200, json!({"data": data}));
    expect_ts_headers(r, list_ts);
}

/// A state with records r1..r3, then (after `since`): r4 created, r1 deleted, r3 updated.
struct History {
    since: i64,
    r2: Value,
    r3: Value,
    r4: Value,
    t1: Value,
    list_ts: i64,
}

async fn history(s: &Srv) -> History {
    setup(s).await;
    put_record(s, "r1", json!({"n": 1})).await;
    let r2 = put_record(s, "r2", json!({"n": 2})).await;
    let r3 = put_record(s, "r3", json!({"n": 3})).await;
    let since = lm(&r3);
    let r4 = put_record(s, "r4", json!({"n": 4})).await;
    let t1 = delete_record(s, "r1").await;
    let r3 = put_record(s, "r3", json!({"n": 33})).await;
    let list_ts = lm(&r3);
    History { since, r2, r3, r4, t1, list_ts }
}

// ------------------------------------------------------------------------------------------------
// SYNC-SINCE

#[tokio::test]
async fn sync_since_returns_changes_with_tombstones() {
    let s = start().await;
    let h = history(&s).await;

    for since in [h.since.to_string(), format!("%22{}%22", h.since)] {
        let r = s.get(&format!("{RECORDS}?_since={since}"), ALICE).await;
        expect_changes(&r, &[&h.r3, &h.t1, &h.r4], h.list_ts);
        assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
        let r = s.get(&format!("{RECORDS}?_since={since}&_sort=-last_modified"), ALICE).await;
        expect_changes(&r, &[&h.r3, &h.t1, &h.r4], h.list_ts);
        let r = s.get(&format!("{RECORDS}?_since={since}&_sort=last_modified"), ALICE).await;
        expect_changes(&r, &[&h.r4, &h.t1, &h.r3], h.list_ts);
    }
    // Nothing newer than the list timestamp: empty, same ETag.
    let r = s.get(&format!("{RECORDS}?_since=%22{}%22", h.list_ts), ALICE).await;
    expect_changes(&r, &[], h.list_ts);
    // `_since=0` returns everything including tombstones.
    let r = s.get(&format!("{RECORDS}?_since=0"), ALICE).await;
    expect_changes(&r, &[&h.r3, &h.t1, &h.r4, &h.r2], h.list_ts);
    // Counting ignores tombstones.
    let r = s.head(&format!("{RECORDS}?_since={}", h.since), ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("total-objects"), Some("2"));
    assert_eq!(r.header("total-records"), Some("2"));
    expect_ts_headers(&r, h.list_ts);
    // `_since` is `gt_last_modified`.
    let r = s.get(&format!("{RECORDS}?gt_last_modified={}", h.since), ALICE).await;
    expect_changes(&r, &[&h.r3, &h.t1, &h.r4], h.list_ts);
}

#[tokio::test]
async fn sync_since_before_to_invalid_values() {
    let s = start().await;
    setup(&s).await;
    let cases = [
        ("_since=abc", bad_param("_since", "\"abc\" is not a number")),
        ("_since=%22abc%22", bad_param("_since", "\"abc\" is not a number")),
        ("_since=-1", bad_param("_since", "-1 is less than minimum value 0")),
        ("_since=99999999999999", bad_param("_since", "Invalid value for _since")),
        ("_since=", bad_param("_since", "Invalid value for _since")),
        ("_before=abc", bad_param("_before", "\"abc\" is not a number")),
        ("_before=-5", bad_param("_before", "-5 is less than minimum value 0")),
        ("_before=99999999999999", bad_param("_before", "Invalid value for _before")),
        ("_to=abc", bad_param("_to", "\"abc\" is not a number")),
    ];
    for (query, body) in cases {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect(&r, 400, body);
    }
}

// ------------------------------------------------------------------------------------------------
// SYNC-BEFORE / SYNC-TO

#[tokio::test]
async fn sync_before_and_deprecated_to() {
    let s = start().await;
    let h = history(&s).await;
    let before = lm(&h.t1);
    for query in [format!("_before={before}"), format!("_before=%22{before}%22"), format!("lt_last_modified={before}")]
    {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect_changes(&r, &[&h.r4, &h.r2], h.list_ts);
        assert_eq!(r.header("alert"), None);
    }
    // Tombstones are included by `_before` too.
    let r = s.get(&format!("{RECORDS}?_before={}", h.list_ts), ALICE).await;
    expect_changes(&r, &[&h.t1, &h.r4, &h.r2], h.list_ts);
    // Combined window.
    let r = s.get(&format!("{RECORDS}?_since={}&_before={}", h.since, h.list_ts), ALICE).await;
    expect_changes(&r, &[&h.t1, &h.r4], h.list_ts);

    // `_to` behaves like `_before` and adds a deprecation Alert.
    let r = s.get(&format!("{RECORDS}?_to={before}"), ALICE).await;
    expect_changes(&r, &[&h.r4, &h.r2], h.list_ts);
    let alert: Value = serde_json::from_str(r.header("alert").expect("Alert header")).expect("Alert is JSON");
    assert_eq!(
        alert,
        json!({"code": "soft-eol", "message": "_to is now deprecated, you should use _before instead",
               "url": "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters"})
    );
}

// ------------------------------------------------------------------------------------------------
// SYNC-TOMBSTONES

#[tokio::test]
async fn sync_tombstones_appear_only_with_last_modified_filters() {
    let s = start().await;
    let h = history(&s).await;
    let r = s.get(RECORDS, ALICE).await;
    expect_changes(&r, &[&h.r3, &h.r4, &h.r2], h.list_ts);
    for query in [
        "_since=0".to_owned(),
        format!("_before={}", h.list_ts + 1),
        "min_last_modified=0".to_owned(),
        format!("max_last_modified={}", h.list_ts),
        "not_last_modified=1".to_owned(),
        format!("_to={}", h.list_ts + 1),
    ] {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect_changes(&r, &[&h.r3, &h.t1, &h.r4, &h.r2], h.list_ts);
    }
    let r = s.get(&format!("{RECORDS}?last_modified={}", lm(&h.t1)), ALICE).await;
    expect_changes(&r, &[&h.t1], h.list_ts);
    // Tombstones are paginated like other objects.
    let r = s.get(&format!("{RECORDS}?_since=0&_limit=2"), ALICE).await;
    expect_changes(&r, &[&h.r3, &h.t1], h.list_ts);
    let next = r.header("next-page").expect("Next-Page").to_owned();
    let r = s.get(&next, ALICE).await;
    expect_changes(&r, &[&h.r4, &h.r2], h.list_ts);
    assert_eq!(r.header("next-page"), None);
    // A GET of the deleted object is still a 404.
    let r = s.get(&record("r1"), ALICE).await;
    expect(&r, 404, not_found("r1", "record"));
}

#[tokio::test]
async fn sync_tombstones_follow_readability() {
    let s = start().await;
    setup(&s).await;
    let bob_read = json!({"read": [BOB_ID]});
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}, "permissions": bob_read.clone()})).await;
    assert_eq!(r.status, 201);
    let r3 = s.put(&record("r3"), ALICE, json!({"data": {"a": 3}, "permissions": bob_read})).await;
    assert_eq!(r3.status, 201);
    let r3 = r3.json["data"].clone();
    let r2 = put_record(&s, "r2", json!({"a": 2})).await;
    let t1 = delete_record(&s, "r1").await;

    // Bob could only read r1 through its own ACL, gone with the deletion: he never sees the tombstone.
    let r = s.get(&format!("{RECORDS}?_since=0"), BOB).await;
    expect_changes(&r, &[&r3], lm(&t1));
    // Alice (bucket owner) does.
    let r = s.get(&format!("{RECORDS}?_since=0"), ALICE).await;
    expect_changes(&r, &[&t1, &r2, &r3], lm(&t1));
    // A collection reader sees every tombstone.
    let r = s.patch("/v1/buckets/b1/collections/c1", ALICE, json!({"permissions": {"read": [BOB_ID]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&format!("{RECORDS}?_since=0"), BOB).await;
    expect_changes(&r, &[&t1, &r2, &r3], lm(&t1));
}

// ------------------------------------------------------------------------------------------------
// SYNC-ETAG-UNFILTERED

#[tokio::test]
async fn sync_etag_is_the_whole_list_timestamp() {
    let s = start().await;
    setup(&s).await;
    let bob_read = json!({"read": [BOB_ID]});
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}, "permissions": bob_read})).await;
    let r1 = r.json["data"].clone();
    put_record(&s, "r2", json!({"a": 2})).await;
    let r3 = put_record(&s, "r3", json!({"a": 3})).await;
    let list_ts = lm(&r3);
    for query in ["", "?a=99", "?_limit=1", "?a=1", "?_since=0&_limit=1", "?_sort=a&_limit=2", "?_fields=id"] {
        let r = s.get(&format!("{RECORDS}{query}"), ALICE).await;
        assert_eq!(r.status, 200, "{query}");
        expect_ts_headers(&r, list_ts);
        let r = s.head(&format!("{RECORDS}{query}"), ALICE).await;
        expect_ts_headers(&r, list_ts);
    }
    // Bob only sees r1, but the ETag is the list's.
    let r = s.get(RECORDS, BOB).await;
    expect_changes(&r, &[&r1], list_ts);
    // Following pages keeps the ETag.
    let r = s.get(&format!("{RECORDS}?_limit=1"), ALICE).await;
    let r = s.get(r.header("next-page").expect("Next-Page"), ALICE).await;
    expect_ts_headers(&r, list_ts);
    // A deletion moves it.
    let t = delete_record(&s, "r2").await;
    let r = s.get(&format!("{RECORDS}?a=99"), ALICE).await;
    expect_changes(&r, &[], lm(&t));
}

// ------------------------------------------------------------------------------------------------
// SYNC-FLOW-KINTOJS

/// Pulls like kinto.js: `_since="<etag>"&_sort=-last_modified`, following every Next-Page; returns the
/// records of all pages and the ETag of the last page (quotes stripped).
async fn pull(s: &Srv, since: Option<i64>, extra: &str) -> (Vec<Value>, i64) {
    let mut url = format!("{RECORDS}?_sort=-last_modified{extra}");
    if let Some(since) = since {
        url = format!("{RECORDS}?_since=%22{since}%22&_sort=-last_modified{extra}");
    }
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let r = s.get(&url, ALICE).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        all.extend(r.json["data"].as_array().expect("list").iter().cloned());
        pages += 1;
        assert!(pages < 20);
        match r.header("next-page") {
            Some(next) => url = next.to_owned(),
            None => return (all, r.etag()),
        }
    }
}

#[tokio::test]
async fn sync_flow_kintojs() {
    let s = start().await;
    setup(&s).await;
    // Another device populated the collection.
    let mut server_side = Vec::new();
    for i in 1..=5 {
        server_side.push(put_record(&s, &format!("r{i}"), json!({"title": format!("t{i}")})).await);
    }

    // 2. metadata pull, with an ignored cache buster.
    let r = s.get("/v1/buckets/b1/collections/c1?_expected=123", ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["id"], json!("c1"));

    // 3. first pull (no _since), in pages of 2.
    let (first, last_modified) = pull(&s, None, "&_limit=2").await;
    let expected: Vec<Value> = server_side.iter().rev().cloned().collect();
    assert_eq!(first, expected);
    assert_eq!(last_modified, lm(&server_side[4]));
    // Nothing changed: an empty list with the same ETag (no "server was flushed").
    let (again, etag) = pull(&s, Some(last_modified), "").await;
    assert_eq!(again, Vec::<Value>::new());
    assert_eq!(etag, last_modified);

    // Concurrent remote changes: r2 updated, r3 deleted, r6 created, x1 created.
    let r2_remote = put_record(&s, "r2", json!({"title": "remote"})).await;
    let t3 = delete_record(&s, "r3").await;
    let r6 = put_record(&s, "r6", json!({"title": "t6"})).await;
    let x1_remote = put_record(&s, "x1", json!({"title": "remote x1"})).await;

    // 4. push local changes in one batch.
    let rec = |id: &str| format!("/buckets/b1/collections/c1/records/{id}");
    let lm_of = |i: usize| format!("\"{}\"", lm(&server_side[i]));
    let batch = json!({
        "defaults": {"headers": {"Accept": "application/json"}},
        "requests": [
            {"method": "PUT", "path": rec("n1"), "headers": {"If-None-Match": "*"},
             "body": {"data": {"id": "n1", "title": "new"}}},
            {"method": "PUT", "path": rec("r1"), "headers": {"If-Match": lm_of(0)},
             "body": {"data": {"id": "r1", "title": "local r1"}}},
            {"method": "PUT", "path": rec("r2"), "headers": {"If-Match": lm_of(1)},
             "body": {"data": {"id": "r2", "title": "local r2"}}},
            {"method": "DELETE", "path": rec("r4"), "headers": {"If-Match": lm_of(3)}},
            {"method": "DELETE", "path": rec("r3"), "headers": {"If-Match": lm_of(2)}},
            {"method": "PUT", "path": rec("x1"), "headers": {"If-None-Match": "*"},
             "body": {"data": {"id": "x1", "title": "local x1"}}},
        ]
    });
    let r = s.post("/v1/batch", ALICE, batch).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let responses = r.json["responses"].as_array().expect("responses").clone();
    assert_eq!(responses.len(), 6);
    let statuses: Vec<i64> = responses.iter().map(|x| x["status"].as_i64().expect("status")).collect();
    assert_eq!(statuses, vec![201, 200, 412, 200, 404, 412]);
    let paths: Vec<&str> = responses.iter().map(|x| x["path"].as_str().expect("path")).collect();
    assert_eq!(
        paths,
        ["n1", "r1", "r2", "r4", "r3", "x1"].map(|id| format!("/v1/buckets/b1/collections/c1/records/{id}"))
    );
    let n1 = responses[0]["body"]["data"].clone();
    assert_eq!(n1["title"], json!("new"));
    let r1 = responses[1]["body"]["data"].clone();
    assert_eq!(r1["title"], json!("local r1"));
    assert_eq!(responses[2]["body"], precondition_failed(Some(r2_remote.clone())));
    assert_eq!(responses[2]["headers"]["ETag"], json!(format!("\"{}\"", lm(&r2_remote))));
    let t4 = responses[3]["body"]["data"].clone();
    assert_eq!(t4, tombstone("r4", lm(&t4)));
    assert_eq!(responses[4]["body"], not_found("r3", "record"));
    assert_eq!(responses[5]["body"], precondition_failed(Some(x1_remote.clone())));
    for (i, x) in responses.iter().enumerate() {
        if let Some(ts) = x["body"]["data"]["last_modified"].as_i64() {
            assert_eq!(x["headers"]["ETag"], json!(format!("\"{ts}\"")), "subresponse {i}");
        }
    }

    // 5. CLIENT_WINS re-push of the r2 conflict with the remote timestamp.
    let batch = json!({"requests": [
        {"method": "PUT", "path": rec("r2"), "headers": {"If-Match": format!("\"{}\"", lm(&r2_remote))},
         "body": {"data": {"id": "r2", "title": "local r2"}}},
    ]});
    let r = s.post("/v1/batch", ALICE, batch).await;
    assert_eq!(r.json["responses"][0]["status"], json!(200), "{}", r.text);
    let r2 = r.json["responses"][0]["body"]["data"].clone();

    // 6. final pull, excluding the published ids.
    let (changes, etag) = pull(&s, Some(last_modified), "&exclude_id=n1,r1,r4,r2").await;
    assert_eq!(changes, vec![x1_remote.clone(), r6.clone(), t3.clone()]);
    assert_eq!(etag, lm(&r2));
    // Without exclusion everything since the first pull shows up, newest first.
    let (changes, _) = pull(&s, Some(last_modified), "&_limit=3").await;
    let mut expected = vec![r2.clone(), t4, r1, n1, x1_remote, r6, t3];
    expected.sort_by_key(|v| -lm(v));
    assert_eq!(changes, expected);
    // 7. next sync: nothing new.
    let (changes, again) = pull(&s, Some(etag), "").await;
    assert!(changes.is_empty());
    assert_eq!(again, etag);
}
