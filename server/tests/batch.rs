//! Batch endpoint (KINTO_API.md §11: BATCH-REQUEST, BATCH-LIMIT, BATCH-SUBREQUEST, BATCH-RESPONSE, BATCH-TX).
//! Expected values were checked against the reference Kinto 26.5.0.
#![allow(dead_code)]

mod common;

use common::Reply;
use reqwest::Method;
use serde_json::{Value, json};

use common::srv::*;

// ------------------------------------------------------------------------------------------------
// helpers of this file

async fn batch(s: &Srv, auth: Option<&str>, body: Value) -> Reply {
    s.post("/v1/batch", auth, body).await
}

fn body_error(name: &str, description: &str) -> Value {
    let message = if name.is_empty() || description.contains(name) {
        description.to_owned()
    } else {
        format!("{name} in body: {description}")
    };
    invalid("body", json!(name), description, &message)
}

/// The subresponses of a 200 batch response.
#[track_caller]
fn responses(r: &Reply) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["responses"].as_array().unwrap_or_else(|| panic!("responses: {}", r.text)).clone()
}

/// Asserts one subresponse: status, path and body (bodies of objects compared without timestamps check
/// beyond ETag consistency).
#[track_caller]
fn expect_sub(sub: &Value, status: u16, path: &str, body: Value) {
    assert_eq!(sub["status"], json!(status), "{sub}");
    assert_eq!(sub["path"], json!(path), "{sub}");
    assert_eq!(normalize(sub["body"].clone()), normalize(body), "{sub}");
    assert!(sub["headers"].is_object(), "{sub}");
}

/// The subresponse header `name` (exact case as Kinto sends it).
fn sub_header<'a>(sub: &'a Value, name: &str) -> Option<&'a str> {
    sub["headers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .and_then(|(_, v)| v.as_str())
}

fn alice_owned() -> Value {
    json!({"write": [ALICE_ID]})
}

// ------------------------------------------------------------------------------------------------
// BATCH-REQUEST

#[tokio::test]
async fn batch_request_validation_errors() {
    let s = start().await;
    let cases = [
        (json!({}), body_error("requests", "Required")),
        (json!({"requests": {}}), body_error("requests", "\"{}\" is not iterable")),
        (json!({"requests": [{}]}), body_error("requests.0.path", "Required")),
        (
            json!({"requests": [{"path": "buckets"}]}),
            body_error("requests.0.path", "String does not match expected pattern"),
        ),
        (
            json!({"requests": [{"path": "/buckets", "method": "get"}]}),
            body_error("requests.0.method", "\"get\" is not one of GET, HEAD, DELETE, TRACE, POST, PUT, PATCH"),
        ),
        (
            json!({"requests": [{"path": "/buckets", "method": "FOO"}]}),
            body_error("requests.0.method", "\"FOO\" is not one of GET, HEAD, DELETE, TRACE, POST, PUT, PATCH"),
        ),
        (
            json!({"requests": [{"path": "/buckets"}, {"path": "/batch"}]}),
            body_error("requests", "Recursive call on /batch endpoint is forbidden."),
        ),
        (
            json!({"requests": [{"path": "/v1/batch?x=1"}]}),
            body_error("requests", "Recursive call on /batch endpoint is forbidden."),
        ),
    ];
    for (body, expected) in cases {
        let r = batch(&s, ALICE, body.clone()).await;
        assert_eq!(r.json, expected, "{body}");
        assert_eq!(r.status, 400, "{body}");
    }
    // Errors whose text embeds Python reprs: check their location and name.
    let cases = [
        (json!({"requests": [{"path": "/buckets", "headers": {"X": 1}}]}), "requests.0.headers"),
        (json!({"requests": [{"path": "/buckets", "foo": 1}]}), "requests.0"),
        (json!({"requests": [], "foo": 1}), ""),
        (json!({"defaults": {"foo": 1}, "requests": [{"path": "/buckets"}]}), "defaults"),
    ];
    for (body, name) in cases {
        let r = batch(&s, ALICE, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!((&r.json["errno"], &r.json["error"]), (&json!(107), &json!("Invalid parameters")), "{body}");
        assert_eq!(r.json["details"][0]["location"], json!("body"), "{body}");
        assert_eq!(r.json["details"][0]["name"], json!(name), "{body}");
    }
    // Empty list.
    let r = batch(&s, ALICE, json!({"requests": []})).await;
    expect(&r, 200, json!({"responses": []}));
    // Anonymous callers may use the endpoint.
    let r = batch(&s, ANON, json!({"requests": []})).await;
    expect(&r, 200, json!({"responses": []}));
    // (A non-object `body` is rejected by Kinto, QUIRK-BATCH-BODY: accepting it is a permitted relaxation.)
    // Content-Type must be JSON.
    let r = s
        .send(
            Method::POST,
            "/v1/batch",
            ALICE,
            Some(r#"{"requests": []}"#.to_owned()),
            &[("Content-Type", "text/plain")],
        )
        .await;
    let mut expected = invalid(
        "header",
        json!("Content-Type"),
        "Content-Type header should be one of ['application/json']",
        "Content-Type header should be one of ['application/json']",
    );
    expected["code"] = json!(415);
    expect(&r, 415, expected);
}

// ------------------------------------------------------------------------------------------------
// BATCH-LIMIT

#[tokio::test]
async fn batch_limit() {
    let s = start().await;
    let r = batch(&s, ALICE, json!({"requests": vec![json!({"path": "/"}); 26]})).await;
    expect(&r, 400, body_error("requests", "Number of requests is limited to 25"));
    let r = batch(&s, ALICE, json!({"requests": vec![json!({"path": "/"}); 25]})).await;
    assert_eq!(responses(&r).len(), 25);
}

#[tokio::test]
async fn batch_limit_setting() {
    let s = start_with("batch_max_requests = 2").await;
    let r = batch(&s, ALICE, json!({"requests": vec![json!({"path": "/"}); 3]})).await;
    expect(&r, 400, body_error("requests", "Number of requests is limited to 2"));
    let r = batch(&s, ALICE, json!({"requests": vec![json!({"path": "/"}); 2]})).await;
    assert_eq!(responses(&r).len(), 2);
}

// ------------------------------------------------------------------------------------------------
// BATCH-SUBREQUEST / BATCH-RESPONSE

#[tokio::test]
async fn batch_subrequests_defaults_prefix_and_redirects() {
    let s = start().await;
    let r = batch(
        &s,
        ALICE,
        json!({
            "defaults": {"method": "PUT", "path": "/buckets/b1/collections/c1/records/x",
                         "body": {"data": {"a": 1, "o": {"k": 1}}}},
            "requests": [
                {"path": "/buckets/b1", "body": {}},
                {"path": "/buckets/b1/collections/c1", "body": {}},
                {"body": {"data": {"b": 2, "o": {"j": 2}}}},
                {"method": "HEAD", "path": "/v1/buckets/b1/collections/c1/records/x"},
                {"method": "GET", "path": "/buckets/b1/collections/c1/records/?_fields=a"},
                {"method": "GET", "path": "/buckets/b1/collections/c1/records/nope"},
                {"method": "GET", "path": "/nope"},
            ]
        }),
    )
    .await;
    let subs = responses(&r);
    assert_eq!(subs.len(), 7);
    let ts: Vec<i64> = subs[..3].iter().map(|x| x["body"]["data"]["last_modified"].as_i64().expect("ts")).collect();
    // The defaults body is deep-merged into every request.
    expect_sub(
        &subs[0],
        201,
        "/v1/buckets/b1",
        json!({"data": {"a": 1, "o": {"k": 1}, "id": "b1", "last_modified": ts[0]}, "permissions": alice_owned()}),
    );
    expect_sub(
        &subs[1],
        201,
        "/v1/buckets/b1/collections/c1",
        json!({"data": {"a": 1, "o": {"k": 1}, "id": "c1", "last_modified": ts[1]}, "permissions": alice_owned()}),
    );
    let x = json!({"a": 1, "b": 2, "o": {"j": 2, "k": 1}, "id": "x", "last_modified": ts[2]});
    expect_sub(
        &subs[2],
        201,
        "/v1/buckets/b1/collections/c1/records/x",
        json!({"data": x, "permissions": alice_owned()}),
    );
    for (i, sub) in subs[..3].iter().enumerate() {
        assert_eq!(sub_header(sub, "ETag"), Some(format!("\"{}\"", ts[i]).as_str()), "{sub}");
        assert_eq!(sub_header(sub, "Last-Modified"), Some(http_date(ts[i]).as_str()), "{sub}");
        assert_eq!(sub_header(sub, "Content-Type"), Some("application/json"), "{sub}");
    }
    // HEAD: empty-string body, headers kept.
    expect_sub(&subs[3], 200, "/v1/buckets/b1/collections/c1/records/x", json!(""));
    assert_eq!(sub_header(&subs[3], "ETag"), Some(format!("\"{}\"", ts[2]).as_str()));
    assert_eq!(sub_header(&subs[3], "Cache-Control"), Some("no-cache, no-store"));
    // The trailing-slash redirect is followed; the path has no query string.
    expect_sub(
        &subs[4],
        200,
        "/v1/buckets/b1/collections/c1/records",
        json!({"data": [{"a": 1, "id": "x", "last_modified": ts[2]}]}),
    );
    assert_eq!(sub_header(&subs[4], "ETag"), Some(format!("\"{}\"", ts[2]).as_str()));
    expect_sub(&subs[5], 404, "/v1/buckets/b1/collections/c1/records/nope", not_found("nope", "record"));
    expect_sub(
        &subs[6],
        404,
        "/v1/nope",
        json!({"code": 404, "errno": 111, "error": "Not Found",
               "message": "The resource you are looking for could not be found."}),
    );
}

#[tokio::test]
async fn batch_subrequests_use_the_outer_authorization() {
    let s = start().await;
    setup(&s).await;
    // No outer credentials: each subrequest is anonymous.
    let r = batch(&s, ANON, json!({"requests": [{"path": "/buckets/b1"}]})).await;
    let subs = responses(&r);
    expect_sub(&subs[0], 401, "/v1/buckets/b1", unauthorized());
    assert_eq!(sub_header(&subs[0], "WWW-Authenticate"), Some("Basic realm=\"Realm\""));
    // Outer credentials are inherited.
    let r = batch(&s, ALICE, json!({"requests": [{"path": "/buckets/b1"}]})).await;
    assert_eq!(responses(&r)[0]["status"], json!(200));
    // ... and can be overridden per request (bob:secret) or by defaults.
    let bob = "Basic Ym9iOnNlY3JldA==";
    let r = batch(&s, ALICE, json!({"requests": [{"path": "/buckets/b1", "headers": {"Authorization": bob}}]})).await;
    expect_sub(&responses(&r)[0], 403, "/v1/buckets/b1", forbidden());
    let r = batch(
        &s,
        ALICE,
        json!({"defaults": {"headers": {"Authorization": bob}},
               "requests": [{"path": "/buckets/b1"}, {"path": "/buckets/b1", "headers": {"Authorization": "Basic YWxpY2U6c2VjcmV0"}}]}),
    )
    .await;
    let subs = responses(&r);
    assert_eq!(subs[0]["status"], json!(403));
    assert_eq!(subs[1]["status"], json!(200));
}

#[tokio::test]
async fn batch_subrequest_headers_and_preconditions() {
    let s = start().await;
    setup(&s).await;
    let r = s.put(&record("r1"), ALICE, json!({"data": {"a": 1}})).await;
    let existing = r.json["data"].clone();
    let ts = ts_of(&r);
    let r = batch(
        &s,
        ALICE,
        json!({
            "defaults": {"method": "PUT", "headers": {"If-None-Match": "*"}},
            "requests": [
                {"path": "/buckets/b1/collections/c1/records/r1", "body": {"data": {"a": 2}}},
                {"path": "/buckets/b1/collections/c1/records/r2", "body": {"data": {"a": 2}}},
                {"path": "/buckets/b1/collections/c1/records/r1", "body": {"data": {"a": 3}},
                 "headers": {"If-None-Match": "", "If-Match": format!("\"{ts}\"")}},
                {"method": "GET", "path": "/buckets/b1/collections/c1/records?_limit=1&_sort=id", "headers": {}},
            ]
        }),
    )
    .await;
    let subs = responses(&r);
    expect_sub(&subs[0], 412, "/v1/buckets/b1/collections/c1/records/r1", precondition_failed(Some(existing)));
    assert_eq!(sub_header(&subs[0], "ETag"), Some(format!("\"{ts}\"").as_str()));
    assert_eq!(subs[1]["status"], json!(201), "{}", subs[1]);
    // An empty If-None-Match header counts as absent (as in the reference); If-Match matches.
    assert_eq!(subs[2]["status"], json!(200), "{}", subs[2]);
    assert_eq!(subs[2]["body"]["data"]["a"], json!(3), "{}", subs[2]);
    // The list GET still carries If-None-Match: * from the defaults → 412.
    assert_eq!(subs[3]["status"], json!(412), "{}", subs[3]);

    let r =
        batch(&s, ALICE, json!({"requests": [{"path": "/buckets/b1/collections/c1/records?_limit=1&_sort=id"}]})).await;
    let sub = &responses(&r)[0];
    assert_eq!(sub["status"], json!(200));
    assert_eq!(sub["path"], json!("/v1/buckets/b1/collections/c1/records"));
    assert_eq!(sub["body"]["data"][0]["id"], json!("r1"));
    let next = sub_header(sub, "Next-Page").expect("Next-Page in the subresponse headers");
    assert!(next.contains("/v1/buckets/b1/collections/c1/records?"), "{next}");
    assert!(next.contains("_token="), "{next}");
}

// ------------------------------------------------------------------------------------------------
// BATCH-TX

#[tokio::test]
async fn batch_tx_subrequests_see_each_other_and_4xx_do_not_roll_back() {
    let s = start().await;
    setup(&s).await;
    let r = batch(
        &s,
        ALICE,
        json!({"requests": [
            {"method": "PUT", "path": "/buckets/b1/collections/c1/records/r1", "body": {"data": {"a": 1}}},
            {"method": "PUT", "path": "/buckets/b1/collections/c1/records/r2", "headers": {"If-Match": "\"1\""},
             "body": {"data": {"a": 2}}},
            {"method": "GET", "path": "/buckets/b1/collections/c1/records/r1"},
            {"method": "PATCH", "path": "/buckets/b1/collections/c1/records/r1", "body": {"data": {"b": 1}}},
            {"method": "DELETE", "path": "/buckets/b1/collections/c1/records/nope"},
            {"method": "PUT", "path": "/buckets/b1/collections/c1/records/r3", "body": {"data": {"bad": 1}, "x": 1}},
            {"method": "PUT", "path": "/buckets/b1/collections/c1/records/r4", "body": {"data": {"a": 4}}},
            {"method": "GET", "path": "/buckets/b1/collections/c1/records?_sort=id"},
        ]}),
    )
    .await;
    let subs = responses(&r);
    let statuses: Vec<i64> = subs.iter().map(|x| x["status"].as_i64().expect("status")).collect();
    assert_eq!(statuses, vec![201, 412, 200, 200, 404, 400, 201, 200], "{}", r.text);
    let r1 = subs[0]["body"]["data"].clone();
    expect_sub(&subs[1], 412, "/v1/buckets/b1/collections/c1/records/r2", precondition_failed(None));
    expect_sub(
        &subs[2],
        200,
        "/v1/buckets/b1/collections/c1/records/r1",
        json!({"data": r1, "permissions": alice_owned()}),
    );
    let r1 = subs[3]["body"]["data"].clone();
    assert_eq!((&r1["a"], &r1["b"]), (&json!(1), &json!(1)));
    expect_sub(&subs[4], 404, "/v1/buckets/b1/collections/c1/records/nope", not_found("nope", "record"));
    let r4 = subs[6]["body"]["data"].clone();
    expect_sub(&subs[7], 200, "/v1/buckets/b1/collections/c1/records", json!({"data": [r1.clone(), r4.clone()]}));

    // Committed: the successful writes are visible afterwards.
    let r = s.get(&format!("{RECORDS}?_sort=id"), ALICE).await;
    expect(&r, 200, json!({"data": [r1, r4]}));
}
