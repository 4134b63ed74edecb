//! PATCH variants (KINTO_API.md §7: PATCH-MERGE-DEFAULT, PATCH-MERGE-RFC7396, PATCH-JSON-PATCH, PATCH-PERMS,
//! PATCH-RESPONSE-BEHAVIOR) and TS-ALWAYS-BUMP. Expected values were checked against the reference Kinto 26.5.0
//! (light/diff against a reference without the history plugin, QUIRK-LIGHT-HISTORY).
#![allow(dead_code)]

mod common;

use common::Reply;
use reqwest::Method;
use serde_json::{Value, json};

use common::srv::*;

// ------------------------------------------------------------------------------------------------
// helpers of this file

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";

fn alice_owned() -> Value {
    json!({"write": [ALICE_ID]})
}

/// PATCH with a raw body and a content type (plus extra headers).
async fn patch_as(s: &Srv, id: &str, content_type: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("Content-Type", content_type)];
    all.extend_from_slice(headers);
    s.send(Method::PATCH, &record(id), ALICE, Some(body.to_string()), &all).await
}

/// Creates `b1/c1` and record `id` with `data` (and `perms`), returns the record's timestamp.
async fn make(s: &Srv, id: &str, data: Value) -> i64 {
    let r = s.put(&record(id), ALICE, json!({"data": data})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    ts_of(&r)
}

/// Asserts a full 200 object response with `data` (+ id and the new last_modified > `after`) and `perms`;
/// returns the new timestamp.
#[track_caller]
fn expect_patched(r: &Reply, id: &str, data: Value, perms: Value, after: i64) -> i64 {
    assert_eq!(r.status, 200, "{}", r.text);
    let ts = ts_of(r);
    assert!(ts > after, "timestamp bumped: {ts} > {after}");
    let mut data = data;
    data["id"] = json!(id);
    data["last_modified"] = json!(ts);
    expect(r, 200, json!({"data": data, "permissions": perms}));
    expect_ts_headers(r, ts);
    ts
}

fn patch_failed(reason: &str) -> Value {
    let description = format!("JSON Patch operation failed: {reason}");
    invalid("body", Value::Null, &description, &format!("body: {description}"))
}

fn provide_data() -> Value {
    invalid(
        "body",
        json!("data"),
        "Provide at least one of data or permissions",
        "Provide at least one of data or permissions",
    )
}

// ------------------------------------------------------------------------------------------------
// PATCH-MERGE-DEFAULT

#[tokio::test]
async fn patch_merge_default_is_shallow() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": {"b": "c"}, "keep": 1, "n": 5})).await;

    let r = s.patch(&record("r1"), ALICE, json!({"data": {"a": {"z": 1}, "n": null, "new": [1]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 1, "n": null, "new": [1]}), alice_owned(), ts);
    // Without Content-Type the body is JSON too.
    let r = s.send(Method::PATCH, &record("r1"), ALICE, Some(r#"{"data": {"keep": 2}}"#.to_owned()), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 2, "n": null, "new": [1]}), alice_owned(), ts);
    // `application/json; charset=utf-8` as well.
    let r = patch_as(&s, "r1", "application/json; charset=utf-8", json!({"data": {"keep": 3}}), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 3, "n": null, "new": [1]}), alice_owned(), ts);

    let r = s.patch(&record("r1"), ALICE, json!({})).await;
    expect(&r, 400, provide_data());
    for member in ["data", "permissions"] {
        let r = s.patch(&record("r1"), ALICE, json!({member: null})).await;
        let description = "\"None\" is not a mapping type: Does not implement dict-like functionality.";
        expect(&r, 400, invalid("body", json!(member), description, &format!("{member} in body: {description}")));
    }
    // An id in the body must match.
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"id": "other"}})).await;
    expect(
        &r,
        400,
        invalid(
            "body",
            json!("id"),
            "Object id does not match existing object",
            "Object id does not match existing object",
        ),
    );
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"id": "r1", "x": 1}})).await;
    expect_patched(&r, "r1", json!({"a": {"z": 1}, "keep": 3, "n": null, "new": [1], "x": 1}), alice_owned(), ts);
    // Missing object.
    let r = s.patch(&record("zz"), ALICE, json!({"data": {"x": 1}})).await;
    expect(&r, 404, not_found("zz", "record"));
}

// ------------------------------------------------------------------------------------------------
// PATCH-MERGE-RFC7396

#[tokio::test]
async fn patch_merge_rfc7396_is_recursive_and_null_removes() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": {"b": "c"}, "b": {"x": 1, "y": 2}, "c": 3, "l": [1, 2]})).await;

    let body = json!({"data": {"a": {"d": "e"}, "b": {"y": null}, "c": null, "l": [3]}});
    let r = patch_as(&s, "r1", MERGE_PATCH, body, &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": {"b": "c", "d": "e"}, "b": {"x": 1}, "l": [3]}), alice_owned(), ts);

    // Permissions: keys present replace, null clears; the editor stays in write.
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"permissions": {"read": ["u1", "u2"]}}), &[]).await;
    let perms = json!({"read": ["u1", "u2"], "write": [ALICE_ID]});
    let data = json!({"a": {"b": "c", "d": "e"}, "b": {"x": 1}, "l": [3]});
    let ts = expect_patched(&r, "r1", data.clone(), perms, ts);
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"permissions": {"read": null}}), &[]).await;
    let ts = expect_patched(&r, "r1", data.clone(), alice_owned(), ts);
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"permissions": {"write": null}}), &[]).await;
    let ts = expect_patched(&r, "r1", data.clone(), alice_owned(), ts);

    let r = patch_as(&s, "r1", MERGE_PATCH, json!({}), &[]).await;
    expect(&r, 400, provide_data());
    // Nested null inside a new object.
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"data": {"new": {"k": null, "v": 1}}}), &[]).await;
    let mut data = data;
    data["new"] = json!({"v": 1});
    expect_patched(&r, "r1", data, alice_owned(), ts);
}

// ------------------------------------------------------------------------------------------------
// PATCH-JSON-PATCH

#[tokio::test]
async fn patch_json_patch_data_and_permission_operations() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"c": 3, "l": [1, 2]})).await;

    // As kinto-http.js sends them: permission ops without value, escaped principals.
    let ops = json!([
        {"op": "add", "path": "/permissions/read/system.Everyone"},
        {"op": "add", "path": "/permissions/read/~1buckets~1b1~1groups~1g1"},
        {"op": "add", "path": "/data/z", "value": 3},
        {"op": "replace", "path": "/data/c", "value": "r"},
    ]);
    let r = patch_as(&s, "r1", JSON_PATCH, ops, &[]).await;
    let perms = json!({"read": ["system.Everyone", "/buckets/b1/groups/g1"], "write": [ALICE_ID]});
    let ts = expect_patched(&r, "r1", json!({"c": "r", "l": [1, 2], "z": 3}), perms, ts);

    let ops = json!([
        {"op": "remove", "path": "/permissions/read/system.Everyone"},
        {"op": "remove", "path": "/data/z"},
        {"op": "move", "from": "/data/c", "path": "/data/d"},
        {"op": "copy", "from": "/data/l", "path": "/data/l2"},
        {"op": "test", "path": "/data/d", "value": "r"},
        {"op": "add", "path": "/data/l/-", "value": 9},
        {"op": "add", "path": "/permissions/write/bob"},
    ]);
    let r = patch_as(&s, "r1", JSON_PATCH, ops, &[]).await;
    let perms = json!({"read": ["/buckets/b1/groups/g1"], "write": [ALICE_ID, "bob"]});
    let ts = expect_patched(&r, "r1", json!({"l": [1, 2, 9], "d": "r", "l2": [1, 2]}), perms, ts);

    // The editor cannot remove itself from write; a given value is ignored for read/write.
    let ops = json!([
        {"op": "remove", "path": format!("/permissions/write/{ALICE_ID}")},
        {"op": "add", "path": "/permissions/read/~1buckets~1b1~1groups~1g2", "value": "anything"},
    ]);
    let r = patch_as(&s, "r1", JSON_PATCH, ops, &[]).await;
    let perms = json!({"read": ["/buckets/b1/groups/g1", "/buckets/b1/groups/g2"], "write": [ALICE_ID, "bob"]});
    let ts = expect_patched(&r, "r1", json!({"l": [1, 2, 9], "d": "r", "l2": [1, 2]}), perms.clone(), ts);

    // An empty list of operations just bumps the timestamp.
    let r = patch_as(&s, "r1", JSON_PATCH, json!([]), &[]).await;
    expect_patched(&r, "r1", json!({"l": [1, 2, 9], "d": "r", "l2": [1, 2]}), perms, ts);
}

#[tokio::test]
async fn patch_json_patch_failures() {
    let s = start().await;
    setup(&s).await;
    make(&s, "r1", json!({"c": 3})).await;
    let before = s.get(&record("r1"), ALICE).await.json;

    let cases = [
        (
            json!([{"op": "remove", "path": "/data/missing"}]),
            patch_failed("can't remove a non-existent object 'missing'"),
        ),
        (
            json!([{"op": "replace", "path": "/data/missing", "value": 1}]),
            patch_failed("can't replace a non-existent object 'missing'"),
        ),
        (
            json!([{"op": "remove", "path": "/permissions/read/nobody"}]),
            patch_failed("can't remove a non-existent object 'nobody'"),
        ),
        (
            json!([{"op": "add", "path": "/permissions/record:create/x"}]),
            patch_failed("The operation does not contain a 'value' member"),
        ),
        // A failing op anywhere rolls back the whole patch.
        (
            json!([{"op": "add", "path": "/data/x", "value": 1}, {"op": "remove", "path": "/data/missing"}]),
            patch_failed("can't remove a non-existent object 'missing'"),
        ),
        (
            json!([{"op": "bogus", "path": "/data/x"}]),
            invalid(
                "body",
                json!("0.op"),
                "\"bogus\" is not one of test, add, remove, replace, move, copy",
                "0.op in body: \"bogus\" is not one of test, add, remove, replace, move, copy",
            ),
        ),
        (
            json!([{"op": "add", "path": "nopath", "value": 1}]),
            invalid(
                "body",
                json!("0.path"),
                "String does not match expected pattern",
                "0.path in body: String does not match expected pattern",
            ),
        ),
        (
            json!([{"op": "add", "path": "/data/id", "value": "other"}]),
            invalid(
                "body",
                json!("id"),
                "Object id does not match existing object",
                "Object id does not match existing object",
            ),
        ),
    ];
    for (ops, body) in cases {
        let r = patch_as(&s, "r1", JSON_PATCH, ops.clone(), &[]).await;
        assert_eq!(r.json, body, "{ops}");
        assert_eq!(r.status, 400, "{ops}");
    }
    // A failing test op.
    let r = patch_as(&s, "r1", JSON_PATCH, json!([{"op": "test", "path": "/data/c", "value": 4}]), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!((&r.json["errno"], &r.json["details"][0]["name"]), (&json!(107), &Value::Null));
    assert!(r.json["message"].as_str().expect("message").starts_with("body: JSON Patch operation failed: "));
    // Unknown keys in an operation.
    let r =
        patch_as(&s, "r1", JSON_PATCH, json!([{"op": "add", "path": "/data/x", "value": 1, "extra": 1}]), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["details"][0]["name"], json!("0"));
    // An object body is not a list of operations.
    let r = patch_as(&s, "r1", JSON_PATCH, json!({"op": "add", "path": "/data/x", "value": 1}), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!((&r.json["errno"], &r.json["error"]), (&json!(107), &json!("Invalid parameters")));
    assert!(r.json["message"].as_str().expect("message").ends_with("is not iterable"), "{}", r.text);

    // Nothing changed.
    assert_eq!(s.get(&record("r1"), ALICE).await.json, before);
}

// ------------------------------------------------------------------------------------------------
// PATCH-PERMS

#[tokio::test]
async fn patch_perms_plain_json() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": 1})).await;
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"read": ["u1"]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), json!({"read": ["u1"], "write": [ALICE_ID]}), ts);
    // null is ignored, untouched keys stay.
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"read": ["u3"], "write": null}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), json!({"read": ["u3"], "write": [ALICE_ID]}), ts);
    // Replacing write keeps the editor.
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"write": [BOB_ID]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), json!({"read": ["u3"], "write": [ALICE_ID, BOB_ID]}), ts);
    // [] clears.
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"b": 2}, "permissions": {"read": []}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1, "b": 2}), json!({"write": [ALICE_ID, BOB_ID]}), ts);
    // Bob edits: he is added (already there) and alice stays.
    let r = s.patch(&record("r1"), BOB, json!({"data": {"c": 3}})).await;
    expect_patched(&r, "r1", json!({"a": 1, "b": 2, "c": 3}), json!({"write": [ALICE_ID, BOB_ID]}), ts);
    // Invalid permission name.
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"admin": ["u1"]}})).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

// ------------------------------------------------------------------------------------------------
// PATCH-RESPONSE-BEHAVIOR

#[tokio::test]
async fn patch_response_behavior() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": 1, "c": "keep"})).await;

    let r = s
        .call_h(
            Method::PATCH,
            &record("r1"),
            ALICE,
            Some(json!({"data": {"a": 2, "q": 7, "c": "keep"}})),
            &[("Response-Behavior", "light")],
        )
        .await;
    expect(&r, 200, json!({"data": {"a": 2, "q": 7}}));
    let ts2 = r.etag();
    assert!(ts2 > ts);
    expect_ts_headers(&r, ts2);

    let r = s
        .call_h(
            Method::PATCH,
            &record("r1"),
            ALICE,
            Some(json!({"data": {"a": 3, "q": 7, "c": "keep"}})),
            &[("Response-Behavior", "diff")],
        )
        .await;
    expect(&r, 200, json!({"data": {}}));
    let ts3 = r.etag();
    assert!(ts3 > ts2);
    expect_ts_headers(&r, ts3);

    // Permissions-only light patch.
    let r = s
        .call_h(
            Method::PATCH,
            &record("r1"),
            ALICE,
            Some(json!({"permissions": {"read": ["x"]}})),
            &[("Response-Behavior", "light")],
        )
        .await;
    expect(&r, 200, json!({"data": {}}));

    let r = s
        .call_h(Method::PATCH, &record("r1"), ALICE, Some(json!({"data": {"a": 4}})), &[("Response-Behavior", "full")])
        .await;
    expect_patched(&r, "r1", json!({"a": 4, "q": 7, "c": "keep"}), json!({"read": ["x"], "write": [ALICE_ID]}), ts3);

    let r = s
        .call_h(Method::PATCH, &record("r1"), ALICE, Some(json!({"data": {"a": 5}})), &[("Response-Behavior", "bogus")])
        .await;
    expect(
        &r,
        400,
        invalid(
            "header",
            json!("Response-Behavior"),
            "\"bogus\" is not one of full, light, diff",
            "Response-Behavior in header: \"bogus\" is not one of full, light, diff",
        ),
    );
    assert_eq!(s.get(&record("r1"), ALICE).await.json["data"]["a"], json!(4));
}

// ------------------------------------------------------------------------------------------------
// TS-ALWAYS-BUMP

#[tokio::test]
async fn ts_always_bump_on_unchanged_writes() {
    let s = start().await;
    setup(&s).await;
    let ts = make(&s, "r1", json!({"a": 1})).await;
    let r = s.patch(&record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = patch_as(&s, "r1", MERGE_PATCH, json!({"data": {}}), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = patch_as(&s, "r1", JSON_PATCH, json!([]), &[]).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = s.call(Method::PUT, &record("r1"), ALICE, None).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    let r = s.patch(&record("r1"), ALICE, json!({"permissions": {"write": [ALICE_ID]}})).await;
    let ts = expect_patched(&r, "r1", json!({"a": 1}), alice_owned(), ts);
    // The list timestamp follows.
    let r = s.head(RECORDS, ALICE).await;
    expect_ts_headers(&r, ts);
}
