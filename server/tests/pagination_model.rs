//! Model-based property tests of filtering, sorting and keyset pagination on the records list
//! (KINTO_API.md §5: REC-FILTER-*, REC-SORT, REC-PAGE-*).
//!
//! Each case fills a fresh collection with 0–60 generated records whose fields come from a small
//! domain (so that ties, type mixes and missing values are common), builds a random query (0–2
//! filters, a `_sort` of 0–3 keys, `_limit` 1–7) and walks the pages by following `Next-Page`
//! verbatim. An in-memory model of filter + sort gives the expected ids.
//!
//! * `pages_match_model`: the concatenated pages are exactly the model's ids, in order, and the
//!   pages are full except the last one (no empty trailing page).
//! * `pages_with_concurrent_writes`: between pages, 0–2 records are patched (new `n`) or deleted.
//!   Untouched records that match are all returned, once, in the model's relative order; a record
//!   is never returned after its deletion; and a record appears at most once per version of it
//!   that was visible after its first appearance (with keyset pagination a record that is patched
//!   after being returned can legitimately come back, e.g. with `_sort=n` or `_sort=last_modified`).
//!
//! `PROPTEST_CASES=500` runs a deeper search.

mod common;

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;

use common::{Reply, TestServer};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Map, Number, Value, json};

const CASES: u32 = 60;
const ALICE: &str = "alice:secret";
const BUCKET: &str = "b";
const BATCH_MAX: usize = 25;
/// Query values are percent-encoded except for these readable characters (`,` is the list
/// separator of `in_`/`exclude_`/`_sort`; `+` must be encoded).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'*').remove(b',');

// ---------------------------------------------------------------------------------------------
// Generated inputs

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `field=v` (`explicit == false`) or `eq_field=v`.
    Eq {
        explicit: bool,
    },
    Not,
    Lt,
    Gt,
    Min,
    Max,
    In,
    Exclude,
    Has,
    Like,
    Contains,
    ContainsAny,
}

/// One filter. `value` is: a scalar/array/object for comparisons, an array of scalars for
/// `in`/`exclude`, a boolean for `has`, a pattern string for `like`, an array or a single string
/// for `contains`/`contains_any`.
#[derive(Clone, Debug)]
struct Filter {
    op: Op,
    field: &'static str,
    value: Value,
}

/// A `_sort` item.
#[derive(Clone, Debug)]
struct SortKey {
    field: &'static str,
    desc: bool,
    /// Write `+field` instead of `field` when ascending.
    plus: bool,
}

#[derive(Clone, Debug)]
struct Query {
    filters: Vec<Filter>,
    sort: Vec<SortKey>,
    limit: u8,
}

/// A generated case: the records' data (each with its `id`) and the query.
#[derive(Clone)]
struct Case {
    records: Vec<Value>,
    query: Query,
}

/// A write done between two pages of the second property.
#[derive(Clone, Debug)]
enum Action {
    Patch(Value),
    Delete,
}

#[derive(Clone, Debug)]
struct Write {
    target: Index,
    action: Action,
}

#[derive(Clone)]
struct WriteCase {
    case: Case,
    /// `writes[i]` is done after fetching page `i` (pages beyond the list: no writes).
    writes: Vec<Vec<Write>>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "query: ?{}", self.query.render())?;
        writeln!(f, "records ({}), in creation order:", self.records.len())?;
        for record in &self.records {
            writeln!(f, "  {record}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for WriteCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.case)?;
        writeln!(f, "writes after each page:")?;
        let ids: Vec<String> = self.case.records.iter().map(id_of).collect();
        for (page, writes) in self.writes.iter().enumerate() {
            if writes.is_empty() || ids.is_empty() {
                continue;
            }
            let writes: Vec<String> = writes.iter().map(|w| format!("{:?} {}", w.action, w.target.get(&ids))).collect();
            writeln!(f, "  after page {page}: {}", writes.join(", "))?;
        }
        Ok(())
    }
}

impl Filter {
    fn param(&self) -> String {
        let prefix = match self.op {
            Op::Eq { explicit: false } => "",
            Op::Eq { explicit: true } => "eq_",
            Op::Not => "not_",
            Op::Lt => "lt_",
            Op::Gt => "gt_",
            Op::Min => "min_",
            Op::Max => "max_",
            Op::In => "in_",
            Op::Exclude => "exclude_",
            Op::Has => "has_",
            Op::Like => "like_",
            Op::Contains => "contains_",
            Op::ContainsAny => "contains_any_",
        };
        format!("{prefix}{}", self.field)
    }

    /// The raw (not yet URL-encoded) query value.
    fn raw_value(&self) -> String {
        match (&self.op, &self.value) {
            (Op::In | Op::Exclude, Value::Array(items)) => items.iter().map(raw_scalar).collect::<Vec<_>>().join(","),
            (Op::Like, Value::String(pattern)) => pattern.clone(),
            (_, value) => raw_scalar(value),
        }
    }
}

/// REC-FILTER-VALUE encoding: a string is sent as is unless it would parse as JSON (or is empty),
/// then quoted; anything else as JSON.
fn raw_scalar(value: &Value) -> String {
    match value {
        Value::String(text) if !text.is_empty() && serde_json::from_str::<Value>(text).is_err() => text.clone(),
        other => other.to_string(),
    }
}

impl Query {
    fn render(&self) -> String {
        let mut params: Vec<String> = self
            .filters
            .iter()
            .map(|f| format!("{}={}", f.param(), utf8_percent_encode(&f.raw_value(), QUERY_VALUE)))
            .collect();
        if !self.sort.is_empty() {
            let keys: Vec<String> = self
                .sort
                .iter()
                .map(|k| {
                    let sign = if k.desc {
                        "-"
                    } else if k.plus {
                        "+"
                    } else {
                        ""
                    };
                    format!("{sign}{}", k.field)
                })
                .collect();
            params.push(format!("_sort={}", utf8_percent_encode(&keys.join(","), QUERY_VALUE)));
        }
        params.push(format!("_limit={}", self.limit));
        params.join("&")
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn pick(items: &[&'static str]) -> BoxedStrategy<Value> {
    prop::sample::select(items.to_vec()).prop_map(Value::from).boxed()
}

fn float(value: f64) -> Value {
    Value::Number(Number::from_f64(value).expect("finite float"))
}

/// A non-missing value of `n` (also used as filter values): null, small integers, small floats
/// (including `1.0`), short strings (including number- and boolean-looking ones), booleans.
fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        4 => (-2i64..=3).prop_map(Value::from),
        2 => prop::sample::select(vec![-1.5, 0.5, 1.0, 2.5]).prop_map(float),
        3 => pick(&["a", "B", "b", "ab", "1", "", "true"]),
        2 => any::<bool>().prop_map(Value::Bool),
    ]
    .boxed()
}

fn s_string() -> BoxedStrategy<Value> {
    "[abAB]{0,3}".prop_map(Value::from).boxed()
}

const TAGS: &[&str] = &["a", "b", "c", "A"];

fn tags(max: usize) -> BoxedStrategy<Value> {
    prop::collection::vec(pick(TAGS), 0..=max).prop_map(Value::Array).boxed()
}

fn object_o() -> BoxedStrategy<Value> {
    prop_oneof![1 => Just(json!({})), 4 => (-1i64..=3).prop_map(|k| json!({ "k": k }))].boxed()
}

/// The data of one record (without `id`).
fn record_data() -> BoxedStrategy<Map<String, Value>> {
    (
        prop::option::weighted(0.7, scalar()),
        prop::option::weighted(0.75, s_string()),
        prop::option::weighted(0.6, tags(3)),
        prop::option::weighted(0.6, object_o()),
    )
        .prop_map(|(n, s, tags, o)| {
            let mut data = Map::new();
            for (name, value) in [("n", n), ("s", s), ("tags", tags), ("o", o)] {
                if let Some(value) = value {
                    data.insert(name.to_owned(), value);
                }
            }
            data
        })
        .boxed()
}

const ID_PREFIXES: &[&str] = &["x", "Y", "a", "B"];

/// The id of the `k`-th created record: distinct for k < 61, mixed case, and not in creation
/// order (37 is invertible modulo the prime 61).
fn record_id(k: usize) -> String {
    let j = (k * 37 + 11) % 61;
    format!("{}{j}", ID_PREFIXES[j % ID_PREFIXES.len()])
}

/// 0–60 records with distinct ids.
fn records() -> BoxedStrategy<Vec<Value>> {
    prop::collection::vec(record_data(), 0..=60)
        .prop_map(|datas| {
            datas
                .into_iter()
                .enumerate()
                .map(|(k, mut data)| {
                    data.insert("id".to_owned(), Value::from(record_id(k)));
                    Value::Object(data)
                })
                .collect()
        })
        .boxed()
}

/// Filter values for `id`: strings that are sometimes existing ids.
fn id_value() -> BoxedStrategy<Value> {
    (prop::sample::select(ID_PREFIXES.to_vec()), prop::option::of(0usize..61))
        .prop_map(|(prefix, k)| Value::from(k.map_or_else(|| prefix.to_owned(), |k| format!("{prefix}{k}"))))
        .boxed()
}

fn values_list(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::vec(item, 1..=3).prop_map(Value::Array).boxed()
}

fn has_value() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::Bool).boxed()
}

/// Comparison, `in`/`exclude` and `has` filters on a scalar field whose values come from `value`.
fn scalar_filters(field: &'static str, value: BoxedStrategy<Value>, with_has: bool) -> BoxedStrategy<Filter> {
    let ops = prop::sample::select(vec![
        Op::Eq { explicit: false },
        Op::Eq { explicit: true },
        Op::Not,
        Op::Lt,
        Op::Gt,
        Op::Min,
        Op::Max,
    ]);
    let compare = (ops, value.clone()).prop_map(move |(op, value)| Filter { op, field, value });
    let list = (prop::sample::select(vec![Op::In, Op::Exclude]), values_list(value))
        .prop_map(move |(op, value)| Filter { op, field, value });
    let has = has_value().prop_map(move |value| Filter { op: Op::Has, field, value });
    if with_has {
        prop_oneof![6 => compare, 2 => list, 1 => has].boxed()
    } else {
        prop_oneof![3 => compare, 1 => list].boxed()
    }
}

fn eq_not_has(field: &'static str, value: BoxedStrategy<Value>) -> BoxedStrategy<Filter> {
    let eq = (prop::sample::select(vec![Op::Eq { explicit: false }, Op::Eq { explicit: true }, Op::Not]), value)
        .prop_map(move |(op, value)| Filter { op, field, value });
    let has = has_value().prop_map(move |value| Filter { op: Op::Has, field, value });
    prop_oneof![2 => eq, 1 => has].boxed()
}

fn filter() -> BoxedStrategy<Filter> {
    let n = scalar_filters("n", scalar(), true);
    let s_values = prop_oneof![4 => s_string(), 1 => scalar()].boxed();
    let s = scalar_filters("s", s_values, true);
    let like = "[abAB*]{0,4}".prop_map(|pattern| Filter { op: Op::Like, field: "s", value: Value::from(pattern) });
    let ok = scalar_filters("o.k", prop_oneof![4 => (-2i64..=4).prop_map(Value::from), 1 => scalar()].boxed(), true);
    let id = scalar_filters("id", id_value(), false);
    let tag_contains =
        (prop::sample::select(vec![Op::Contains, Op::ContainsAny]), prop_oneof![2 => tags(2), 1 => pick(TAGS)])
            .prop_map(|(op, value)| Filter { op, field: "tags", value });
    let tag_eq = eq_not_has("tags", tags(2));
    let o = eq_not_has("o", object_o());
    prop_oneof![
        4 => n,
        3 => s,
        2 => like,
        3 => ok,
        2 => id,
        3 => tag_contains,
        1 => tag_eq,
        1 => o,
    ]
    .boxed()
}

const SORT_FIELDS: &[&str] = &["n", "s", "o.k", "id", "last_modified"];

fn query() -> BoxedStrategy<Query> {
    let filters = prop::collection::vec(filter(), 0..=2).prop_map(|filters| {
        // One filter per parameter name.
        let mut seen = HashSet::new();
        filters.into_iter().filter(|f| seen.insert(f.param())).collect::<Vec<_>>()
    });
    let sort = prop::sample::subsequence(SORT_FIELDS.to_vec(), 0..=3)
        .prop_shuffle()
        .prop_flat_map(|fields| {
            let len = fields.len();
            (Just(fields), prop::collection::vec((any::<bool>(), prop::bool::weighted(0.2)), len))
        })
        .prop_map(|(fields, dirs)| {
            fields.into_iter().zip(dirs).map(|(field, (desc, plus))| SortKey { field, desc, plus }).collect::<Vec<_>>()
        });
    (filters, sort, 1u8..=7).prop_map(|(filters, sort, limit)| Query { filters, sort, limit }).boxed()
}

fn case() -> BoxedStrategy<Case> {
    (records(), query()).prop_map(|(records, query)| Case { records, query }).boxed()
}

fn write_case() -> BoxedStrategy<WriteCase> {
    let write = (any::<Index>(), prop_oneof![2 => scalar().prop_map(Action::Patch), 1 => Just(Action::Delete)])
        .prop_map(|(target, action)| Write { target, action });
    (case(), prop::collection::vec(prop::collection::vec(write, 0..=2), 0..=15))
        .prop_map(|(case, writes)| WriteCase { case, writes })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// The model

/// The value at a dotted path; `None` = missing (also when an intermediate is not an object).
fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |value, key| value.as_object()?.get(key))
}

fn rank(value: Option<&Value>) -> u8 {
    match value {
        Some(Value::Null) => 0,
        Some(Value::String(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::Bool(_)) => 3,
        Some(Value::Array(_)) => 4,
        Some(Value::Object(_)) => 5,
        None => 6,
    }
}

fn number(value: &Number) -> f64 {
    value.as_f64().expect("number as f64")
}

/// Type order, then value within a type (arrays and objects compare by type only; the
/// generators never compare them by value).
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Some(Value::String(a)), Some(Value::String(b))) => a.as_bytes().cmp(b.as_bytes()),
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            number(a).partial_cmp(&number(b)).unwrap_or(Ordering::Equal)
        }
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        _ => Ordering::Equal,
    })
}

/// JSON equality with numbers compared numerically (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => number(a) == number(b),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_eq(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(key, value)| b.get(key).is_some_and(|other| json_eq(value, other)))
        }
        _ => a == b,
    }
}

fn eq(field: Option<&Value>, value: &Value) -> bool {
    field.is_some_and(|field| json_eq(field, value))
}

/// Anchored glob with `*` only; both sides already lower-cased.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn like(field: Option<&Value>, pattern: &str) -> bool {
    let Some(Value::String(text)) = field else {
        return false;
    };
    let pattern = pattern.to_ascii_lowercase();
    let pattern = if pattern.contains('*') { pattern } else { format!("*{pattern}*") };
    glob(&pattern, &text.to_ascii_lowercase())
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn matches(record: &Value, filter: &Filter) -> bool {
    let field = lookup(record, filter.field);
    let value = &filter.value;
    match filter.op {
        Op::Eq { .. } => eq(field, value),
        Op::Not => !eq(field, value),
        Op::Lt => compare(field, Some(value)) == Ordering::Less,
        Op::Gt => compare(field, Some(value)) == Ordering::Greater,
        Op::Min => compare(field, Some(value)) != Ordering::Less,
        Op::Max => compare(field, Some(value)) != Ordering::Greater,
        Op::In => as_list(value).iter().any(|v| eq(field, v)),
        Op::Exclude => !as_list(value).iter().any(|v| eq(field, v)),
        Op::Has => field.is_some() == (value == &Value::Bool(true)),
        Op::Like => like(field, value.as_str().unwrap_or_default()),
        Op::Contains | Op::ContainsAny => {
            let Some(Value::Array(items)) = field else {
                return false;
            };
            let wanted = as_list(value);
            let contained = |v: &Value| items.iter().any(|item| json_eq(item, v));
            if filter.op == Op::Contains { wanted.iter().all(contained) } else { wanted.iter().any(contained) }
        }
    }
}

/// The full ordering: the `_sort` keys, then `-last_modified` unless given, then `id` in the
/// direction of `last_modified`.
fn effective_sort(query: &Query) -> Vec<(&'static str, bool)> {
    let mut keys: Vec<(&'static str, bool)> = query.sort.iter().map(|k| (k.field, k.desc)).collect();
    let lm_desc = match keys.iter().find(|(field, _)| *field == "last_modified") {
        Some((_, desc)) => *desc,
        None => {
            keys.push(("last_modified", true));
            true
        }
    };
    keys.push(("id", lm_desc));
    keys
}

/// The ids the query should return, in order. `records` carry their `last_modified`.
fn model(records: &[Value], query: &Query) -> Vec<String> {
    let keys = effective_sort(query);
    let mut selected: Vec<&Value> =
        records.iter().filter(|record| query.filters.iter().all(|filter| matches(record, filter))).collect();
    selected.sort_by(|a, b| {
        keys.iter().fold(Ordering::Equal, |order, (field, desc)| {
            order.then_with(|| {
                let order = compare(lookup(a, field), lookup(b, field));
                if *desc { order.reverse() } else { order }
            })
        })
    });
    selected.iter().map(|record| id_of(record)).collect()
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("record id").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Talking to the server

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

async fn get_url(server: &TestServer, url: &str) -> Reply {
    let request = server.client.get(url).basic_auth("alice", Some("secret"));
    Reply::from(request.send().await.expect("request")).await
}

/// One page: its ids and the `Next-Page` URL.
async fn fetch_page(server: &TestServer, url: &str) -> Result<(Vec<Value>, Option<String>), TestCaseError> {
    let reply = get_url(server, url).await;
    if reply.status != 200 {
        return Err(fail(format!("GET {url} -> {}: {}", reply.status, reply.text)));
    }
    let Some(data) = reply.json["data"].as_array() else {
        return Err(fail(format!("GET {url}: no data list: {}", reply.text)));
    };
    Ok((data.clone(), reply.header("next-page").map(str::to_owned)))
}

/// Creates a fresh collection holding `records` and returns them with their `last_modified`
/// (in creation order) plus the records list URL.
async fn populate(
    server: &TestServer,
    collection: &str,
    records: &[Value],
) -> Result<(Vec<Value>, String), TestCaseError> {
    let path = format!("/v1/buckets/{BUCKET}/collections/{collection}");
    let reply = server.call(Method::PUT, &path, Some(ALICE), None).await;
    if reply.status != 201 {
        return Err(fail(format!("PUT {path} -> {}: {}", reply.status, reply.text)));
    }
    for chunk in records.chunks(BATCH_MAX) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|record| {
                let mut data = record.clone();
                let id = id_of(record);
                data.as_object_mut().expect("record object").remove("id");
                json!({ "path": format!("/buckets/{BUCKET}/collections/{collection}/records/{id}"), "body": { "data": data } })
            })
            .collect();
        let body = json!({ "defaults": { "method": "PUT" }, "requests": requests });
        let reply = server.call(Method::POST, "/v1/batch", Some(ALICE), Some(body)).await;
        let statuses: Vec<u64> = reply.json["responses"]
            .as_array()
            .map(|r| r.iter().filter_map(|r| r["status"].as_u64()).collect())
            .unwrap_or_default();
        if reply.status != 200 || statuses.len() != chunk.len() || statuses.iter().any(|s| *s != 201) {
            return Err(fail(format!("batch -> {}: {}", reply.status, reply.text)));
        }
    }
    // Read back every record's last_modified.
    let list = format!("{}{path}/records", server.root);
    let mut stamps = HashMap::new();
    let mut next = Some(list.clone());
    while let Some(url) = next {
        let (page, next_page) = fetch_page(server, &url).await?;
        for record in page {
            stamps.insert(id_of(&record), record["last_modified"].clone());
        }
        next = next_page;
    }
    let mut with_stamps = Vec::with_capacity(records.len());
    for record in records {
        let Some(stamp) = stamps.get(&id_of(record)) else {
            return Err(fail(format!("record {} is not listed", id_of(record))));
        };
        let mut record = record.clone();
        record.as_object_mut().expect("record object").insert("last_modified".to_owned(), stamp.clone());
        with_stamps.push(record);
    }
    for pair in with_stamps.windows(2) {
        if compare(pair[0].get("last_modified"), pair[1].get("last_modified")) != Ordering::Less {
            return Err(fail(format!(
                "last_modified not strictly increasing in creation order: {} then {}",
                pair[0], pair[1]
            )));
        }
    }
    Ok((with_stamps, list))
}

fn describe(records: &[Value], query: &Query) -> String {
    let mut text = format!("query: ?{}\nrecords (creation order, with last_modified):\n", query.render());
    for record in records {
        text.push_str(&format!("  {record}\n"));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Properties

async fn check_pages(server: &TestServer, collection: &str, case: &Case) -> Result<(), TestCaseError> {
    let (records, list) = populate(server, collection, &case.records).await?;
    let expected = model(&records, &case.query);
    let limit = usize::from(case.query.limit);
    let mut actual: Vec<String> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut next = Some(format!("{list}?{}", case.query.render()));
    while let Some(url) = next {
        if sizes.len() > records.len() / limit + 2 {
            return Err(fail(format!("{}too many pages; ids so far: {actual:?}", describe(&records, &case.query))));
        }
        let (page, next_page) = fetch_page(server, &url).await?;
        sizes.push(page.len());
        actual.extend(page.iter().map(id_of));
        next = next_page;
    }
    let mut seen = HashSet::new();
    let duplicates: Vec<&String> = actual.iter().filter(|id| !seen.insert(*id)).collect();
    if actual != expected || !duplicates.is_empty() {
        return Err(fail(format!(
            "{}expected (model): {expected:?}\nactual (pages):   {actual:?}\nduplicates: {duplicates:?}\npage sizes: {sizes:?}",
            describe(&records, &case.query)
        )));
    }
    // REC-PAGE-NEXT: full pages, and a Next-Page only when more objects follow.
    let (last, full) = sizes.split_last().expect("at least one page");
    if full.iter().any(|size| *size != limit) || (*last == 0 && !full.is_empty()) || *last > limit {
        return Err(fail(format!(
            "{}right ids but bad page sizes {sizes:?} for _limit={limit}",
            describe(&records, &case.query)
        )));
    }
    Ok(())
}

async fn check_pages_with_writes(
    server: &TestServer,
    collection: &str,
    input: &WriteCase,
) -> Result<(), TestCaseError> {
    let case = &input.case;
    let (records, list) = populate(server, collection, &case.records).await?;
    let expected = model(&records, &case.query);
    let ids: Vec<String> = records.iter().map(id_of).collect();
    let mut touched: HashSet<String> = HashSet::new();
    let mut deleted: HashSet<String> = HashSet::new();
    // Occurrences of each id, and patches of it done after its first occurrence.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut patches_after_seen: HashMap<String, usize> = HashMap::new();
    let mut actual: Vec<String> = Vec::new();
    let mut log: Vec<String> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut next = Some(format!("{list}?{}", case.query.render()));
    let mut page_number = 0;
    while let Some(url) = next {
        if page_number > 200 {
            problems.push("more than 200 pages".to_owned());
            break;
        }
        let (page, next_page) = fetch_page(server, &url).await?;
        let page_ids: Vec<String> = page.iter().map(id_of).collect();
        log.push(format!("page {page_number}: {page_ids:?}"));
        for id in &page_ids {
            if deleted.contains(id) {
                problems.push(format!("{id} returned after its deletion"));
            }
            *seen.entry(id.clone()).or_default() += 1;
        }
        actual.extend(page_ids);
        next = next_page;
        if next.is_none() || ids.is_empty() {
            break;
        }
        for write in input.writes.get(page_number).into_iter().flatten() {
            let id = write.target.get(&ids).clone();
            if deleted.contains(&id) {
                continue;
            }
            let path = format!("/v1/buckets/{BUCKET}/collections/{collection}/records/{id}");
            let reply = match &write.action {
                Action::Patch(n) => {
                    if seen.contains_key(&id) {
                        *patches_after_seen.entry(id.clone()).or_default() += 1;
                    }
                    server.call(Method::PATCH, &path, Some(ALICE), Some(json!({ "data": { "n": n } }))).await
                }
                Action::Delete => {
                    deleted.insert(id.clone());
                    server.call(Method::DELETE, &path, Some(ALICE), None).await
                }
            };
            if reply.status != 200 {
                return Err(fail(format!("{:?} {path} -> {}: {}", write.action, reply.status, reply.text)));
            }
            log.push(format!("  then {:?} {id} (last_modified {})", write.action, reply.json["data"]["last_modified"]));
            touched.insert(id);
        }
        page_number += 1;
    }
    for (id, count) in &seen {
        let versions = 1 + patches_after_seen.get(id).copied().unwrap_or(0);
        if *count > versions {
            problems.push(format!("{id} returned {count} times but only {versions} version(s) of it were visible"));
        }
    }
    let expected_untouched: Vec<&String> = expected.iter().filter(|id| !touched.contains(*id)).collect();
    let actual_untouched: Vec<&String> = actual.iter().filter(|id| !touched.contains(*id)).collect();
    if expected_untouched != actual_untouched {
        problems.push(format!(
            "untouched records differ:\n  expected (model): {expected_untouched:?}\n  actual (pages):   {actual_untouched:?}"
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(fail(format!(
        "{}{}\nmodel on the initial records: {expected:?}\nall returned ids: {actual:?}\nwalk:\n{}",
        describe(&records, &case.query),
        problems.join("\n"),
        log.join("\n")
    )))
}

/// Runs `check` on `cases` generated inputs against one server, each in a fresh collection.
fn run_property<T: fmt::Debug + Clone>(name: &str, strategy: BoxedStrategy<T>, check: impl AsyncCheck<T>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let server = runtime.block_on(async {
        let server = common::start().await;
        let reply = server.call(Method::PUT, &format!("/v1/buckets/{BUCKET}"), Some(ALICE), None).await;
        assert_eq!(reply.status, 201, "create bucket: {}", reply.text);
        server
    });
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(CASES);
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 1000, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let counter = Cell::new(0u32);
    let result = runner.run(&strategy, |input| {
        counter.set(counter.get() + 1);
        let collection = format!("c{}", counter.get());
        runtime.block_on(check.check(&server, &collection, &input))
    });
    runtime.block_on(server.stop());
    if let Err(err) = result {
        panic!("{name}: {err}");
    }
}

/// An async check of one input (a trait so that the borrowed futures need no boxing by callers).
trait AsyncCheck<T> {
    fn check(
        &self,
        server: &TestServer,
        collection: &str,
        input: &T,
    ) -> impl Future<Output = Result<(), TestCaseError>>;
}

struct Pages;
struct PagesWithWrites;

impl AsyncCheck<Case> for Pages {
    fn check(
        &self,
        server: &TestServer,
        collection: &str,
        input: &Case,
    ) -> impl Future<Output = Result<(), TestCaseError>> {
        check_pages(server, collection, input)
    }
}

impl AsyncCheck<WriteCase> for PagesWithWrites {
    fn check(
        &self,
        server: &TestServer,
        collection: &str,
        input: &WriteCase,
    ) -> impl Future<Output = Result<(), TestCaseError>> {
        check_pages_with_writes(server, collection, input)
    }
}

#[test]
fn pages_match_model() {
    run_property("pages match the model", case(), Pages);
}

#[test]
fn pages_with_concurrent_writes() {
    run_property("pages with writes between them", write_case(), PagesWithWrites);
}

// ---------------------------------------------------------------------------------------------
// The model itself

#[test]
fn model_examples() {
    let records: Vec<Value> = [json!(1), json!(2), json!("3"), Value::Null, json!(10)]
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let mut record = json!({ "id": format!("r{i}"), "last_modified": i });
            if !n.is_null() {
                record["n"] = n;
            }
            record
        })
        .collect();
    let ids = |op: Op, value: Value| {
        let query = Query { filters: vec![Filter { op, field: "n", value }], sort: Vec::new(), limit: 1 };
        let mut ids = model(&records, &query);
        ids.sort();
        ids
    };
    // The examples of REC-FILTER-OPS (r3 has no `n`).
    assert_eq!(ids(Op::Gt, json!(1)), ["r1", "r3", "r4"]);
    assert_eq!(ids(Op::Lt, json!(2)), ["r0", "r2"]);
    assert_eq!(ids(Op::Min, json!(2)), ["r1", "r3", "r4"]);
    assert_eq!(ids(Op::In, json!([1, "3"])), ["r0", "r2"]);
    assert_eq!(ids(Op::Eq { explicit: true }, float(1.0)), ["r0"]);
    assert!(like(Some(&json!("aBc")), "b"));
    assert!(like(Some(&json!("aBc")), "A*C"));
    assert!(!like(Some(&json!("aBc")), "b*"));
    assert!(like(Some(&json!("abab")), "*b*b"));
    assert!(!like(Some(&json!("ab")), "ab*b"));
    assert!(like(Some(&json!("")), ""));
    assert_eq!(raw_scalar(&json!("1")), "\"1\"");
    assert_eq!(raw_scalar(&json!("ab")), "ab");
    assert_eq!(raw_scalar(&float(1.0)), "1.0");
}
