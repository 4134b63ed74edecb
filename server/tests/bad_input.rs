//! Bad input never breaks the server: whatever the body, ids, query string or headers, the answer
//! is never a 5xx, and every error (status >= 400) is a Kinto error body: `{"code": <status>,
//! "errno": <int>, "error": <string>, ...}`.
//!
//! Each property drives one server with generated requests against every method on the bucket,
//! collection, group and record object and list URLs. One dimension is wild per property (bodies,
//! ids, query strings, headers) while the others stay sane, so the wild part reaches deep into the
//! request path; a last property makes everything wild at once. Before a case, the fixtures
//! (bucket, collection, group and record `f1`, owned by alice) are put back if the previous case
//! may have changed them.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use percent_encoding::{NON_ALPHANUMERIC, percent_encode, utf8_percent_encode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use reqwest::header::HeaderValue;

const CASES: u32 = 300;
const ALICE: &str = "alice:secret";

/// One generated request.
#[derive(Clone)]
struct Input {
    method: Method,
    /// Already percent-encoded.
    path: String,
    query: Option<String>,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Option<Vec<u8>>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        for (name, value) in &self.headers {
            write!(f, "\n{name}: {}", String::from_utf8_lossy(value))?;
        }
        if let Some(body) = &self.body {
            let text = String::from_utf8_lossy(body);
            let cut: String = text.chars().take(600).collect();
            write!(f, "\n\n{cut}")?;
            if cut.len() < text.len() {
                write!(f, "... ({} bytes)", body.len())?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Small strategy helpers

fn pick(items: &[&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items.to_vec()).prop_map(str::to_owned).boxed()
}

fn bytes(strategy: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Vec<u8>> {
    strategy.prop_map(String::into_bytes).boxed()
}

fn basic(credentials: &[u8]) -> String {
    format!("Basic {}", BASE64.encode(credentials))
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Methods and URLs

fn any_method() -> BoxedStrategy<Method> {
    let custom = Method::from_bytes(b"FOO").expect("method");
    prop_oneof![
        3 => Just(Method::GET),
        3 => Just(Method::PUT),
        3 => Just(Method::PATCH),
        3 => Just(Method::POST),
        3 => Just(Method::DELETE),
        1 => Just(Method::HEAD),
        1 => Just(Method::OPTIONS),
        1 => Just(custom),
    ]
    .boxed()
}

/// A method that takes a body, on a URL where it makes sense (PUT/PATCH on objects, POST on
/// lists), so that the body gets past routing; sometimes DELETE or GET on anything.
fn write_call(segment: BoxedStrategy<String>) -> BoxedStrategy<(Method, String)> {
    let object = (0u8..4, segment.clone(), segment.clone(), segment.clone()).prop_map(|(kind, a, b, c)| match kind {
        0 => format!("/v1/buckets/{a}"),
        1 => format!("/v1/buckets/{a}/collections/{b}"),
        2 => format!("/v1/buckets/{a}/groups/{b}"),
        _ => format!("/v1/buckets/{a}/collections/{b}/records/{c}"),
    });
    let list = (0u8..4, segment.clone(), segment.clone()).prop_map(|(kind, a, b)| match kind {
        0 => "/v1/buckets".to_owned(),
        1 => format!("/v1/buckets/{a}/collections"),
        2 => format!("/v1/buckets/{a}/groups"),
        _ => format!("/v1/buckets/{a}/collections/{b}/records"),
    });
    prop_oneof![
        6 => (prop_oneof![Just(Method::PUT), Just(Method::PATCH)], object),
        3 => (Just(Method::POST), list),
        1 => (prop_oneof![Just(Method::DELETE), Just(Method::GET)], path(segment)),
    ]
    .boxed()
}

/// Any method on any URL.
fn any_call(segment: BoxedStrategy<String>) -> BoxedStrategy<(Method, String)> {
    (any_method(), path(segment)).boxed()
}

/// The fixture id, or a plain valid id.
fn sane_segment() -> BoxedStrategy<String> {
    prop_oneof![3 => Just("f1".to_owned()), 1 => "[a-zA-Z0-9_-]{1,12}"].boxed()
}

/// A path segment, percent-encoded: spaces, unicode, dots, `..`, invalid UTF-8, very long ...
fn wild_segment() -> BoxedStrategy<String> {
    prop_oneof![
        2 => sane_segment(),
        2 => any::<String>().prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        1 => prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| percent_encode(&b, NON_ALPHANUMERIC).to_string()),
        2 => "[ .a-z0-9_\u{e9}\u{4e2d}\u{1F600}-]{0,12}"
            .prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        1 => (1usize..4000).prop_map(|n| "a".repeat(n)),
        2 => pick(&[
            "", ".", "..", "%2e%2e", "%2E", "%", "%zz", "%00", "%20", "a%2Fb", "f1%20", "%20f1", "f1.json",
            "default", "f1%00", "%C3%28", "%ED%A0%80", "-", "_", "a%0Ab", "~", "f1;x", "f1,f2", "*",
        ]),
    ]
    .boxed()
}

fn path(segment: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let shaped = (0u8..8, segment.clone(), segment.clone(), segment).prop_map(|(kind, a, b, c)| match kind {
        0 => "/v1/buckets".to_owned(),
        1 => format!("/v1/buckets/{a}"),
        2 => format!("/v1/buckets/{a}/collections"),
        3 => format!("/v1/buckets/{a}/collections/{b}"),
        4 => format!("/v1/buckets/{a}/groups"),
        5 => format!("/v1/buckets/{a}/groups/{b}"),
        6 => format!("/v1/buckets/{a}/collections/{b}/records"),
        _ => format!("/v1/buckets/{a}/collections/{b}/records/{c}"),
    });
    let odd = pick(&[
        "/v1/buckets/f1/collections/f1/records/f1/extra",
        "/v1/buckets/f1/collections/f1/records/",
        "/v1/buckets/f1/",
        "/v1/buckets//collections",
        "/v1//buckets",
        "/v1/buckets/f1/nope",
        "/v1/buckets/f1/groups/f1/members",
        "/v1/buckets/default/collections/f1/records",
        "/v1/buckets/default/collections/f1/records/f1",
        "/v1/buckets/f1/collections/f1/records/f1?",
    ]);
    prop_oneof![12 => shaped, 1 => odd].boxed()
}

// ---------------------------------------------------------------------------------------------
// Query strings

fn wild_query() -> BoxedStrategy<String> {
    let prefix = pick(&[
        "",
        "",
        "in_",
        "not_",
        "gt_",
        "lt_",
        "min_",
        "max_",
        "has_",
        "like_",
        "exclude_",
        "contains_",
        "contains_any_",
        "eq_",
    ]);
    let field = prop_oneof![
        3 => pick(&["n", "id", "last_modified", "a.b", "x.y.z", "data", "", "_limit", "members", "schema"]),
        1 => any::<String>().prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
    ];
    let special = pick(&["_limit", "_sort", "_since", "_before", "_to", "_token", "_fields", "_expected", "_bogus"]);
    let key = prop_oneof![
        2 => special,
        3 => (prefix, field).prop_map(|(p, f)| format!("{p}{f}")),
    ];
    let value = prop_oneof![
        3 => "-?[0-9]{1,30}",
        2 => "[0-9a-z,._-]{0,20}",
        1 => "\"[a-z0-9]{0,8}\"".prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        1 => "\\[[0-9, \"a-z]{0,12}\\]".prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        1 => pick(&[
            "true", "false", "null", "1e999", "-n,id,last_modified", "0", "-1", "18446744073709551616",
            "9223372036854775808", "%FF", "%", "%zz", "", "NaN", "Infinity", "1.5", "%E2%98%83",
        ]),
        1 => any::<String>().prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| percent_encode(&b, NON_ALPHANUMERIC).to_string()),
        1 => (1usize..3000).prop_map(|n| "9".repeat(n)),
    ];
    let pairs = prop::collection::vec((key, value), 0..5)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
    prop_oneof![
        8 => pairs,
        1 => pick(&["&&&", "=", "==", "_limit", "_limit=", "=1", "_limit=10&_limit=20", "a=%", "%FF=%FF", "?"]),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Header values

/// Any bytes a header value may carry (visible ASCII, space, tab, obs-text).
fn header_garbage() -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(prop_oneof![8 => 32u8..127, 1 => Just(b'\t'), 2 => 128u8..=255], 0..80).boxed()
}

fn etag_header() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => bytes("\"[0-9]{1,25}\""),
        1 => bytes("[0-9]{1,25}"),
        1 => bytes("\"[a-z]{0,5}\""),
        1 => bytes("\"[0-9]{1,5}\", ?\"[0-9]{1,5}\""),
        2 => bytes(pick(&["*", "\"\"", "\"-1\"", "W/\"1\"", "\"1e3\"", "\"0x10\"", "\"", "\"\u{663}\"", "\"1.5\"", ""])),
        2 => header_garbage(),
    ]
    .boxed()
}

fn content_type_header() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        6 => bytes(pick(&[
            "application/json",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
            "application/json-patch+json",
            "text/plain",
            "text/html",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin-1",
            "APPLICATION/JSON",
            "application/*",
            "",
        ])),
        1 => header_garbage(),
    ]
    .boxed()
}

fn accept_header() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        6 => bytes(pick(&[
            "application/json",
            "*/*",
            "text/html",
            "application/xml",
            "application/json;q=0",
            "text/*",
            "application/json, text/html;q=0.9",
            "",
        ])),
        1 => header_garbage(),
    ]
    .boxed()
}

fn authorization_header() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => Just(basic(ALICE.as_bytes()).into_bytes()),
        2 => prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| basic(&b).into_bytes()),
        2 => (any::<String>(), any::<String>()).prop_map(|(u, p)| basic(format!("{u}:{p}").as_bytes()).into_bytes()),
        1 => header_garbage().prop_map(|g| [b"Basic ".as_slice(), &g].concat()),
        2 => bytes(prop_oneof![
            Just(basic(b":")),
            Just(basic(b"alice")),
            Just(basic(b"alice:")),
            Just(basic(b":secret")),
            Just(basic("\u{e9}l\u{ee}ce:s\u{e9}cret".as_bytes())),
            Just(basic(&[0xff, 0xfe, b':', 0x80])),
            Just(format!("basic {}", BASE64.encode(ALICE))),
            Just(format!("Basic  {}", BASE64.encode(ALICE))),
            Just(format!("Basic {}", BASE64.encode(ALICE).trim_end_matches('='))),
            pick(&["Basic", "Basic ", "Basic ====", "Basic !!!", "Bearer abc", "Portier x", "Basic YWxpY2U6c2VjcmV0 x"]),
        ]),
        1 => header_garbage(),
    ]
    .boxed()
}

/// Each of the five headers present or not, with a wild value.
fn wild_headers() -> BoxedStrategy<Vec<(&'static str, Vec<u8>)>> {
    let maybe = |name: &'static str, value: BoxedStrategy<Vec<u8>>| {
        prop::option::weighted(0.7, value).prop_map(move |v| v.map(|v| (name, v)))
    };
    (
        maybe("If-Match", etag_header()),
        maybe("If-None-Match", etag_header()),
        maybe("Content-Type", content_type_header()),
        maybe("Accept", accept_header()),
        maybe("Authorization", authorization_header()),
    )
        .prop_map(|(a, b, c, d, e)| [a, b, c, d, e].into_iter().flatten().collect())
        .boxed()
}

/// Alice's credentials and a JSON content type (sometimes a JSON patch flavour).
fn sane_headers() -> BoxedStrategy<Vec<(&'static str, Vec<u8>)>> {
    let content_type = prop_oneof![
        8 => Just("application/json"),
        1 => Just("application/merge-patch+json"),
        1 => Just("application/json-patch+json"),
    ];
    content_type
        .prop_map(|ct| {
            vec![("Content-Type", ct.as_bytes().to_vec()), ("Authorization", basic(ALICE.as_bytes()).into_bytes())]
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Bodies

fn json_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => pick(&[
            "id", "last_modified", "data", "permissions", "read", "write", "schema", "members", "n", "", "__proto__",
            "collection:create", "group:create", "record:create", "deleted", "uri", "$ref", "type", "properties",
        ]),
        1 => "[a-z]{1,8}",
        1 => any::<String>(),
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<String> {
    prop_oneof![
        3 => pick(&["null", "true", "false", "0", "-0", "1e999", "-1e999", "0.0e-9999", "1.0", "\"\\ud800\"", "\"\\u0000\"",
            "18446744073709551616", "-9223372036854775809", "\"\"", "[]", "{}"]),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        2 => "-?[1-9][0-9]{19,80}",
        1 => "-?[0-9]{1,3}\\.[0-9]{1,6}([eE][+-]?[0-9]{1,4})?",
        3 => any::<String>().prop_map(|s| quoted(&s)),
        2 => "[a-z0-9_:.-]{0,12}".prop_map(|s| quoted(&s)),
    ]
    .boxed()
}

/// JSON text (not a `Value`, so huge numbers, duplicate keys and odd escapes get through).
fn json_text() -> BoxedStrategy<String> {
    json_leaf()
        .prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((json_key(), inner), 0..8).prop_map(|members| {
                    let members: Vec<String> =
                        members.into_iter().map(|(k, v)| format!("{}:{v}", quoted(&k))).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
        .boxed()
}

fn permissions_text() -> BoxedStrategy<String> {
    let name = prop_oneof![
        4 => pick(&["read", "write", "collection:create", "group:create", "record:create", "bucket:create", "admin", ""]),
        1 => any::<String>(),
    ];
    let principal = prop_oneof![
        4 => pick(&["system.Everyone", "system.Authenticated", "account:admin", "basicauth:abc", "/buckets/f1/groups/f1", ""]),
        1 => any::<String>(),
    ];
    let value = prop_oneof![
        4 => prop::collection::vec(principal, 0..4)
            .prop_map(|ps| format!("[{}]", ps.iter().map(|p| quoted(p)).collect::<Vec<_>>().join(","))),
        1 => json_text(),
    ];
    prop_oneof![
        4 => prop::collection::vec((name, value), 0..4).prop_map(|members| {
            let members: Vec<String> = members.into_iter().map(|(k, v)| format!("{}:{v}", quoted(&k))).collect();
            format!("{{{}}}", members.join(","))
        }),
        1 => json_text(),
    ]
    .boxed()
}

fn json_patch_text() -> BoxedStrategy<String> {
    let op = pick(&["add", "remove", "replace", "move", "copy", "test", "bogus", ""]);
    let pointer = prop_oneof![
        4 => pick(&["/data/n", "/data", "", "/", "/data/a/0", "/data/a/-", "/permissions/read/alice",
            "/permissions/write/-", "/permissions/read", "/permissions", "/data/id", "/data/last_modified", "/x~2y", "data"]),
        1 => any::<String>(),
    ];
    let operation = (op, pointer.clone(), pointer, json_text()).prop_map(|(op, path, from, value)| {
        format!(r#"{{"op":{},"path":{},"from":{},"value":{value}}}"#, quoted(&op), quoted(&path), quoted(&from))
    });
    prop::collection::vec(operation, 0..4).prop_map(|ops| format!("[{}]", ops.join(","))).boxed()
}

fn nested_text() -> BoxedStrategy<String> {
    let depth = prop_oneof![8 => 1usize..=50, 1 => prop::sample::select(vec![127usize, 128, 129, 1000, 100_000])];
    (depth, any::<bool>(), any::<bool>())
        .prop_map(|(depth, arrays, wrapped)| {
            let inner = if arrays {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
            };
            if wrapped { format!(r#"{{"data":{{"n":1,"deep":{inner}}}}}"#) } else { inner }
        })
        .boxed()
}

/// A `last_modified` value: edge cases (year 9999, i64 limits), any integer, or any leaf.
fn timestamp() -> BoxedStrategy<String> {
    prop_oneof![
        2 => pick(&["0", "-1", "1", "253402300799999", "253402300800000", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1e3", "1.5", "\"123\""]),
        2 => (0..i64::MAX).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => json_leaf(),
    ]
    .boxed()
}

/// `"id":...,` in a body's data: absent, the fixture's, or anything.
fn id_member() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        1 => Just(r#""id":"f1","#.to_owned()),
        1 => json_leaf().prop_map(|v| format!(r#""id":{v},"#)),
    ]
    .boxed()
}

fn wild_body() -> BoxedStrategy<Option<Vec<u8>>> {
    let text = prop_oneof![
        3 => json_text(),
        4 => json_text().prop_map(|v| format!(r#"{{"data":{v}}}"#)),
        2 => (json_text(), permissions_text()).prop_map(|(v, p)| format!(r#"{{"data":{v},"permissions":{p}}}"#)),
        1 => permissions_text().prop_map(|p| format!(r#"{{"permissions":{p}}}"#)),
        2 => json_patch_text(),
        2 => nested_text(),
        3 => (id_member(), timestamp())
            .prop_map(|(id, lm)| format!(r#"{{"data":{{{id}"last_modified":{lm},"n":1}}}}"#)),
        1 => json_text().prop_map(|v| format!(r#"{{"data":{{"schema":{v}}}}}"#)),
        1 => json_text().prop_map(|v| format!(r#"{{"data":{{"members":{v}}}}}"#)),
        1 => any::<String>(),
        1 => (json_text(), any::<prop::sample::Index>()).prop_map(|(t, at)| {
            let cut = at.index(t.len() + 1);
            String::from_utf8_lossy(&t.as_bytes()[..cut]).into_owned()
        }),
    ];
    prop_oneof![
        1 => Just(None),
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Some),
        12 => text.prop_map(|t| Some(t.into_bytes())),
    ]
    .boxed()
}

/// No body, or a small plausible one.
fn sane_body() -> BoxedStrategy<Option<Vec<u8>>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(b"{}".to_vec())),
        2 => Just(Some(br#"{"data":{"n":1}}"#.to_vec())),
        1 => Just(Some(br#"{"data":{},"permissions":{"read":["system.Everyone"]}}"#.to_vec())),
        1 => json_text().prop_map(|v| Some(format!(r#"{{"data":{v}}}"#).into_bytes())),
    ]
    .boxed()
}

fn input(
    call: BoxedStrategy<(Method, String)>,
    query: BoxedStrategy<Option<String>>,
    headers: BoxedStrategy<Vec<(&'static str, Vec<u8>)>>,
    body: BoxedStrategy<Option<Vec<u8>>>,
) -> impl Strategy<Value = Input> {
    (call, query, headers, body).prop_map(|((method, path), query, headers, body)| Input {
        method,
        path,
        query,
        headers,
        body,
    })
}

// ---------------------------------------------------------------------------------------------
// The check

/// Puts back bucket, collection, group and record `f1` (owned by alice) as they were.
async fn reset_fixtures(server: &common::TestServer) -> Result<(), String> {
    let fixtures = [
        ("/v1/buckets/f1", r#"{"data":{}}"#),
        ("/v1/buckets/f1/collections/f1", r#"{"data":{}}"#),
        ("/v1/buckets/f1/groups/f1", r#"{"data":{"members":["basicauth:abc"]}}"#),
        ("/v1/buckets/f1/collections/f1/records/f1", r#"{"data":{"n":1}}"#),
    ];
    for (path, body) in fixtures {
        let reply =
            server.call(Method::PUT, path, Some(ALICE), Some(serde_json::from_str(body).expect("fixture"))).await;
        if reply.status >= 300 {
            return Err(format!("fixture PUT {path} {body}: {} {}", reply.status, reply.text));
        }
    }
    Ok(())
}

/// Sends `input`; asserts no 5xx and a Kinto error body on errors. Returns whether the request may
/// have changed the fixtures.
async fn check(server: &common::TestServer, input: &Input) -> Result<bool, TestCaseError> {
    let url = match &input.query {
        Some(query) => format!("{}?{query}", input.path),
        None => input.path.clone(),
    };
    let mut request = server.req(input.method.clone(), &url).timeout(Duration::from_secs(30));
    for (name, value) in &input.headers {
        let Ok(value) = HeaderValue::from_bytes(value) else { return Ok(false) };
        request = request.header(*name, value);
    }
    if let Some(body) = &input.body {
        request = request.body(body.clone());
    }
    let response = match request.send().await {
        Ok(response) => response,
        // Not sendable by the client (invalid URL or header): nothing to learn.
        Err(err) if err.is_builder() => return Ok(false),
        Err(err) => return Err(TestCaseError::fail(format!("request failed (server down or hung?): {err}"))),
    };
    let reply = common::Reply::from(response).await;
    let status = reply.status;
    let text: String = reply.text.chars().take(800).collect();
    prop_assert!(status < 500, "got {status}: {text}");
    if status >= 400 && input.method != Method::HEAD {
        let body = &reply.json;
        prop_assert!(
            body["code"].as_u64() == Some(u64::from(status)),
            "{status} without a matching integer `code`: {text}"
        );
        prop_assert!(body["errno"].is_u64() || body["errno"].is_i64(), "{status} without an integer `errno`: {text}");
        prop_assert!(body["error"].is_string(), "{status} without a string `error`: {text}");
    }
    let read_only = matches!(input.method, Method::GET | Method::HEAD | Method::OPTIONS);
    Ok(status < 300 && !read_only)
}

/// Runs `CASES` generated requests against one fresh server.
fn run_property(name: &str, strategy: impl Strategy<Value = Input>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let server = runtime.block_on(common::start());
    // PROPTEST_CASES=5000 for a deeper run.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(CASES);
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 512, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let dirty = Cell::new(true);
    // The last requests that changed something, to explain fixtures that cannot be put back.
    let recent_writes: RefCell<VecDeque<Input>> = RefCell::new(VecDeque::new());
    // Set when an accepted request left the server unable to put the fixtures back: that is a
    // failure of the requests before, not of the case at hand, so the remaining cases are skipped.
    let poisoned: RefCell<Option<String>> = RefCell::new(None);
    let result = runner.run(&strategy, |input| {
        if poisoned.borrow().is_some() {
            return Ok(());
        }
        runtime.block_on(async {
            if dirty.get() {
                if let Err(message) = reset_fixtures(&server).await {
                    let recent: Vec<String> = recent_writes.borrow().iter().map(|i| format!("{i:?}")).collect();
                    *poisoned.borrow_mut() = Some(format!(
                        "{message}\nafter these accepted requests (latest last):\n\n{}",
                        recent.join("\n\n")
                    ));
                    return Ok(());
                }
                dirty.set(false);
            }
            let changed = check(&server, &input).await;
            // On failure too: the fixtures may have changed before the assertion failed.
            let changed_something = changed.as_ref().map_or(true, |changed| *changed);
            dirty.set(changed_something);
            if changed_something {
                let mut recent = recent_writes.borrow_mut();
                recent.push_back(input.clone());
                if recent.len() > 5 {
                    recent.pop_front();
                }
            }
            changed.map(|_| ())
        })
    });
    runtime.block_on(server.stop());
    if let Some(message) = poisoned.into_inner() {
        panic!("{name}: the fixtures could not be put back: {message}");
    }
    if let Err(err) = result {
        panic!("{name}: {err}");
    }
}

fn no_query() -> BoxedStrategy<Option<String>> {
    Just(None).boxed()
}

#[test]
fn wild_bodies() {
    run_property("wild bodies", input(write_call(sane_segment()), no_query(), sane_headers(), wild_body()));
}

#[test]
fn wild_ids() {
    run_property("wild ids", input(any_call(wild_segment()), no_query(), sane_headers(), sane_body()));
}

#[test]
fn wild_query_strings() {
    run_property(
        "wild query strings",
        input(any_call(sane_segment()), wild_query().prop_map(Some).boxed(), sane_headers(), sane_body()),
    );
}

#[test]
fn wild_headers_values() {
    run_property("wild headers", input(any_call(sane_segment()), no_query(), wild_headers(), sane_body()));
}

#[test]
fn everything_wild() {
    run_property(
        "everything wild",
        input(any_call(wild_segment()), prop::option::weighted(0.5, wild_query()).boxed(), wild_headers(), wild_body()),
    );
}
