//! In-memory evaluation of a [`ListQuery`]: filters, sorts, keyset pagination and limits over
//! objects held in memory (e.g. the computed entries of `/v1/permissions`), with exactly the
//! semantics of the SQL compiler (`storage::sqlite::sql`).
//!
//! Values compare as `(rank, value)` pairs: null (0) < string (1) < number (2) < boolean (3) <
//! array (4) < object (5) < missing (6). Within a rank, strings compare by bytes, numbers
//! numerically (integers exactly, others as `f64`), `false < true`, and arrays and objects by
//! their compact JSON text as it is stored (see [`crate::json`]: non-ASCII escaped), which is
//! what SQLite's `json_extract` hands back.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::storage::{Field, Filter, ListQuery, Operator, SortKey};

/// A number as SQLite holds it: an integer when it fits in `i64`, a real otherwise.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Real(f64),
}

impl Num {
    fn of(number: &Number) -> Num {
        if let Some(int) = number.as_i64() {
            return Num::Int(int);
        }
        // `as_f64` refuses numbers beyond the f64 range; SQLite reads them as infinities.
        let real = number.as_f64().unwrap_or_else(|| number.to_string().parse().unwrap_or(f64::NAN));
        Num::Real(real)
    }

    fn cmp(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a.cmp(&b),
            (Num::Int(a), Num::Real(b)) => cmp_int_real(a, b),
            (Num::Real(a), Num::Int(b)) => cmp_int_real(b, a).reverse(),
            (Num::Real(a), Num::Real(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        }
    }

    /// The text of `CAST(x AS TEXT)` in SQLite.
    fn text(self) -> String {
        match self {
            Num::Int(int) => int.to_string(),
            Num::Real(real) => sqlite_real_text(real),
        }
    }
}

/// Compares an integer with a real exactly (as SQLite does), without rounding the integer.
fn cmp_int_real(int: i64, real: f64) -> Ordering {
    // 2^63: the first real above every i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if real.is_nan() {
        return Ordering::Equal;
    }
    if real >= TWO_63 {
        return Ordering::Less;
    }
    if real < -TWO_63 {
        return Ordering::Greater;
    }
    let whole = real.trunc();
    // In range, and integral: the conversion is exact.
    match int.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0_f64.partial_cmp(&(real - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// SQLite's text of a real (`printf("%!.15g")`): 15 significant digits, trailing zeros
/// dropped but at least one decimal (`1.0`, `1.0e+20`, `1.5e-07`).
fn sqlite_real_text(real: f64) -> String {
    if real.is_nan() {
        return String::new();
    }
    if real.is_infinite() {
        return if real > 0.0 { "Inf".to_owned() } else { "-Inf".to_owned() };
    }
    if real == 0.0 {
        return "0.0".to_owned();
    }
    let scientific = format!("{real:.14e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |digits: &str| -> String {
        let mut text = if digits.contains('.') { digits.trim_end_matches('0').to_owned() } else { digits.to_owned() };
        if text.ends_with('.') {
            text.push('0');
        } else if !text.contains('.') {
            text.push_str(".0");
        }
        text
    };
    if !(-4..15).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.unsigned_abs())
    } else {
        let decimals = usize::try_from(14 - exponent).unwrap_or(0);
        trim(&format!("{real:.decimals$}"))
    }
}

/// A field's value reduced to what the SQL compares: its rank and the value `json_extract`
/// yields.
#[derive(Debug, Clone)]
enum Comparable<'v> {
    Null,
    Str(&'v str),
    Num(Num),
    Bool(bool),
    /// The stored JSON text.
    Array(String),
    /// The stored JSON text.
    Object(String),
    Missing,
}

impl<'v> Comparable<'v> {
    fn of(value: Option<&'v Value>) -> Comparable<'v> {
        match value {
            None => Comparable::Missing,
            Some(Value::Null) => Comparable::Null,
            Some(Value::String(text)) => Comparable::Str(text),
            Some(Value::Number(number)) => Comparable::Num(Num::of(number)),
            Some(Value::Bool(boolean)) => Comparable::Bool(*boolean),
            Some(array @ Value::Array(_)) => Comparable::Array(crate::json::to_string(array)),
            Some(object @ Value::Object(_)) => Comparable::Object(crate::json::to_string(object)),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Comparable::Null => 0,
            Comparable::Str(_) => 1,
            Comparable::Num(_) => 2,
            Comparable::Bool(_) => 3,
            Comparable::Array(_) => 4,
            Comparable::Object(_) => 5,
            Comparable::Missing => 6,
        }
    }

    fn cmp(&self, other: &Comparable<'_>) -> Ordering {
        match (self, other) {
            (Comparable::Str(a), Comparable::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Comparable::Num(a), Comparable::Num(b)) => a.cmp(*b),
            (Comparable::Bool(a), Comparable::Bool(b)) => a.cmp(b),
            (Comparable::Array(a), Comparable::Array(b)) | (Comparable::Object(a), Comparable::Object(b)) => {
                a.as_bytes().cmp(b.as_bytes())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Compares two (possibly missing) values by `(rank, value)`.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    Comparable::of(a).cmp(&Comparable::of(b))
}

/// Whether the value of a `like` filter matches `pattern`: `*` is the only wildcard, a pattern
/// without one matches anywhere, and letters match regardless of ASCII case.
fn like_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    if !pattern.contains('*') {
        return text.contains(&pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return true;
    };
    let Some(rest) = text.strip_prefix(first) else {
        return false;
    };
    let Some(mut middle) = rest.strip_suffix(last) else {
        return false;
    };
    for part in &parts[1..parts.len() - 1] {
        match middle.find(part) {
            Some(at) => middle = &middle[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `object` passes `filter` (same semantics as the SQL compiler).
pub fn matches(filter: &Filter, object: &Map<String, Value>) -> bool {
    let value = filter.field.get(object);
    let first = filter.values.first();
    match filter.operator {
        Operator::Eq => compare_values(value, first).is_eq(),
        Operator::Not => compare_values(value, first).is_ne(),
        Operator::Gt => compare_values(value, first).is_gt(),
        Operator::Lt => compare_values(value, first).is_lt(),
        Operator::Min => compare_values(value, first).is_ge(),
        Operator::Max => compare_values(value, first).is_le(),
        Operator::In | Operator::Exclude => {
            let field = Comparable::of(value);
            let found = filter.values.iter().any(|candidate| field.cmp(&Comparable::of(Some(candidate))).is_eq());
            found == (filter.operator == Operator::In)
        }
        Operator::Like => {
            let pattern = first.and_then(Value::as_str).unwrap_or_default();
            let text = match value {
                Some(Value::String(text)) => Cow::Borrowed(text.as_str()),
                Some(Value::Number(number)) => Cow::Owned(Num::of(number).text()),
                _ => return false,
            };
            like_matches(pattern, &text)
        }
        Operator::Has => {
            let present = first.and_then(Value::as_bool).unwrap_or(true);
            value.is_some() == present
        }
        Operator::Contains | Operator::ContainsAny => {
            // Only user fields can hold arrays.
            if !matches!(filter.field, Field::Data(_)) {
                return false;
            }
            let Some(Value::Array(elements)) = value else {
                return false;
            };
            let elements: Vec<Comparable<'_>> = elements.iter().map(|e| Comparable::of(Some(e))).collect();
            let holds = |wanted: &Value| {
                let wanted = Comparable::of(Some(wanted));
                elements.iter().any(|element| element.cmp(&wanted).is_eq())
            };
            if filter.operator == Operator::Contains {
                filter.values.iter().all(holds)
            } else {
                filter.values.iter().any(holds)
            }
        }
    }
}

/// Whether `object` passes every filter.
fn passes(filters: &[Filter], object: &Map<String, Value>) -> bool {
    filters.iter().all(|filter| matches(filter, object))
}

/// Compares two rows of sort values by `keys`.
fn compare_rows(keys: &[SortKey], a: &[Comparable<'_>], b: &[Comparable<'_>]) -> Ordering {
    for ((key, a), b) in keys.iter().zip(a).zip(b) {
        let order = a.cmp(b);
        let order = if key.descending { order.reverse() } else { order };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

/// Compares two objects by the effective sort keys.
pub fn compare(keys: &[SortKey], a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
    for key in keys {
        let order = compare_values(key.field.get(a), key.field.get(b));
        let order = if key.descending { order.reverse() } else { order };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

/// Applies a ListQuery's filters, effective sort, keyset position (`after`, values of the
/// effective sort keys; None = missing) and limit to a list of objects (ignores `access` and
/// `include_deleted`).
pub fn apply(query: &ListQuery, objects: Vec<Map<String, Value>>) -> Vec<Map<String, Value>> {
    let keys = query.effective_sort();
    let position: Option<Vec<Comparable<'_>>> =
        query.after.as_ref().map(|after| after.iter().map(|value| Comparable::of(value.as_ref())).collect());
    let order: Vec<usize> = {
        let mut rows: Vec<(Vec<Comparable<'_>>, usize)> = objects
            .iter()
            .enumerate()
            .filter(|(_, object)| passes(&query.filters, object))
            .map(|(index, object)| (keys.iter().map(|key| Comparable::of(key.field.get(object))).collect(), index))
            .collect();
        if let Some(position) = &position {
            // Strictly after the position, on the keys it gives values for.
            let known = keys.len().min(position.len());
            rows.retain(|(row, _)| compare_rows(&keys[..known], &row[..known], &position[..known]).is_gt());
        }
        rows.sort_by(|(a, _), (b, _)| compare_rows(&keys, a, b));
        if let Some(limit) = query.limit {
            rows.truncate(limit);
        }
        rows.into_iter().map(|(_, index)| index).collect()
    };
    let mut slots: Vec<Option<Map<String, Value>>> = objects.into_iter().map(Some).collect();
    order.into_iter().filter_map(|index| slots.get_mut(index).and_then(Option::take)).collect()
}

/// The number of objects passing the filters.
pub fn count(query: &ListQuery, objects: &[Map<String, Value>]) -> usize {
    objects.iter().filter(|object| passes(&query.filters, object)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("valid JSON")
    }

    fn filter(field: &str, operator: Operator, values: Vec<Value>) -> Filter {
        Filter { field: Field::parse(field), operator, values }
    }

    fn passes_one(field: &str, operator: Operator, values: Vec<Value>, data: Value) -> bool {
        matches(&filter(field, operator, values), &object(data))
    }

    #[test]
    fn ranks_order_the_types() {
        let ordered = [
            Some(json!(null)),
            Some(json!("")),
            Some(json!("zzz")),
            Some(json!(-5)),
            Some(json!(1e30)),
            Some(json!(false)),
            Some(json!(true)),
            Some(json!([1])),
            Some(json!([])),
            Some(json!({"a": 1})),
            Some(json!({})),
            None,
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                assert_eq!(compare_values(a.as_ref(), b.as_ref()), i.cmp(&j), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn numbers_compare_numerically() {
        let cmp = |a: &str, b: &str| compare_values(Some(&parse(a)), Some(&parse(b)));
        assert_eq!(cmp("1", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1e2", "100"), Ordering::Equal);
        assert_eq!(cmp("2", "10"), Ordering::Less);
        assert_eq!(cmp("1.5", "1"), Ordering::Greater);
        assert_eq!(cmp("-1.5", "-1"), Ordering::Less);
        assert_eq!(cmp("9223372036854775807", "9223372036854775806"), Ordering::Greater);
        assert_eq!(cmp("18446744073709551615", "9223372036854775807"), Ordering::Greater);
        assert_eq!(cmp("-18446744073709551615", "-9223372036854775808"), Ordering::Less);
        // Exact: 2^53 + 1 is not equal to the real 2^53.
        assert_eq!(cmp("9007199254740993", "9007199254740992.0"), Ordering::Greater);
        assert_eq!(cmp("0", "-0.0"), Ordering::Equal);
        assert_eq!(cmp("1e400", "18446744073709551615"), Ordering::Greater);
    }

    #[test]
    fn strings_compare_by_bytes_and_containers_by_stored_text() {
        let cmp = |a: Value, b: Value| compare_values(Some(&a), Some(&b));
        assert_eq!(cmp(json!("B"), json!("a")), Ordering::Less);
        assert_eq!(cmp(json!("z"), json!("é")), Ordering::Less);
        assert_eq!(cmp(json!([1, 2]), json!([1, 2])), Ordering::Equal);
        assert_eq!(cmp(json!([10]), json!([9])), Ordering::Less, "by text: `[1` < `[9`");
        assert_eq!(cmp(json!({"b": 1, "a": 2}), json!({"a": 2, "b": 1})), Ordering::Equal);
        // Stored text escapes non-ASCII: `\u00E9` sorts before `z`.
        assert_eq!(cmp(json!(["é"]), json!(["z"])), Ordering::Less);
        // Number text is kept as written.
        assert_eq!(cmp(parse("[1.0]"), parse("[1]")), Ordering::Less);
        assert_eq!(cmp(json!([1]), json!([])), Ordering::Less, "by text: `]` sorts after digits");
    }

    #[test]
    fn equality_and_negation() {
        assert!(passes_one("n", Operator::Eq, vec![json!(1)], json!({"n": 1.0})));
        assert!(!passes_one("n", Operator::Eq, vec![json!("1")], json!({"n": 1})));
        assert!(passes_one("n", Operator::Eq, vec![json!(null)], json!({"n": null})));
        assert!(!passes_one("n", Operator::Eq, vec![json!(null)], json!({})));
        assert!(passes_one("n", Operator::Eq, vec![], json!({})), "no value stands for missing");
        assert!(passes_one("n", Operator::Eq, vec![json!(true)], json!({"n": true})));
        assert!(!passes_one("n", Operator::Eq, vec![json!(1)], json!({"n": true})));
        assert!(passes_one("n", Operator::Eq, vec![json!({"a": [1]})], json!({"n": {"a": [1]}})));
        assert!(passes_one("n", Operator::Not, vec![json!(1)], json!({})));
        assert!(passes_one("n", Operator::Not, vec![json!(1)], json!({"n": "1"})));
        assert!(!passes_one("n", Operator::Not, vec![json!(1)], json!({"n": 1})));
        assert!(passes_one("a.b", Operator::Eq, vec![json!("x")], json!({"a": {"b": "x"}})));
        assert!(passes_one("id", Operator::Eq, vec![json!("r1")], json!({"id": "r1"})));
        assert!(passes_one("last_modified", Operator::Eq, vec![json!(5)], json!({"last_modified": 5})));
    }

    #[test]
    fn ranges_follow_the_ranks() {
        let data = || json!({"s": "b", "n": 5, "z": null});
        assert!(passes_one("n", Operator::Gt, vec![json!(4)], data()));
        assert!(!passes_one("n", Operator::Gt, vec![json!(5)], data()));
        assert!(passes_one("n", Operator::Min, vec![json!(5)], data()));
        assert!(passes_one("n", Operator::Max, vec![json!(5.0)], data()));
        assert!(!passes_one("n", Operator::Lt, vec![json!(5)], data()));
        assert!(passes_one("n", Operator::Gt, vec![json!("zzz")], data()), "numbers rank above strings");
        assert!(passes_one("n", Operator::Lt, vec![json!(true)], data()));
        assert!(passes_one("s", Operator::Gt, vec![json!("a")], data()));
        assert!(passes_one("s", Operator::Gt, vec![json!(null)], data()));
        assert!(passes_one("z", Operator::Min, vec![json!(null)], data()));
        assert!(!passes_one("z", Operator::Gt, vec![json!(null)], data()));
        // Missing ranks last: it passes gt/min, never lt/max.
        assert!(passes_one("missing", Operator::Gt, vec![json!({"a": 1})], data()));
        assert!(passes_one("missing", Operator::Min, vec![json!(1)], data()));
        assert!(!passes_one("missing", Operator::Lt, vec![json!(1)], data()));
        assert!(!passes_one("missing", Operator::Max, vec![json!(1)], data()));
    }

    #[test]
    fn in_and_exclude() {
        let data = || json!({"n": 2});
        assert!(passes_one("n", Operator::In, vec![json!(1), json!(2.0)], data()));
        assert!(!passes_one("n", Operator::In, vec![json!("2")], data()));
        assert!(!passes_one("n", Operator::In, vec![], data()));
        assert!(passes_one("n", Operator::Exclude, vec![], data()));
        assert!(passes_one("n", Operator::Exclude, vec![json!(1)], data()));
        assert!(!passes_one("n", Operator::Exclude, vec![json!(1), json!(2)], data()));
        assert!(passes_one("m", Operator::Exclude, vec![json!(null)], data()));
        assert!(!passes_one("m", Operator::In, vec![json!(null)], data()));
    }

    #[test]
    fn like_uses_stars_and_ignores_ascii_case() {
        let like =
            |pattern: &str, value: Value| passes_one("f", Operator::Like, vec![json!(pattern)], json!({"f": value}));
        assert!(like("ell", json!("Hello")));
        assert!(like("ELL", json!("hello")));
        assert!(!like("É", json!("é")), "only ASCII folds");
        assert!(like("é", json!("café")));
        assert!(like("h*o", json!("Hello")));
        assert!(!like("h*l", json!("Hello")), "a star pattern is anchored");
        assert!(like("*llo", json!("Hello")));
        assert!(!like("*ll", json!("Hello")));
        assert!(like("*", json!("")));
        assert!(like("", json!("anything")));
        assert!(like("a*a", json!("aba")));
        assert!(!like("a*a", json!("a")));
        assert!(like("a*b*c", json!("a-b-b-c")));
        assert!(!like("a*c*b", json!("a-b-c")));
        assert!(like("50%", json!("50%")));
        assert!(!like("5_", json!("50")), "`_` is literal");
        assert!(like("2", json!(123)));
        assert!(like("100.0", parse("1e2")));
        assert!(like("*e+20", json!(1e20)));
        assert!(!like("", json!(null)));
        assert!(!like("", json!(true)));
        assert!(!like("", json!(["a"])));
        assert!(!passes_one("f", Operator::Like, vec![json!("a")], json!({})));
        assert!(passes_one("f", Operator::Like, vec![json!(1)], json!({"f": "x"})), "a non-string pattern is empty");
        assert!(passes_one("id", Operator::Like, vec![json!("R*")], json!({"id": "rec"})));
        assert!(passes_one("last_modified", Operator::Like, vec![json!("*7")], json!({"last_modified": 1234567})));
    }

    #[test]
    fn sqlite_renders_reals_like_printf() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e20, "1.0e+20"),
            (1.5e-7, "1.5e-07"),
            (1.0 / 3.0, "0.333333333333333"),
            (123_456_789_012_345_680.0, "1.23456789012346e+17"),
            (1e15, "1.0e+15"),
            (1e14, "100000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1.0e-05"),
            (-2.5, "-2.5"),
            (-0.0, "0.0"),
            (f64::MAX, "1.79769313486232e+308"),
            (5e-324, "4.94065645841247e-324"),
            (0.300_000_000_000_000_04, "0.3"),
            (2.0e15, "2.0e+15"),
            (123_456.789, "123456.789"),
            (18_446_744_073_709_551_615.0, "1.84467440737096e+19"),
            (f64::INFINITY, "Inf"),
        ];
        for (real, text) in cases {
            assert_eq!(sqlite_real_text(real), text, "{real:e}");
        }
    }

    #[test]
    fn has_counts_null_as_present() {
        assert!(passes_one("n", Operator::Has, vec![json!(true)], json!({"n": null})));
        assert!(!passes_one("n", Operator::Has, vec![json!(false)], json!({"n": null})));
        assert!(passes_one("n", Operator::Has, vec![json!(false)], json!({})));
        assert!(passes_one("n", Operator::Has, vec![], json!({"n": 0})), "defaults to true");
        assert!(passes_one("a.b", Operator::Has, vec![json!(false)], json!({"a": 1})));
    }

    #[test]
    fn contains_and_contains_any() {
        let data = || json!({"tags": ["a", 1, null, [2], {"k": true}], "s": "a"});
        assert!(passes_one("tags", Operator::Contains, vec![json!("a"), json!(1.0)], data()));
        assert!(passes_one("tags", Operator::Contains, vec![json!(null), json!([2]), json!({"k": true})], data()));
        assert!(!passes_one("tags", Operator::Contains, vec![json!("a"), json!("b")], data()));
        assert!(passes_one("tags", Operator::Contains, vec![], data()));
        assert!(passes_one("tags", Operator::ContainsAny, vec![json!("b"), json!(1)], data()));
        assert!(!passes_one("tags", Operator::ContainsAny, vec![json!("b"), json!("1")], data()));
        assert!(!passes_one("tags", Operator::ContainsAny, vec![], data()));
        assert!(!passes_one("s", Operator::Contains, vec![json!("a")], data()), "not an array");
        assert!(!passes_one("s", Operator::Contains, vec![], data()));
        assert!(!passes_one("missing", Operator::ContainsAny, vec![json!("a")], data()));
        assert!(!passes_one("id", Operator::Contains, vec![], json!({"id": ["a"]})));
    }

    fn records() -> Vec<Map<String, Value>> {
        [
            json!({"id": "a", "last_modified": 3, "n": 2}),
            json!({"id": "b", "last_modified": 3}),
            json!({"id": "c", "last_modified": 5, "n": "x"}),
            json!({"id": "d", "last_modified": 1, "n": 2.0}),
            json!({"id": "e", "last_modified": 4, "n": null}),
        ]
        .into_iter()
        .map(object)
        .collect()
    }

    fn ids(objects: &[Map<String, Value>]) -> Vec<&str> {
        objects.iter().filter_map(|o| o.get("id").and_then(Value::as_str)).collect()
    }

    fn sorted_by(field: &str, descending: bool) -> ListQuery {
        ListQuery { sort: vec![SortKey { field: Field::parse(field), descending }], ..ListQuery::default() }
    }

    #[test]
    fn default_order_is_newest_first() {
        let listed = apply(&ListQuery::default(), records());
        assert_eq!(ids(&listed), ["c", "e", "b", "a", "d"]);
    }

    #[test]
    fn sorts_by_rank_then_value_and_ties_by_the_default_keys() {
        let ascending = apply(&sorted_by("n", false), records());
        assert_eq!(ids(&ascending), ["e", "c", "a", "d", "b"]);
        let descending = apply(&sorted_by("n", true), records());
        assert_eq!(ids(&descending), ["b", "a", "d", "c", "e"], "missing first, ties newest first");
        let by_id = apply(&sorted_by("id", false), records());
        assert_eq!(ids(&by_id), ["a", "b", "c", "d", "e"]);
        let oldest = apply(&sorted_by("last_modified", false), records());
        assert_eq!(ids(&oldest), ["d", "a", "b", "e", "c"], "id follows last_modified's direction");
    }

    #[test]
    fn compare_uses_the_keys_in_order() {
        let keys = sorted_by("n", false).effective_sort();
        let objects = records();
        assert_eq!(compare(&keys, &objects[0], &objects[3]), Ordering::Less, "same n, newer first");
        assert_eq!(compare(&keys, &objects[0], &objects[0]), Ordering::Equal);
        assert_eq!(compare(&keys, &objects[4], &objects[1]), Ordering::Less);
    }

    #[test]
    fn pages_follow_the_keyset_position() {
        let base = sorted_by("n", true);
        let all = apply(&base, records());
        let mut paged = Vec::new();
        let mut query = ListQuery { limit: Some(2), ..base.clone() };
        loop {
            let page = apply(&query, records());
            if page.is_empty() {
                break;
            }
            query.after = page.last().map(|last| base.position_of(last));
            paged.extend(page);
        }
        assert_eq!(ids(&paged), ids(&all));
        // A partial position compares its prefix only; an empty one selects nothing.
        let after_missing = ListQuery { after: Some(vec![None]), ..base.clone() };
        assert_eq!(ids(&apply(&after_missing, records())), ["a", "d", "c", "e"]);
        let empty = ListQuery { after: Some(vec![]), ..base };
        assert!(apply(&empty, records()).is_empty());
    }

    #[test]
    fn filters_limit_and_count() {
        let query = ListQuery {
            filters: vec![filter("n", Operator::Min, vec![json!("")])],
            limit: Some(2),
            ..ListQuery::default()
        };
        // Missing ranks last, so it passes `min`.
        assert_eq!(ids(&apply(&query, records())), ["c", "b"]);
        assert_eq!(count(&query, &records()), 4);
        let none = ListQuery { limit: Some(0), ..ListQuery::default() };
        assert!(apply(&none, records()).is_empty());
    }

    /// Cross-checks against the SQLite backend (and so the SQL compiler) on random data.
    mod against_sqlite {
        use super::*;
        use crate::storage::sqlite::{Durability, SqliteBackend, SqliteOptions};
        use crate::storage::{Backend, Stamp, Tx, WriteOutcome};
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        use std::sync::mpsc;

        fn write(
            backend: &SqliteBackend,
            job: impl FnOnce(&mut dyn Tx) -> Vec<Map<String, Value>> + Send + 'static,
        ) -> Vec<Map<String, Value>> {
            let (sender, receiver) = mpsc::channel();
            backend.run_write(Box::new(move |tx| {
                let result = job(tx);
                WriteOutcome {
                    keep: true,
                    complete: Box::new(move |commit| {
                        let _ = sender.send(commit.map(|()| result));
                    }),
                }
            }));
            receiver.recv().expect("the writer answers").expect("commit")
        }

        fn read<T: Send + 'static>(backend: &SqliteBackend, job: impl FnOnce(&mut dyn Tx) -> T + Send + 'static) -> T {
            let (sender, receiver) = mpsc::channel();
            backend.run_read(Box::new(move |tx| {
                let _ = sender.send(job(tx));
            }));
            receiver.recv().expect("the reader answers")
        }

        /// Values for data and filters: every rank, equal numbers written differently,
        /// big numbers, strings that sort by bytes.
        fn values() -> Vec<Value> {
            [
                "null",
                "\"\"",
                "\"a\"",
                "\"A\"",
                "\"ab\"",
                "\"b\"",
                "\"\u{e9}\"",
                "\"a*b\"",
                "\"10\"",
                "0",
                "1",
                "1.0",
                "-1",
                "2.5",
                "1e2",
                "100",
                "18446744073709551615",
                "9223372036854775807",
                "true",
                "false",
                "[]",
                "[1]",
                "[10]",
                "[\"a\",1]",
                "[null]",
                "[true,\"a\"]",
                "[[1]]",
                "{}",
                "{\"x\":1}",
                "{\"x\":\"a\"}",
                "{\"x\":{\"y\":null}}",
            ]
            .iter()
            .map(|text| parse(text))
            .collect()
        }

        /// Stored only: non-ASCII inside containers (stored escaped).
        fn data_values() -> Vec<Value> {
            let mut all = values();
            all.extend([json!(["\u{e9}"]), json!({"x": "\u{e9}"}), json!(["z"])]);
            all
        }

        fn fields() -> Vec<Field> {
            ["id", "last_modified", "a", "b", "n.x", "n", "zz"].into_iter().map(Field::parse).collect()
        }

        fn operators() -> Vec<Operator> {
            use Operator::*;
            vec![Eq, Not, Lt, Gt, Min, Max, In, Exclude, Like, Has, Contains, ContainsAny]
        }

        fn filter_values() -> impl Strategy<Value = Vec<Value>> {
            let patterns = ["", "a", "A*", "*b", "*", "a*b", "1", "*0", "1*", "100.0", "\u{e9}", "r*"];
            prop_oneof![
                3 => prop::collection::vec(prop::sample::select(values()), 0..3),
                2 => prop::collection::vec(prop::sample::select(patterns.map(Value::from).to_vec()), 1..2),
                1 => prop::collection::vec(any::<bool>().prop_map(Value::Bool), 1..2),
            ]
        }

        fn filters() -> impl Strategy<Value = Vec<Filter>> {
            let filter = (prop::sample::select(fields()), prop::sample::select(operators()), filter_values())
                .prop_map(|(field, operator, values)| Filter { field, operator, values });
            prop::collection::vec(filter, 0..=2)
        }

        fn sorts() -> impl Strategy<Value = Vec<SortKey>> {
            let key = (prop::sample::select(fields()), any::<bool>())
                .prop_map(|(field, descending)| SortKey { field, descending });
            prop::collection::vec(key, 0..3)
        }

        fn data() -> impl Strategy<Value = Map<String, Value>> {
            let value = || prop::option::of(prop::sample::select(data_values()));
            let nested = prop_oneof![
                Just(None),
                value(),
                value().prop_map(|x| Some(Value::Object(x.into_iter().map(|x| ("x".to_owned(), x)).collect()))),
            ];
            (value(), value(), nested).prop_map(|(a, b, n)| {
                let mut data = Map::new();
                for (key, value) in [("a", a), ("b", b), ("n", n)] {
                    if let Some(value) = value {
                        data.insert(key.to_owned(), value);
                    }
                }
                data
            })
        }

        #[derive(Debug, Clone)]
        enum After {
            None,
            Object(usize),
            Values(Vec<Option<Value>>),
        }

        fn after() -> impl Strategy<Value = After> {
            prop_oneof![
                2 => Just(After::None),
                2 => any::<usize>().prop_map(After::Object),
                1 => prop::collection::vec(prop::option::of(prop::sample::select(values())), 0..4).prop_map(After::Values),
            ]
        }

        #[derive(Debug, Clone)]
        struct Case {
            objects: Vec<(Map<String, Value>, i64)>,
            filters: Vec<Filter>,
            sort: Vec<SortKey>,
            after: After,
            limit: Option<usize>,
        }

        fn cases() -> impl Strategy<Value = Case> {
            (prop::collection::vec((data(), 0i64..4), 0..16), filters(), sorts(), after(), prop::option::of(0usize..8))
                .prop_map(|(objects, filters, sort, after, limit)| Case { objects, filters, sort, after, limit })
        }

        #[test]
        fn apply_and_count_agree_with_the_sql_compiler() {
            let dir = tempfile::tempdir().expect("test setup");
            let backend = SqliteBackend::open(&SqliteOptions {
                path: dir.path().join("evaluate.sqlite"),
                durability: Durability::Normal,
                readers: 1,
            })
            .expect("test setup");
            let lists = std::cell::Cell::new(0usize);
            let mut runner = TestRunner::new(Config { cases: 1000, failure_persistence: None, ..Config::default() });
            runner
                .run(&cases(), |case| {
                    lists.set(lists.get() + 1);
                    let parent = format!("/list{}", lists.get());
                    let to_store = case.objects.clone();
                    let writer_parent = parent.clone();
                    let stored = write(&backend, move |tx| {
                        to_store
                            .into_iter()
                            .enumerate()
                            .map(|(index, (data, stamp))| {
                                let id = format!("r{}", (index * 7) % 16);
                                tx.put(&writer_parent, "record", &id, data, Stamp::Requested(stamp))
                                    .expect("test setup")
                                    .data
                            })
                            .collect()
                    });
                    let mut query = ListQuery {
                        filters: case.filters.clone(),
                        sort: case.sort.clone(),
                        limit: case.limit,
                        ..ListQuery::default()
                    };
                    query.after = match &case.after {
                        After::None => None,
                        After::Object(_) if stored.is_empty() => None,
                        After::Object(index) => Some(query.position_of(&stored[index % stored.len()])),
                        After::Values(values) => Some(values.clone()),
                    };
                    // The SQL binds a container position as serde_json writes it (raw UTF-8), not
                    // as it is stored (escaped): with non-ASCII inside, the SQL keyset is off.
                    let stored_differently = |value: &Option<Value>| {
                        matches!(value, Some(v @ (Value::Array(_) | Value::Object(_)))
                            if crate::json::to_string(v) != serde_json::to_string(v).expect("test setup"))
                    };
                    prop_assume!(!query.after.iter().flatten().any(stored_differently));
                    // The SQL's fast path for the default order reads a non-integer timestamp
                    // position as i64::MAX.
                    let fast_path_quirk = query.effective_sort() == ListQuery::default().effective_sort()
                        && matches!(query.after.as_deref(), Some([Some(Value::Number(ts)), Some(Value::String(_)), ..])
                            if ts.as_i64().is_none());
                    prop_assume!(!fast_path_quirk);
                    let sql_query = query.clone();
                    let (listed, counted) = read(&backend, move |tx| {
                        let listed = tx.list(&parent, "record", &sql_query).expect("SQL list");
                        let counted = tx.count(&parent, "record", &sql_query).expect("SQL count");
                        (listed, counted)
                    });
                    let listed: Vec<String> = listed.into_iter().map(|object| object.id).collect();
                    let applied = apply(&query, stored.clone());
                    prop_assert_eq!(ids(&applied), listed, "query {:?}", query);
                    prop_assert_eq!(count(&query, &stored) as u64, counted);
                    Ok(())
                })
                .expect("SQL and in-memory evaluation agree");
        }

        #[test]
        fn non_ascii_in_containers_sorts_as_stored() {
            let dir = tempfile::tempdir().expect("test setup");
            let backend = SqliteBackend::open(&SqliteOptions {
                path: dir.path().join("evaluate.sqlite"),
                durability: Durability::Normal,
                readers: 1,
            })
            .expect("test setup");
            let stored = write(&backend, |tx| {
                [("x", json!(["z"])), ("y", json!(["\u{e9}"])), ("w", json!(["a"]))]
                    .into_iter()
                    .map(|(id, tags)| {
                        tx.put("/p", "record", id, object(json!({"t": tags})), Stamp::Now).expect("test setup").data
                    })
                    .collect()
            });
            let query = sorted_by("t", false);
            let sql_query = query.clone();
            let listed = read(&backend, move |tx| tx.list("/p", "record", &sql_query).expect("test setup"));
            let listed: Vec<String> = listed.into_iter().map(|object| object.id).collect();
            assert_eq!(ids(&apply(&query, stored)), listed);
            assert_eq!(listed, ["y", "w", "x"]);
        }
    }
}
