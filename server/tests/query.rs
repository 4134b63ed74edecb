//! Filtering, sorting, pagination, counting and field selection on plural endpoints (KINTO_API.md §5:
//! REC-FILTER-*, REC-SORT, REC-PAGE-*, REC-COUNT, REC-FIELDS, OP-LIST-DELETE). Expected values were checked
//! against the reference Kinto 26.5.0, except where the spec asks not to copy a quirk (noted inline).
#![allow(dead_code)]

mod common;

use common::Reply;
use serde_json::{Value, json};

use common::srv::*;

// ------------------------------------------------------------------------------------------------
// helpers of this file

/// The records of a test, by id, as the server returned them on creation.
struct Records(std::collections::BTreeMap<String, Value>);

impl Records {
    /// The exact list body `{"data": [records of ids, in this order]}`.
    fn list(&self, ids: &[&str]) -> Value {
        json!({"data": ids.iter().map(|id| self.0[*id].clone()).collect::<Vec<_>>()})
    }

    fn max_ts(&self) -> i64 {
        self.0.values().filter_map(|r| r["last_modified"].as_i64()).max().expect("records")
    }
}

/// Creates `b1/c1` and the given records (in this order) as alice.
async fn seed(s: &Srv, records: &[(&str, Value)]) -> Records {
    setup(s).await;
    seed_more(s, records).await
}

async fn seed_more(s: &Srv, records: &[(&str, Value)]) -> Records {
    let mut map = std::collections::BTreeMap::new();
    for (id, data) in records {
        let r = s.put(&record(id), ALICE, json!({"data": data})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        map.insert((*id).to_owned(), r.json["data"].clone());
    }
    Records(map)
}

/// Asserts a 200 list response with exactly these records and the list ETag/Last-Modified.
#[track_caller]
fn expect_list(r: &Reply, recs: &Records, ids: &[&str], list_ts: i64) {
    expect(r, 200, recs.list(ids));
    expect_ts_headers(r, list_ts);
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"), "Cache-Control");
    assert_eq!(r.header("next-page"), None, "Next-Page");
    assert_eq!(r.header("total-objects"), None, "Total-Objects on GET");
}

/// A 400 body for a query-string parameter (message = description when it names the parameter).
fn bad_param(name: &str, description: &str) -> Value {
    let message = if description.contains(name) {
        description.to_owned()
    } else {
        format!("{name} in querystring: {description}")
    };
    invalid("querystring", json!(name), description, &message)
}

fn bad_token() -> Value {
    invalid("querystring", Value::Null, "_token has invalid content", "querystring: _token has invalid content")
}

/// Splits an absolute `Next-Page` URL into its path and its decoded query parameters.
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = url.split_once('?').expect("query string");
    let params = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    (path.to_owned(), params)
}

/// Asserts that `Next-Page` is `<root><path>?<expected params>&_token=<something>` (any parameter order).
#[track_caller]
fn expect_next_page(s: &Srv, r: &Reply, path: &str, expected: &[(&str, &str)]) -> String {
    let url = r.header("next-page").unwrap_or_else(|| panic!("Next-Page expected; body was {}", r.text)).to_owned();
    let (base, mut params) = split_url(&url);
    assert_eq!(base, format!("{}{path}", s.root), "Next-Page base");
    let token = params.iter().position(|(k, _)| k == "_token").expect("_token in Next-Page");
    assert!(!params.remove(token).1.is_empty(), "non-empty token");
    params.sort();
    let mut expected: Vec<(String, String)> =
        expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    expected.sort();
    assert_eq!(params, expected, "Next-Page parameters");
    url
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn b64_decode(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).expect("base64 token")).expect("utf-8")
}

/// Records used by most filter tests.
fn filter_dataset() -> Vec<(&'static str, Value)> {
    vec![
        ("r1", json!({"n": 1, "s": "Alpha", "tags": ["a", "b"], "author": {"name": "Ben"}, "flag": true, "stock": 1})),
        (
            "r2",
            json!({"n": 2, "s": "beta", "tags": ["b", "c"], "author": {"name": "Ann"}, "flag": false, "in_stock": 1}),
        ),
        ("r3", json!({"n": "3", "s": "gamma ray", "tags": [], "author": {}, "nul": null})),
        ("r4", json!({})),
        ("r5", json!({"n": 10, "s": "delta", "tags": ["c"], "author": {"name": "ben"}, "flag": null})),
    ]
}

/// Runs each `(query, expected ids)` case against the records list.
async fn check_cases(s: &Srv, recs: &Records, cases: &[(&str, &[&str])]) {
    let ts = recs.max_ts();
    for (query, expected) in cases {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        assert_eq!(r.status, 200, "?{query}: {}", r.text);
        assert_eq!(ids(&r), expected.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>(), "?{query}");
        expect_list(&r, recs, expected, ts);
    }
}

// ------------------------------------------------------------------------------------------------
// REC-FILTER-SYNTAX / REC-FILTER-VALUE

#[tokio::test]
async fn rec_filter_syntax_equality_and_and_semantics() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("n=1", &["r1"]),
            ("eq_n=1", &["r1"]),
            ("n=1&s=Alpha", &["r1"]),
            ("n=1&s=beta", &[]),
            ("n=1&flag=true", &["r1"]),
            ("unknown=1", &[]),
            // Unknown `_` parameters are ignored (cache busters such as `_expected`).
            ("_foo=bar", &["r5", "r4", "r3", "r2", "r1"]),
            ("_expected=123&n=2", &["r2"]),
            // `in_stock` parses as operator `in` on field `stock`; `eq_in_stock` reaches the field itself.
            ("in_stock=1", &["r1"]),
            ("eq_in_stock=1", &["r2"]),
            ("id=r3", &["r3"]),
            ("not_id=r3", &["r5", "r4", "r2", "r1"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn rec_filter_value_parsing_is_type_sensitive() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("n=3", &[]),
            ("n=%223%22", &["r3"]),
            ("n=1.0", &["r1"]),
            ("flag=true", &["r1"]),
            ("flag=false", &["r2"]),
            ("flag=null", &["r5"]),
            ("s=Alpha", &["r1"]),
            ("s=alpha", &[]),
            ("s=gamma%20ray", &["r3"]),
            ("s=", &[]),
            ("author=%7B%22name%22%3A%22Ann%22%7D", &["r2"]),
            ("tags=%5B%22b%22%2C%22c%22%5D", &["r2"]),
            ("tags=%5B%22c%22%2C%22b%22%5D", &[]),
            ("tags=%5B%5D", &["r3"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn rec_filter_value_empty_string_matches_empty_string_only() {
    let s = start().await;
    let recs = seed(&s, &[("r1", json!({"s": ""})), ("r2", json!({"s": "x"})), ("r3", json!({}))]).await;
    check_cases(&s, &recs, &[("s=", &["r1"]), ("s=%22%22", &["r1"]), ("not_s=", &["r3", "r2"])]).await;
}

// ------------------------------------------------------------------------------------------------
// REC-FILTER-OPS

#[tokio::test]
async fn rec_filter_ops_spec_type_ordering_example() {
    let s = start().await;
    let recs = seed(
        &s,
        &[
            ("a", json!({"n": 1})),
            ("b", json!({"n": 2})),
            ("c", json!({"n": "3"})),
            ("d", json!({})),
            ("e", json!({"n": 10})),
        ],
    )
    .await;
    check_cases(
        &s,
        &recs,
        &[
            ("gt_n=1", &["e", "d", "b"]),
            ("lt_n=2", &["c", "a"]),
            ("min_n=2", &["e", "d", "b"]),
            ("max_n=2", &["c", "b", "a"]),
            ("not_n=1", &["e", "d", "c", "b"]),
            ("gt_n=%223%22", &["e", "d", "b", "a"]),
            ("lt_n=%223%22", &[]),
            ("max_n=%223%22", &["c"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn rec_filter_ops_comparisons() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("not_n=1", &["r5", "r4", "r3", "r2"]),
            ("lt_n=2", &["r3", "r1"]),
            ("gt_n=1", &["r5", "r4", "r2"]),
            ("min_n=2", &["r5", "r4", "r2"]),
            ("max_n=2", &["r3", "r2", "r1"]),
            ("lt_s=c", &["r2", "r1"]),
            ("not_flag=true", &["r5", "r4", "r3", "r2"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn rec_filter_ops_in_and_exclude() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("in_n=1,10", &["r5", "r1"]),
            ("in_n=1,%223%22", &["r3", "r1"]),
            // Empty items are dropped (kinto-http.py sends a trailing comma).
            ("in_n=1,,2,", &["r2", "r1"]),
            // A JSON array is not a list here.
            ("in_n=%5B1%2C2%5D", &[]),
            ("in_n=", &[]),
            ("exclude_n=1,2", &["r5", "r4", "r3"]),
            ("exclude_n=", &["r5", "r4", "r3", "r2", "r1"]),
            ("exclude_s=Alpha,beta", &["r5", "r4", "r3"]),
            ("in_id=r1,r2", &["r2", "r1"]),
            ("in_id=r1,r2,", &["r2", "r1"]),
            ("exclude_id=r1,r2", &["r5", "r4", "r3"]),
            ("in_flag=true,null", &["r5", "r1"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn rec_filter_ops_like() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            // Case-insensitive, a pattern without `*` matches anywhere; objects lacking the field never match
            // (and must not crash, QUIRK-LIKE-MEMORY).
            ("like_s=alp", &["r1"]),
            ("like_s=GAMMA", &["r3"]),
            ("like_s=a", &["r5", "r3", "r2", "r1"]),
            ("like_s=*ta", &["r5", "r2"]),
            ("like_s=b*", &["r2"]),
            ("like_s=*l*a", &["r5", "r1"]),
            ("like_s=gamma%20ray", &["r3"]),
            // Only `*` is a wildcard (QUIRK-LIKE-WILDCARDS).
            ("like_s=%25", &[]),
            ("like_s=b_ta", &[]),
            ("like_author.name=ben", &["r5", "r1"]),
        ],
    )
    .await;
    let r = s.get(&format!("{RECORDS}?like_n=1"), ALICE).await;
    expect(&r, 400, bad_param("like_n", "Invalid value for like_n"));
}

#[tokio::test]
async fn rec_filter_ops_has() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("has_n=true", &["r5", "r3", "r2", "r1"]),
            ("has_n=1", &["r5", "r3", "r2", "r1"]),
            ("has_n=false", &["r4"]),
            ("has_n=0", &["r4"]),
            // A null value counts as present.
            ("has_nul=true", &["r3"]),
            ("has_nul=false", &["r5", "r4", "r2", "r1"]),
            ("has_flag=yes", &["r5", "r2", "r1"]),
            ("has_flag=", &["r4", "r3"]),
            ("has_flag=null", &["r4", "r3"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn rec_filter_ops_contains_and_contains_any() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("contains_tags=b", &["r2", "r1"]),
            ("contains_tags=%5B%22b%22%2C%22c%22%5D", &["r2"]),
            ("contains_tags=%5B%22c%22%2C%22b%22%5D", &["r2"]),
            ("contains_tags=%5B%5D", &["r5", "r3", "r2", "r1"]),
            ("contains_tags=z", &[]),
            // Non-array fields never match (the memory backend treats strings as character lists).
            ("contains_s=a", &[]),
            ("contains_n=1", &[]),
            ("contains_any_tags=%5B%22a%22%2C%22c%22%5D", &["r5", "r2", "r1"]),
            ("contains_any_tags=c", &["r5", "r2"]),
            // Not a list syntax: the string "a,c".
            ("contains_any_tags=a,c", &[]),
            ("contains_any_tags=%5B%22z%22%5D", &[]),
            ("contains_any_tags=%5B%5D", &[]),
            ("contains_any_s=a", &[]),
        ],
    )
    .await;
}

// ------------------------------------------------------------------------------------------------
// REC-FILTER-NESTED

#[tokio::test]
async fn rec_filter_nested_fields() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            ("author.name=Ben", &["r1"]),
            ("author.name=ben", &["r5"]),
            ("has_author.name=false", &["r4", "r3"]),
            ("has_author.name=true", &["r5", "r2", "r1"]),
            ("not_author.name=Ben", &["r5", "r4", "r3", "r2"]),
            ("gt_author.name=B", &["r5", "r4", "r3", "r1"]),
            ("in_author.name=Ann,Ben", &["r2", "r1"]),
            ("author.name.x=1", &[]),
            ("_sort=author.name", &["r2", "r1", "r5", "r4", "r3"]),
            ("_sort=-author.name", &["r4", "r3", "r5", "r1", "r2"]),
        ],
    )
    .await;
}

// ------------------------------------------------------------------------------------------------
// REC-FILTER-RESERVED

#[tokio::test]
async fn rec_filter_reserved_errors() {
    let s = start().await;
    setup(&s).await;
    let cases: Vec<(&str, Value)> = vec![
        (
            "id=10",
            invalid("querystring", json!("id"), "10 is not a string: {'id': ''}", "10 is not a string: {'id': ''}"),
        ),
        ("in_id=a,10", bad_param("in_id", "Invalid value for in_id")),
        ("exclude_id=a,10", bad_param("exclude_id", "Invalid value for exclude_id")),
        ("last_modified=abc", bad_param("last_modified", "\"abc\" is not a number")),
        ("last_modified=true", bad_param("last_modified", "\"true\" is not a number")),
        ("gt_last_modified=abc", bad_param("gt_last_modified", "Invalid value for gt_last_modified")),
        ("gt_last_modified=-1", bad_param("gt_last_modified", "Invalid value for gt_last_modified")),
        ("min_last_modified=99999999999999", bad_param("min_last_modified", "Invalid value for min_last_modified")),
        ("in_last_modified=1", bad_param("in_last_modified", "Invalid value for in_last_modified")),
        ("exclude_last_modified=1", bad_param("exclude_last_modified", "Invalid value for exclude_last_modified")),
        ("contains_id=a", bad_param("contains_id", "Field 'id' is not an array")),
        ("contains_any_id=a", bad_param("contains_any_id", "Field 'id' is not an array")),
        ("contains_last_modified=1", bad_param("contains_last_modified", "Invalid value for contains_last_modified")),
        ("n=%00", bad_param("n", "Invalid character 0x00")),
        ("n%00=1", bad_param("n\u{0}", "Invalid character 0x00")),
        ("like_n=1", bad_param("like_n", "Invalid value for like_n")),
    ];
    for (query, body) in cases {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        assert_eq!(r.status, 400, "?{query}: {}", r.text);
        assert_eq!(r.json, body, "?{query}");
        assert_eq!(r.header("etag"), None, "?{query}: no ETag on errors");
    }
    // Quoted values are fine.
    for query in ["id=%2210%22", "in_id=a,%2210%22", "gt_last_modified=%22123%22", "last_modified=123"] {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        assert_eq!(r.status, 200, "?{query}: {}", r.text);
    }
}

// ------------------------------------------------------------------------------------------------
// REC-FILTER-TOMBSTONES

#[tokio::test]
async fn rec_filter_tombstones_are_filtered_like_objects_lacking_the_field() {
    let s = start().await;
    let recs = seed(&s, &[("r1", json!({"x": 1})), ("r2", json!({"x": 2})), ("r3", json!({"x": 3}))]).await;
    let r = s.delete(&record("r2"), ALICE).await;
    let tomb = json!({"id": "r2", "last_modified": ts_of(&r), "deleted": true});
    let list_ts = ts_of(&r);
    let r1 = recs.0["r1"].clone();
    let r3 = recs.0["r3"].clone();
    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("_since=0", vec![tomb.clone(), r3.clone(), r1.clone()]),
        ("_since=0&x=1", vec![r1.clone()]),
        ("_since=0&not_x=1", vec![tomb.clone(), r3.clone()]),
        ("_since=0&exclude_x=1,3", vec![tomb.clone()]),
        ("_since=0&gt_x=2", vec![tomb.clone(), r3.clone()]),
        ("_since=0&min_x=3", vec![tomb.clone(), r3.clone()]),
        ("_since=0&lt_x=3", vec![r1.clone()]),
        ("_since=0&has_x=false", vec![tomb.clone()]),
        ("_since=0&has_x=true", vec![r3.clone(), r1.clone()]),
        ("gt_last_modified=0&in_x=1,2", vec![r1.clone()]),
        ("min_last_modified=0&id=r2", vec![tomb.clone()]),
        // Without a last_modified filter tombstones never appear.
        ("not_x=1", vec![r3.clone()]),
        ("has_x=false", vec![]),
    ];
    for (query, expected) in cases {
        let r = s.get(&format!("{RECORDS}?{query}"), ALICE).await;
        expect(&r, 200, json!({"data": expected}));
        expect_ts_headers(&r, list_ts);
    }
}

// ------------------------------------------------------------------------------------------------
// REC-SORT

fn sort_dataset() -> Vec<(&'static str, Value)> {
    vec![
        ("r1", json!({"n": 1, "s": "alpha", "flag": true})),
        ("r2", json!({"n": 2, "s": "beta", "flag": false})),
        ("r3", json!({"n": "3", "s": "gamma"})),
        ("r4", json!({})),
        ("r5", json!({"n": 10, "s": "delta", "flag": null})),
        ("r6", json!({"n": null, "s": "beta", "flag": true})),
        ("r7", json!({"n": [1], "s": "beta", "flag": false})),
        ("r8", json!({"n": {"a": 1}, "s": "alpha"})),
        ("r9", json!({"n": true, "s": "alpha"})),
    ]
}

#[tokio::test]
async fn rec_sort_orders() {
    let s = start().await;
    let recs = seed(&s, &sort_dataset()).await;
    check_cases(
        &s,
        &recs,
        &[
            // Default: newest first.
            ("", &["r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1"]),
            // null < string < number < boolean < array < object < missing.
            ("_sort=n", &["r6", "r3", "r1", "r2", "r5", "r9", "r7", "r8", "r4"]),
            ("_sort=%2Bn", &["r6", "r3", "r1", "r2", "r5", "r9", "r7", "r8", "r4"]),
            ("_sort=-n", &["r4", "r8", "r7", "r9", "r5", "r2", "r1", "r3", "r6"]),
            // false before true; ties broken by -last_modified.
            ("_sort=flag", &["r5", "r7", "r2", "r6", "r1", "r9", "r8", "r4", "r3"]),
            ("_sort=-flag", &["r9", "r8", "r4", "r3", "r6", "r1", "r7", "r2", "r5"]),
            // Multi-key.
            ("_sort=s,-n", &["r8", "r9", "r1", "r7", "r2", "r6", "r5", "r3", "r4"]),
            ("_sort=s,last_modified", &["r1", "r8", "r9", "r2", "r6", "r7", "r5", "r3", "r4"]),
            ("_sort=-s,n", &["r4", "r3", "r5", "r6", "r2", "r7", "r1", "r9", "r8"]),
            ("_sort=id", &["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"]),
            ("_sort=-id", &["r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1"]),
            ("_sort=last_modified", &["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"]),
            // Invalid or empty items are dropped.
            ("_sort=%40%40", &["r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1"]),
            ("_sort=", &["r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1"]),
            ("_sort=%40%40,n", &["r6", "r3", "r1", "r2", "r5", "r9", "r7", "r8", "r4"]),
            ("_sort=,s", &["r9", "r8", "r1", "r7", "r6", "r2", "r5", "r3", "r4"]),
            // Sort combined with a filter.
            ("_sort=n&s=beta", &["r6", "r2", "r7"]),
        ],
    )
    .await;
}

// ------------------------------------------------------------------------------------------------
// REC-PAGE-LIMIT / REC-PAGE-NEXT / REC-PAGE-TOKEN

/// Follows `Next-Page` from `first` until absent; returns the ids of every page.
async fn follow_pages(s: &Srv, first: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = first.to_owned();
    let mut etag = None;
    loop {
        let r = s.get(&url, ALICE).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        // Every page reports the same list ETag.
        let tag = r.header("etag").map(str::to_owned);
        if etag.is_none() {
            etag = tag.clone();
        }
        assert_eq!(tag, etag, "ETag of every page");
        pages.push(ids(&r));
        match r.header("next-page") {
            Some(next) => url = next.to_owned(),
            None => break,
        }
        assert!(pages.len() < 20, "pagination does not end");
    }
    pages
}

fn numbered(n: usize) -> Vec<(String, Value)> {
    (1..=n).map(|i| (format!("r{i}"), json!({"n": i, "even": i % 2 == 0}))).collect()
}

async fn seed_numbered(s: &Srv, n: usize) -> Records {
    let list = numbered(n);
    let borrowed: Vec<(&str, Value)> = list.iter().map(|(id, v)| (id.as_str(), v.clone())).collect();
    seed(s, &borrowed).await
}

#[tokio::test]
async fn rec_page_limit_and_next_page_follow_every_page() {
    let s = start().await;
    let recs = seed_numbered(&s, 5).await;
    let ts = recs.max_ts();

    let r = s.get(&format!("{RECORDS}?_limit=2&_sort=n"), ALICE).await;
    expect(&r, 200, recs.list(&["r1", "r2"]));
    expect_ts_headers(&r, ts);
    expect_next_page(&s, &r, RECORDS, &[("_limit", "2"), ("_sort", "n")]);

    let pages = follow_pages(&s, &format!("{RECORDS}?_limit=2&_sort=n")).await;
    assert_eq!(pages, vec![vec!["r1", "r2"], vec!["r3", "r4"], vec!["r5"]]);

    // Filters are kept in the Next-Page URL and still apply.
    let r = s.get(&format!("{RECORDS}?even=false&_limit=1"), ALICE).await;
    expect(&r, 200, recs.list(&["r5"]));
    expect_next_page(&s, &r, RECORDS, &[("even", "false"), ("_limit", "1")]);
    let pages = follow_pages(&s, &format!("{RECORDS}?even=false&_limit=1")).await;
    assert_eq!(pages, vec![vec!["r5"], vec!["r3"], vec!["r1"]]);

    // Default order pages.
    let pages = follow_pages(&s, &format!("{RECORDS}?_limit=2")).await;
    assert_eq!(pages, vec![vec!["r5", "r4"], vec!["r3", "r2"], vec!["r1"]]);

    // Exactly one full page: no Next-Page.
    let r = s.get(&format!("{RECORDS}?_limit=5"), ALICE).await;
    expect_list(&r, &recs, &["r5", "r4", "r3", "r2", "r1"], ts);
    // `_limit=0` means no limit.
    let r = s.get(&format!("{RECORDS}?_limit=0"), ALICE).await;
    expect_list(&r, &recs, &["r5", "r4", "r3", "r2", "r1"], ts);
}

#[tokio::test]
async fn rec_page_next_keeps_pages_stable_under_concurrent_writes() {
    let s = start().await;
    seed_numbered(&s, 4).await;
    let r = s.get(&format!("{RECORDS}?_limit=2"), ALICE).await;
    assert_eq!(ids(&r), vec!["r4", "r3"]);
    let next = r.header("next-page").expect("Next-Page").to_owned();
    // A new record (newest) and a deletion of an already-seen one do not shift the next page.
    assert_eq!(s.put(&record("r9"), ALICE, json!({"data": {"n": 9}})).await.status, 201);
    assert_eq!(s.delete(&record("r4"), ALICE).await.status, 200);
    let r = s.get(&next, ALICE).await;
    assert_eq!(ids(&r), vec!["r2", "r1"]);
    assert_eq!(r.header("next-page"), None);
    // GET tokens are reusable.
    let r = s.get(&next, ALICE).await;
    assert_eq!(ids(&r), vec!["r2", "r1"]);
}

#[tokio::test]
async fn rec_page_next_with_multi_key_and_missing_sort_values() {
    let s = start().await;
    seed(
        &s,
        &[
            ("r1", json!({"n": 1, "s": "alpha", "flag": true})),
            ("r2", json!({"n": 2, "s": "beta", "flag": false})),
            ("r3", json!({"n": "3", "s": "gamma"})),
            ("r4", json!({})),
            ("r5", json!({"n": 10, "s": "delta", "flag": true})),
            ("r6", json!({"n": 2, "s": "beta", "flag": true})),
            ("r7", json!({"n": 1, "s": "beta", "flag": false})),
            ("r8", json!({"s": "alpha"})),
            ("r9", json!({"n": true, "s": "alpha"})),
        ],
    )
    .await;
    let expected = [
        ("_sort=s,-n", vec!["r8", "r9", "r1", "r6", "r2", "r7", "r5", "r3", "r4"]),
        ("_sort=-flag", vec!["r9", "r8", "r4", "r3", "r6", "r5", "r1", "r7", "r2"]),
        ("_sort=n,-s", vec!["r3", "r7", "r1", "r6", "r2", "r5", "r9", "r4", "r8"]),
    ];
    for (sort, all) in expected {
        let r = s.get(&format!("{RECORDS}?{sort}"), ALICE).await;
        assert_eq!(ids(&r), all, "{sort}");
        for limit in 1..=4 {
            let pages = follow_pages(&s, &format!("{RECORDS}?{sort}&_limit={limit}")).await;
            assert_eq!(pages.concat(), all, "{sort}&_limit={limit}");
            assert!(pages.iter().all(|p| p.len() == limit || p.len() == all.len() % limit), "{sort}: {pages:?}");
        }
    }
}

#[tokio::test]
async fn rec_page_limit_invalid_values() {
    let s = start().await;
    setup(&s).await;
    let r = s.get(&format!("{RECORDS}?_limit=abc"), ALICE).await;
    expect(&r, 400, bad_param("_limit", "\"abc\" is not a number"));
    let r = s.get(&format!("{RECORDS}?_limit=-1"), ALICE).await;
    expect(&r, 400, bad_param("_limit", "-1 is less than minimum value 0"));
}

#[tokio::test]
async fn rec_page_limit_paginate_by_is_default_and_maximum() {
    let s = start_with("paginate_by = 2").await;
    let recs = seed_numbered(&s, 5).await;
    let ts = recs.max_ts();

    let r = s.get(RECORDS, ALICE).await;
    expect(&r, 200, recs.list(&["r5", "r4"]));
    expect_ts_headers(&r, ts);
    expect_next_page(&s, &r, RECORDS, &[("_limit", "2")]);
    assert_eq!(follow_pages(&s, RECORDS).await, vec![vec!["r5", "r4"], vec!["r3", "r2"], vec!["r1"]]);

    // A larger _limit is capped.
    let r = s.get(&format!("{RECORDS}?_limit=5&_sort=n"), ALICE).await;
    expect(&r, 200, recs.list(&["r1", "r2"]));
    expect_next_page(&s, &r, RECORDS, &[("_limit", "2"), ("_sort", "n")]);
    // A smaller one is used.
    let r = s.get(&format!("{RECORDS}?_limit=1&_sort=n&min_n=2"), ALICE).await;
    expect(&r, 200, recs.list(&["r2"]));
    expect_next_page(&s, &r, RECORDS, &[("_limit", "1"), ("_sort", "n"), ("min_n", "2")]);

    // HEAD never carries Next-Page and counts everything.
    let r = s.head(RECORDS, ALICE).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("next-page"), None);
    assert_eq!(r.header("total-objects"), Some("5"));
}

#[tokio::test]
async fn rec_page_limit_storage_max_fetch_size_caps_pages() {
    let s = start_with("storage_max_fetch_size = 3").await;
    let recs = seed_numbered(&s, 5).await;
    let r = s.get(&format!("{RECORDS}?_sort=n"), ALICE).await;
    expect(&r, 200, recs.list(&["r1", "r2", "r3"]));
    expect_next_page(&s, &r, RECORDS, &[("_limit", "3"), ("_sort", "n")]);
    let r = s.get(&format!("{RECORDS}?_sort=n&_limit=10"), ALICE).await;
    expect(&r, 200, recs.list(&["r1", "r2", "r3"]));
    assert_eq!(follow_pages(&s, &format!("{RECORDS}?_sort=n")).await, vec![vec!["r1", "r2", "r3"], vec!["r4", "r5"]]);
}

#[tokio::test]
async fn rec_page_token_tampered_tokens_are_rejected() {
    let s = start().await;
    seed_numbered(&s, 3).await;
    let r = s.get(&format!("{RECORDS}?_limit=1&_sort=n"), ALICE).await;
    let next = r.header("next-page").expect("Next-Page").to_owned();
    let (_, params) = split_url(&next);
    let token = params.iter().find(|(k, _)| k == "_token").expect("_token").1.clone();
    // Kinto's format: base64 of {"last_object": {...}, "offset": n, "nonce": "..."}.
    let decoded: Value = serde_json::from_str(&b64_decode(&token)).expect("token JSON");
    assert_eq!(decoded["last_object"]["n"], json!(1), "{decoded}");
    assert!(decoded["last_object"]["last_modified"].is_i64(), "{decoded}");

    let ts = decoded["last_object"]["last_modified"].clone();
    let forged = [
        "abc".to_owned(),
        "%%%".to_owned(),
        b64("not json"),
        b64("[]"),
        b64("{}"),
        b64(r#"{"offset": 1, "nonce": "x"}"#),
        b64(&format!(r#"{{"last_object": {{"n": 1, "last_modified": {ts}}}, "offset": -1, "nonce": "x"}}"#)),
        b64(&format!(r#"{{"last_object": {{"n": 1, "last_modified": {ts}}}, "offset": true, "nonce": "x"}}"#)),
        b64(r#"{"last_object": {"n": 1, "last_modified": "abc"}, "offset": 1, "nonce": "x"}"#),
        b64(&format!(r#"{{"last_object": {{"n": {{"a": 1}}, "last_modified": {ts}}}, "offset": 1, "nonce": "x"}}"#)),
        b64(&format!(r#"{{"last_object": {{"n": [1], "last_modified": {ts}}}, "offset": 1, "nonce": "x"}}"#)),
        b64(&format!(r#"{{"last_object": {{"n": "a\u0000", "last_modified": {ts}}}, "offset": 1, "nonce": "x"}}"#)),
    ];
    for token in forged {
        let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let r = s.get(&format!("{RECORDS}?_limit=1&_sort=n&_token={encoded}"), ALICE).await;
        expect(&r, 400, bad_token());
    }
    // A well-formed forged token is accepted (the token is just a keyset position).
    let ok = b64(&format!(r#"{{"last_object": {{"n": 2, "last_modified": {ts}}}, "offset": 2, "nonce": "x"}}"#));
    let encoded: String = form_urlencoded::byte_serialize(ok.as_bytes()).collect();
    let r = s.get(&format!("{RECORDS}?_limit=5&_sort=n&_token={encoded}"), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["r3"]);
}

// ------------------------------------------------------------------------------------------------
// REC-COUNT

#[tokio::test]
async fn rec_count_head_reports_total_live_objects() {
    let s = start().await;
    let recs = seed_numbered(&s, 5).await;
    let r = s.delete(&record("r5"), ALICE).await;
    let list_ts = ts_of(&r);
    assert!(list_ts > recs.max_ts());

    for (query, total) in [("", "4"), ("?even=true", "2"), ("?_limit=1", "4"), ("?_since=0", "4"), ("?n=99", "0")] {
        let r = s.head(&format!("{RECORDS}{query}"), ALICE).await;
        assert_eq!(r.status, 200, "{query}");
        assert_eq!(r.text, "", "{query}");
        assert_eq!(r.header("total-objects"), Some(total), "{query}");
        assert_eq!(r.header("total-records"), Some(total), "{query}");
        assert_eq!(r.header("next-page"), None, "{query}");
        assert_eq!(r.header("cache-control"), Some("no-cache, no-store"), "{query}");
        expect_ts_headers(&r, list_ts);
    }
    let r = s.get(RECORDS, ALICE).await;
    assert_eq!(r.header("total-objects"), None);
    assert_eq!(r.header("total-records"), None);
}

// ------------------------------------------------------------------------------------------------
// REC-FIELDS

#[tokio::test]
async fn rec_fields_on_lists_objects_and_tombstones() {
    let s = start().await;
    let recs = seed(&s, &filter_dataset()).await;
    let lm = |id: &str| recs.0[id]["last_modified"].clone();

    let r = s.get(&format!("{RECORDS}?_fields=n,author.name&_sort=id"), ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [
            {"n": 1, "author": {"name": "Ben"}, "id": "r1", "last_modified": lm("r1")},
            {"n": 2, "author": {"name": "Ann"}, "id": "r2", "last_modified": lm("r2")},
            {"n": "3", "author": {}, "id": "r3", "last_modified": lm("r3")},
            {"id": "r4", "last_modified": lm("r4")},
            {"n": 10, "author": {"name": "ben"}, "id": "r5", "last_modified": lm("r5")},
        ]}),
    );
    expect_ts_headers(&r, recs.max_ts());

    // id/last_modified are forced even when not listed; unknown fields are just absent.
    let r = s.get(&format!("{RECORDS}?_fields=zz&in_id=r1,r2&_sort=id"), ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [{"id": "r1", "last_modified": lm("r1")}, {"id": "r2", "last_modified": lm("r2")}]}),
    );

    // Object GET: projected data, no permissions member.
    let r = s.get(&format!("{}?_fields=n,author.name,zz", record("r1")), ALICE).await;
    expect(&r, 200, json!({"data": {"n": 1, "author": {"name": "Ben"}, "id": "r1", "last_modified": lm("r1")}}));
    expect_ts_headers(&r, lm("r1").as_i64().expect("ts"));
    let r = s.get(&format!("{}?_fields=tags", record("r2")), ALICE).await;
    expect(&r, 200, json!({"data": {"tags": ["b", "c"], "id": "r2", "last_modified": lm("r2")}}));

    // Tombstones keep `deleted` (deliberate deviation from QUIRK-FIELDS-TOMBSTONE).
    let r = s.delete(&record("r5"), ALICE).await;
    let del_ts = ts_of(&r);
    let r = s.get(&format!("{RECORDS}?_fields=n&_since=0&_limit=2"), ALICE).await;
    expect(
        &r,
        200,
        json!({"data": [
            {"id": "r5", "last_modified": del_ts, "deleted": true},
            {"id": "r4", "last_modified": lm("r4")},
        ]}),
    );
    expect_ts_headers(&r, del_ts);
}

// ------------------------------------------------------------------------------------------------
// OP-LIST-DELETE / REC-PAGE-DELETE

#[tokio::test]
async fn op_list_delete_with_filters() {
    let s = start().await;
    let recs = seed_numbered(&s, 5).await;

    let r = s.delete(&format!("{RECORDS}?even=true"), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.json["data"].as_array().expect("list").clone();
    assert_eq!(ids(&r), vec!["r4", "r2"]);
    let mut max = 0;
    for t in &data {
        let ts = t["last_modified"].as_i64().expect("ts");
        assert!(ts > recs.max_ts());
        assert_eq!(t, &json!({"id": t["id"].clone(), "last_modified": ts, "deleted": true}));
        max = max.max(ts);
    }
    expect_ts_headers(&r, max);
    assert_eq!(r.header("next-page"), None);

    let r = s.get(RECORDS, ALICE).await;
    expect(&r, 200, recs.list(&["r5", "r3", "r1"]));
    expect_ts_headers(&r, max);

    // Nothing matches: empty list, ETag = list timestamp.
    let r = s.delete(&format!("{RECORDS}?n=99"), ALICE).await;
    expect(&r, 200, json!({"data": []}));
    expect_ts_headers(&r, max);

    // Sorted and limited: deletes the first page only.
    let r = s.delete(&format!("{RECORDS}?_sort=n&_limit=1"), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["r1"]);
    assert!(r.header("next-page").is_some(), "more objects remain");
    let r = s.get(RECORDS, ALICE).await;
    expect(&r, 200, recs.list(&["r5", "r3"]));

    // `_fields` is not applied to DELETE (tombstones are whole).
    let r = s.delete(&format!("{RECORDS}?in_id=r3,r4"), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["r3"]);
    assert_eq!(r.json["data"][0]["deleted"], json!(true));
}

#[tokio::test]
async fn rec_page_delete_paginates_with_single_use_tokens() {
    let s = start_with("paginate_by = 2").await;
    let recs = seed_numbered(&s, 5).await;

    let r = s.delete(&format!("{RECORDS}?min_n=2"), ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["r5", "r4"]);
    let first_max = r.json["data"].as_array().expect("list").iter().filter_map(|t| t["last_modified"].as_i64()).max();
    expect_ts_headers(&r, first_max.expect("ts"));
    let next = expect_next_page(&s, &r, RECORDS, &[("min_n", "2"), ("_limit", "2")]);

    let r = s.delete(&next, ALICE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["r3", "r2"]);
    assert_eq!(r.header("next-page"), None);

    // A DELETE token is single-use.
    let r = s.delete(&next, ALICE).await;
    expect(
        &r,
        400,
        invalid(
            "querystring",
            Value::Null,
            "_token was already used or has expired.",
            "querystring: _token was already used or has expired.",
        ),
    );

    let r = s.get(RECORDS, ALICE).await;
    expect(&r, 200, recs.list(&["r1"]));
}
