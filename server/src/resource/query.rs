//! The query string of list requests: filters (REC-FILTER-*), `_sort` (REC-SORT), `_limit`
//! and `_token` (REC-PAGE-*), `_fields` (REC-FIELDS), polling bounds `_since`/`_before`/`_to`
//! (SYNC-*), and `?last_modified=` on a single DELETE (TS-DELETE-QS). Unknown `_` parameters
//! are ignored.

use serde_json::{Map, Value};

use crate::error::{ApiError, Location};
use crate::pyfmt::{py_repr, truthy};
use crate::resource::params::PageToken;
use crate::storage::sqlite::now_ms;
use crate::storage::{Field, Filter, Operator, SortKey};

/// Operator prefixes, tried in Kinto's order (`contains_any` before `contains`).
const OPERATORS: &[(&str, Operator)] = &[
    ("lt", Operator::Lt),
    ("min", Operator::Min),
    ("max", Operator::Max),
    ("not", Operator::Not),
    ("eq", Operator::Eq),
    ("gt", Operator::Gt),
    ("in", Operator::In),
    ("exclude", Operator::Exclude),
    ("like", Operator::Like),
    ("has", Operator::Has),
    ("contains_any", Operator::ContainsAny),
    ("contains", Operator::Contains),
];

/// Timestamps may be at most this far in the future.
const FUTURE_SLACK_MS: i64 = 24 * 3600 * 1000;

/// The parameters of a list request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    pub filters: Vec<Filter>,
    pub sort: Vec<SortKey>,
    /// `_fields`: the fields to keep (plus `id`, `last_modified`, `deleted`).
    pub fields: Option<Vec<Field>>,
    pub limit: Option<usize>,
    pub token: Option<PageToken>,
    /// `_to` was used (deprecated alias of `_before`): an Alert header is due.
    pub used_to: bool,
    /// `?last_modified=` on a single DELETE.
    pub delete_last_modified: Option<i64>,
}

impl ListParams {
    /// The page size: `_limit`, capped by `paginate_by` (also the default) and the fetch size.
    pub fn page_size(&self, settings: &crate::settings::Settings) -> usize {
        let requested = self.limit.or(settings.paginate_by).unwrap_or(usize::MAX);
        let capped = match settings.paginate_by {
            Some(max) => requested.min(max),
            None => requested,
        };
        capped.min(settings.storage_max_fetch_size).max(1)
    }

    /// Whether a filter targets `last_modified` (tombstones are then included).
    pub fn filters_on_timestamps(&self) -> bool {
        self.filters.iter().any(|f| f.field == Field::LastModified)
    }
}

fn error(name: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid(Location::Querystring, Some(name), description)
}

fn invalid_value(name: &str) -> ApiError {
    error(name, format!("Invalid value for {name}"))
}

/// A raw value as JSON when it parses, else as a string (REC-FILTER-VALUE).
fn parse_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// A timestamp: an integer or a quoted integer, not negative, not more than a day ahead.
/// `Ok(None)` for `null` when `nullable`.
fn parse_timestamp(name: &str, raw: &str, not_a_number: bool) -> Result<Option<i64>, ApiError> {
    let trimmed = raw.trim();
    if trimmed == "null" {
        return Ok(None);
    }
    let digits = trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(trimmed);
    match digits.parse::<i64>() {
        Ok(value) if value < 0 && not_a_number => Err(error(name, format!("{value} is less than minimum value 0"))),
        Ok(value) if value < 0 || value > now_ms() + FUTURE_SLACK_MS => Err(invalid_value(name)),
        Ok(value) => Ok(Some(value)),
        Err(_) if not_a_number && !digits.is_empty() => Err(error(name, format!("\"{digits}\" is not a number"))),
        Err(_) => Err(invalid_value(name)),
    }
}

fn parse_limit(raw: &str) -> Result<Option<usize>, ApiError> {
    // As Kinto: a decimal limit counts by its integer part.
    let trimmed = raw.trim();
    let integral = match trimmed.parse::<f64>() {
        Ok(value) if trimmed.contains('.') && value.is_finite() => format!("{}", value.trunc() as i64),
        _ => trimmed.to_owned(),
    };
    match integral.parse::<i64>() {
        Ok(value) if value < 0 => Err(error("_limit", format!("{value} is less than minimum value 0"))),
        Ok(0) => Ok(None),
        Ok(value) => Ok(Some(usize::try_from(value).unwrap_or(usize::MAX))),
        Err(_) => Err(error("_limit", format!("\"{raw}\" is not a number"))),
    }
}

fn is_field_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// `[op_]field` → operator and field name (REC-FILTER-SYNTAX).
fn split_operator(name: &str) -> (Operator, &str) {
    for (prefix, operator) in OPERATORS {
        if let Some(field) = name.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('_')) {
            if is_field_name(field) {
                return (*operator, field);
            }
        }
    }
    (Operator::Eq, name)
}

/// One filter parameter.
fn parse_filter(name: &str, raw: &str) -> Result<Filter, ApiError> {
    let (operator, field_name) = split_operator(name);
    let field = Field::parse(field_name);
    let values = match operator {
        Operator::In | Operator::Exclude => {
            raw.split(',').filter(|item| !item.is_empty()).map(parse_value).collect::<Vec<_>>()
        }
        Operator::Contains | Operator::ContainsAny => match parse_value(raw) {
            Value::Array(items) => items,
            other => vec![other],
        },
        Operator::Has => vec![Value::Bool(truthy(&parse_value(raw)))],
        Operator::Like => match parse_value(raw) {
            Value::String(pattern) => vec![Value::String(pattern)],
            _ => return Err(invalid_value(name)),
        },
        _ => vec![parse_value(raw)],
    };
    match (&field, operator) {
        (Field::Id, Operator::Contains | Operator::ContainsAny) => {
            return Err(error(name, "Field 'id' is not an array"));
        }
        (Field::Id, Operator::Eq) => {
            if let Some(value) = values.first().filter(|v| !v.is_string()) {
                return Err(error(name, format!("{} is not a string: {{'id': ''}}", py_repr(value))));
            }
        }
        (Field::Id, Operator::In | Operator::Exclude) if !values.iter().all(Value::is_string) => {
            return Err(invalid_value(name));
        }
        (Field::LastModified, Operator::In | Operator::Exclude | Operator::Contains | Operator::ContainsAny) => {
            return Err(invalid_value(name));
        }
        (Field::LastModified, Operator::Has | Operator::Like) => {}
        (Field::LastModified, _) => {
            let timestamp = parse_timestamp(name, raw, operator == Operator::Eq)?.ok_or_else(|| invalid_value(name))?;
            return Ok(Filter { field, operator, values: vec![Value::from(timestamp)] });
        }
        _ => {}
    }
    Ok(Filter { field, operator, values })
}

/// `_fields=a,b.c`.
fn parse_fields(raw: &str) -> Vec<Field> {
    raw.split(',').map(str::trim).filter(|f| !f.is_empty()).map(Field::parse).collect()
}

/// `_sort=a,-b,+c`: invalid items are dropped.
fn parse_sort(raw: &str) -> Vec<SortKey> {
    raw.split(',')
        .map(str::trim)
        .filter_map(|item| {
            let (descending, name) = match item.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, item.strip_prefix('+').unwrap_or(item)),
            };
            is_field_name(name).then(|| SortKey { field: Field::parse(name), descending })
        })
        .collect()
}

impl ListParams {
    /// Reads the parameters of an object request: only `_fields`, and `last_modified` on
    /// DELETE (no range check: a client may date a deletion far ahead).
    pub fn parse_for_object(query: &[(String, String)]) -> Result<ListParams, ApiError> {
        let mut params = ListParams::default();
        for (name, value) in query {
            match name.as_str() {
                "_fields" => params.fields = Some(parse_fields(value)),
                "last_modified" => {
                    let digits = value.trim().trim_matches('"');
                    params.delete_last_modified = digits.parse::<i64>().ok().filter(|ts| *ts >= 0);
                }
                _ => {}
            }
        }
        Ok(params)
    }

    /// Reads the query pairs of a list request.
    pub fn parse(query: &[(String, String)]) -> Result<ListParams, ApiError> {
        Self::parse_closed(query, None)
    }

    /// Reads a list request on objects with a closed set of root fields (REC-FILTER-STRICT):
    /// filters, sorts and `_fields` on other fields are refused.
    pub fn parse_closed(query: &[(String, String)], closed: Option<&[&str]>) -> Result<ListParams, ApiError> {
        let params = Self::parse_open(query)?;
        let Some(fields) = closed else { return Ok(params) };
        let known = |field: &Field| fields.contains(&field.name().split('.').next().unwrap_or_default());
        for (name, _) in query.iter().filter(|(n, _)| !n.starts_with('_')) {
            let (_, field_name) = split_operator(name);
            if !known(&Field::parse(field_name)) {
                let root = field_name.split('.').next().unwrap_or_default();
                return Err(error(name, format!("Unknown filter field '{root}'")));
            }
        }
        if let Some(key) = params.sort.iter().find(|k| !known(&k.field)) {
            return Err(ApiError::invalid(
                Location::Querystring,
                None,
                format!("Unknown sort field '{}'", key.field.name()),
            ));
        }
        if let Some(selected) = &params.fields {
            let unknown: Vec<String> = selected.iter().filter(|f| !known(f)).map(Field::name).collect();
            if !unknown.is_empty() {
                return Err(ApiError::invalid(
                    Location::Body,
                    Some("Invalid _fields parameter"),
                    format!("Fields {} do not exist", unknown.join(",")),
                ));
            }
        }
        // Ids of history entries are strings even when they look like numbers.
        let mut params = params;
        for filter in &mut params.filters {
            if matches!(&filter.field, Field::Data(path) if path.len() == 1 && path[0].ends_with("_id")) {
                for value in &mut filter.values {
                    if let Value::Number(n) = value {
                        *value = Value::String(n.to_string());
                    }
                }
            }
        }
        Ok(params)
    }

    fn parse_open(query: &[(String, String)]) -> Result<ListParams, ApiError> {
        let mut params = ListParams::default();
        for (name, value) in query {
            if name.contains('\0') || value.contains('\0') {
                return Err(error(name, "Invalid character 0x00"));
            }
            match name.as_str() {
                "_since" | "_before" | "_to" => {
                    if let Some(timestamp) = parse_timestamp(name, value, true)? {
                        let operator = if name == "_since" { Operator::Gt } else { Operator::Lt };
                        params.filters.push(Filter {
                            field: Field::LastModified,
                            operator,
                            values: vec![Value::from(timestamp)],
                        });
                    }
                    params.used_to |= name == "_to";
                }
                "_limit" => params.limit = parse_limit(value)?,
                "_token" => params.token = if value.is_empty() { None } else { Some(PageToken::decode(value)?) },
                "_sort" => params.sort = parse_sort(value),
                "_fields" => params.fields = Some(parse_fields(value)),
                _ if name.starts_with('_') => {}
                _ => params.filters.push(parse_filter(name, value)?),
            }
        }
        Ok(params)
    }
}

/// Keeps only the `_fields` of an object, plus `id`, `last_modified` and `deleted`.
pub fn project(object: &Map<String, Value>, fields: &[Field]) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ["id", "last_modified", "deleted"] {
        if let Some(value) = object.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    for field in fields {
        if let Field::Data(path) = field {
            copy_path(object, &mut out, path);
        }
    }
    out
}

/// Copies `path` from `source` into `target`, keeping the objects met on the way even when
/// the leaf is missing (as Kinto does: `author.name` on `{"author": {}}` gives `{"author": {}}`).
fn copy_path(source: &Map<String, Value>, target: &mut Map<String, Value>, path: &[String]) {
    let Some((key, rest)) = path.split_first() else { return };
    let Some(value) = source.get(key) else { return };
    if rest.is_empty() {
        target.insert(key.clone(), value.clone());
        return;
    }
    // A value that is not an object is kept whole (Kinto keeps `author` for `author.name`).
    let Value::Object(inner_source) = value else {
        target.insert(key.clone(), value.clone());
        return;
    };
    let entry = target.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(inner_target) = entry {
        copy_path(inner_source, inner_target, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn message(query: &[(&str, &str)]) -> String {
        let err = ListParams::parse(&pairs(query)).expect_err("rejected");
        err.body("")["message"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn operators_split_like_kinto() {
        assert_eq!(split_operator("contains_any_tags"), (Operator::ContainsAny, "tags"));
        assert_eq!(split_operator("contains_tags"), (Operator::Contains, "tags"));
        assert_eq!(split_operator("in_stock"), (Operator::In, "stock"));
        assert_eq!(split_operator("author.name"), (Operator::Eq, "author.name"));
        assert_eq!(split_operator("gt_a-b"), (Operator::Eq, "gt_a-b"));
    }

    #[test]
    fn values_parse_as_json_when_possible() -> Result<(), ApiError> {
        let params = ListParams::parse(&pairs(&[("n", "3"), ("s", "Ben"), ("in_x", "1,\"3\","), ("has_y", "0")]))?;
        assert_eq!(params.filters[0].values, vec![json!(3)]);
        assert_eq!(params.filters[1].values, vec![json!("Ben")]);
        assert_eq!(params.filters[2].values, vec![json!(1), json!("3")]);
        assert_eq!(params.filters[3].values, vec![json!(false)]);
        Ok(())
    }

    #[test]
    fn reserved_fields_are_checked() {
        assert_eq!(message(&[("id", "10")]), "10 is not a string: {'id': ''}");
        assert_eq!(message(&[("in_id", "a,10")]), "Invalid value for in_id");
        assert_eq!(message(&[("last_modified", "abc")]), "last_modified in querystring: \"abc\" is not a number");
        assert_eq!(message(&[("gt_last_modified", "-1")]), "Invalid value for gt_last_modified");
        assert_eq!(message(&[("in_last_modified", "1,2")]), "Invalid value for in_last_modified");
        assert_eq!(message(&[("contains_id", "a")]), "contains_id in querystring: Field 'id' is not an array");
        assert_eq!(message(&[("a", "\0")]), "Invalid character 0x00");
        assert_eq!(message(&[("like_n", "1")]), "Invalid value for like_n");
        assert_eq!(message(&[("_since", "abc")]), "_since in querystring: \"abc\" is not a number");
        assert_eq!(message(&[("_since", "-5")]), "_since in querystring: -5 is less than minimum value 0");
        assert_eq!(message(&[("_limit", "-1")]), "_limit in querystring: -1 is less than minimum value 0");
    }

    #[test]
    fn polling_parameters_become_timestamp_filters() -> Result<(), ApiError> {
        let params = ListParams::parse(&pairs(&[("_since", "\"12\""), ("_to", "20"), ("_expected", "x")]))?;
        assert!(params.filters_on_timestamps() && params.used_to);
        assert_eq!(params.filters.len(), 2);
        assert!(ListParams::parse(&pairs(&[("_since", "null")]))?.filters.is_empty());
        Ok(())
    }

    #[test]
    fn sort_drops_invalid_items() {
        let keys = parse_sort("a,-b.c,+d,@@,");
        let names: Vec<(String, bool)> = keys.iter().map(|k| (k.field.name(), k.descending)).collect();
        assert_eq!(names, vec![("a".into(), false), ("b.c".into(), true), ("d".into(), false)]);
    }

    #[test]
    fn projection_keeps_nested_fields_and_reserved_ones() {
        let object = json!({"id": "r", "last_modified": 1, "a": {"b": 1, "c": 2}, "d": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let projected = project(&object, &[Field::parse("a.b"), Field::parse("missing")]);
        assert_eq!(Value::Object(projected), json!({"id": "r", "last_modified": 1, "a": {"b": 1}}));
    }
}
