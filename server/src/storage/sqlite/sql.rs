//! Compiles a [`ListQuery`] into SQL over the `objects` table.
//!
//! JSON values are compared as `(rank, value)` pairs, where the rank orders the JSON types as
//! PostgreSQL's jsonb does (null < string < number < boolean < array < object) and a missing
//! field ranks last; `value` is what `json_extract` yields. Filters, sorts and keyset pagination
//! all use this one comparison, so a page boundary is exactly where the sort put it.

use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::storage::{AccessFilter, Field, Filter, ListQuery, Operator, SortKey};

/// Rank of a missing field.
const MISSING: i64 = 6;

/// The SQL rank of a JSON type name as `json_type` reports it.
fn rank_case(type_expr: &str) -> String {
    format!(
        "CASE {type_expr} WHEN 'null' THEN 0 WHEN 'text' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 \
         WHEN 'false' THEN 3 WHEN 'true' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE {MISSING} END"
    )
}

/// The rank of a literal JSON value.
fn rank_of(value: Option<&Value>) -> i64 {
    match value {
        None => MISSING,
        Some(Value::Null) => 0,
        Some(Value::String(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::Bool(_)) => 3,
        Some(Value::Array(_)) => 4,
        Some(Value::Object(_)) => 5,
    }
}

/// The SQL value of a literal, comparable with `json_extract`'s result.
fn sql_of(value: Option<&Value>) -> SqlValue {
    match value {
        None | Some(Value::Null) => SqlValue::Null,
        Some(Value::String(s)) => SqlValue::Text(s.clone()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => n.as_f64().map(SqlValue::Real).unwrap_or(SqlValue::Null),
        },
        Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        // Arrays and objects compare as their stored text, which `crate::json` wrote.
        Some(other) => SqlValue::Text(crate::json::to_string(other)),
    }
}

/// A JSON path literal for SQLite: `$."a"."b"` (keys quoted, so dots and spaces are fine).
fn json_path(path: &[String]) -> String {
    let mut out = String::from("$");
    for key in path {
        out.push_str(".\"");
        out.push_str(&key.replace('\\', "\\\\").replace('"', "\\\""));
        out.push('"');
    }
    out
}

/// SQL text plus its positional parameters.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<SqlValue>,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn arg(&mut self, value: SqlValue) {
        self.text.push('?');
        self.args.push(value);
    }
}

/// A JSON path as an SQL string literal. Paths are inlined (not bound) so that queries match
/// the expression indexes built on them (see `indexes`).
fn path_literal(path: &[String]) -> String {
    format!("'{}'", json_path(path).replace('\'', "''"))
}

/// The rank expression of a data field.
pub fn rank_expr(path: &[String]) -> String {
    rank_case(&format!("json_type(data, {})", path_literal(path)))
}

/// The value expression of a data field.
pub fn value_expr(path: &[String]) -> String {
    format!("json_extract(data, {})", path_literal(path))
}

/// How a field reads in SQL: its rank and value expressions.
struct Operand {
    rank: String,
    value: String,
    /// The JSON path of a data field.
    path: Option<String>,
}

fn operand(field: &Field) -> Operand {
    match field {
        Field::Id => Operand { rank: "1".into(), value: "id".into(), path: None },
        Field::LastModified => Operand { rank: "2".into(), value: "last_modified".into(), path: None },
        Field::Data(path) => Operand { rank: rank_expr(path), value: value_expr(path), path: Some(json_path(path)) },
    }
}

impl Operand {
    fn push_rank(&self, sql: &mut Sql) {
        sql.push(&self.rank);
    }

    fn push_value(&self, sql: &mut Sql) {
        sql.push(&self.value);
    }
}

/// `(rank, value) <op> (literal rank, literal value)` for =, <, >.
fn compare(sql: &mut Sql, field: &Operand, op: &str, value: Option<&Value>) {
    let rank = rank_of(value);
    // Columns (`id`, `last_modified`) have one rank: the comparison is either decided by the
    // ranks alone or a plain column comparison that an index can serve.
    if let Ok(column_rank) = field.rank.parse::<i64>() {
        let holds = match op {
            "=" => column_rank == rank,
            ">" | ">=" => column_rank > rank,
            _ => column_rank < rank,
        };
        if column_rank != rank || rank == 0 || rank == MISSING {
            sql.push(if holds && column_rank != rank { "1" } else { "0" });
            return;
        }
        sql.push("(");
        field.push_value(sql);
        sql.push(&format!(" {op} "));
        sql.arg(sql_of(value));
        sql.push(")");
        return;
    }
    sql.push("(");
    match op {
        "=" => {
            field.push_rank(sql);
            sql.push(&format!(" = {rank}"));
            if rank != 0 && rank != MISSING {
                sql.push(" AND ");
                field.push_value(sql);
                sql.push(" = ");
                sql.arg(sql_of(value));
            }
        }
        _ if rank == 0 || rank == MISSING => {
            // null and "missing" have a single value: only the rank matters.
            field.push_rank(sql);
            sql.push(&format!(" {op} {rank}"));
        }
        _ => {
            // Types compare strictly by rank; values only within the same rank.
            let rank_op = op.trim_end_matches('=');
            field.push_rank(sql);
            sql.push(&format!(" {rank_op} {rank}"));
            {
                sql.push(" OR (");
                field.push_rank(sql);
                sql.push(&format!(" = {rank} AND "));
                field.push_value(sql);
                sql.push(&format!(" {op} "));
                sql.arg(sql_of(value));
                sql.push(")");
            }
        }
    }
    sql.push(")");
}

/// `EXISTS` an element of the array field equal to `value`.
fn element_exists(sql: &mut Sql, path: &str, value: &Value) {
    let rank = rank_of(Some(value));
    sql.push("EXISTS (SELECT 1 FROM json_each(objects.data, ");
    sql.arg(SqlValue::Text(path.to_owned()));
    sql.push(&format!(") AS e WHERE {} = {rank}", rank_case("e.type")));
    if rank != 0 {
        sql.push(" AND e.value = ");
        sql.arg(sql_of(Some(value)));
    }
    sql.push(")");
}

/// The LIKE pattern of a `like_` value: `*` is the only wildcard; no `*` means "contains".
fn like_pattern(pattern: &str) -> String {
    let escaped = pattern.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    if pattern.contains('*') { escaped.replace('*', "%") } else { format!("%{escaped}%") }
}

fn push_filter(sql: &mut Sql, filter: &Filter) {
    let field = operand(&filter.field);
    let first = filter.values.first();
    match filter.operator {
        Operator::Eq => compare(sql, &field, "=", first),
        Operator::Not => {
            sql.push("NOT ");
            compare(sql, &field, "=", first);
        }
        Operator::Gt => compare(sql, &field, ">", first),
        Operator::Lt => compare(sql, &field, "<", first),
        Operator::Min => compare(sql, &field, ">=", first),
        Operator::Max => compare(sql, &field, "<=", first),
        Operator::In | Operator::Exclude => {
            if filter.operator == Operator::Exclude {
                sql.push("NOT ");
            }
            // No `0 OR` prefix: the planner then uses one index lookup per value.
            if filter.values.is_empty() {
                sql.push("(0)");
                return;
            }
            sql.push("(");
            for (index, value) in filter.values.iter().enumerate() {
                if index > 0 {
                    sql.push(" OR ");
                }
                compare(sql, &field, "=", Some(value));
            }
            sql.push(")");
        }
        Operator::Like => {
            let pattern = first.and_then(Value::as_str).unwrap_or_default();
            sql.push("(");
            field.push_rank(sql);
            sql.push(" IN (1, 2) AND CAST(");
            field.push_value(sql);
            sql.push(" AS TEXT) LIKE ");
            sql.arg(SqlValue::Text(like_pattern(pattern)));
            sql.push(" ESCAPE '\\')");
        }
        Operator::Has => {
            let present = first.and_then(Value::as_bool).unwrap_or(true);
            sql.push("(");
            field.push_rank(sql);
            sql.push(if present { " <> 6)" } else { " = 6)" });
        }
        Operator::Contains | Operator::ContainsAny => {
            let Some(path) = field.path.as_deref() else {
                sql.push("0");
                return;
            };
            let joiner = if filter.operator == Operator::Contains { " AND " } else { " OR " };
            sql.push("(json_type(data, ");
            sql.arg(SqlValue::Text(path.to_owned()));
            sql.push(") = 'array' AND (");
            if filter.values.is_empty() {
                sql.push(if filter.operator == Operator::Contains { "1" } else { "0" });
            }
            for (index, value) in filter.values.iter().enumerate() {
                if index > 0 {
                    sql.push(joiner);
                }
                element_exists(sql, path, value);
            }
            sql.push("))");
        }
    }
}

fn prefix_upper_bound(prefix: &str) -> String {
    // Prefixes end with '/', the byte before '0'.
    match prefix.strip_suffix('/') {
        Some(stem) => format!("{stem}0"),
        None => format!("{prefix}\u{10FFFF}"),
    }
}

/// `SELECT <id> FROM aces ...`: ids of the objects directly under the prefix granting access.
pub fn access_subquery(sql: &mut Sql, access: &AccessFilter) {
    sql.push("SELECT substr(object_id, ");
    sql.arg(SqlValue::Integer(access.uri_prefix.chars().count() as i64 + 1));
    sql.push(") AS id FROM aces WHERE object_id >= ");
    sql.arg(SqlValue::Text(access.uri_prefix.clone()));
    sql.push(" AND object_id < ");
    sql.arg(SqlValue::Text(prefix_upper_bound(&access.uri_prefix)));
    sql.push(" AND permission IN (NULL");
    for permission in &access.permissions {
        sql.push(", ");
        sql.arg(SqlValue::Text(permission.to_string()));
    }
    sql.push(") AND principal IN (NULL");
    for principal in &access.principals {
        sql.push(", ");
        sql.arg(SqlValue::Text(principal.clone()));
    }
    sql.push(")");
}

/// The WHERE conditions of a listing (without the keyset position).
pub fn conditions(sql: &mut Sql, parent: &str, resource: &str, query: &ListQuery, live_only: bool) {
    sql.push("parent_id = ");
    sql.arg(SqlValue::Text(parent.to_owned()));
    sql.push(" AND resource_name = ");
    sql.arg(SqlValue::Text(resource.to_owned()));
    if live_only || !query.include_deleted {
        sql.push(" AND deleted = 0");
    }
    for filter in &query.filters {
        sql.push(" AND ");
        push_filter(sql, filter);
    }
    if let Some(access) = &query.access {
        sql.push(" AND id IN (");
        access_subquery(sql, access);
        sql.push(")");
    }
}

/// Objects strictly after `after` in the order of `keys`: OR over k of (keys before k equal,
/// key k beyond).
fn push_keyset(sql: &mut Sql, keys: &[SortKey], after: &[Option<Value>]) {
    // The default order has an index: compare the row value directly.
    if keys.len() == 2
        && keys[0] == (SortKey { field: Field::LastModified, descending: true })
        && keys[1] == (SortKey { field: Field::Id, descending: true })
    {
        let timestamp = after.first().and_then(|v| v.as_ref()).and_then(Value::as_i64);
        if let (Some(ts), Some(Some(Value::String(id)))) = (timestamp, after.get(1)) {
            sql.push(" AND (last_modified, id) < (");
            sql.arg(SqlValue::Integer(ts));
            sql.push(", ");
            sql.arg(SqlValue::Text(id.clone()));
            sql.push(")");
            return;
        }
    }
    sql.push(" AND (0");
    for k in 0..keys.len().min(after.len()) {
        sql.push(" OR (1");
        for j in 0..k {
            sql.push(" AND ");
            compare(sql, &operand(&keys[j].field), "=", after[j].as_ref());
        }
        sql.push(" AND ");
        let op = if keys[k].descending { "<" } else { ">" };
        compare(sql, &operand(&keys[k].field), op, after[k].as_ref());
        sql.push(")");
    }
    sql.push(")");
}

/// `ORDER BY` for the effective sort.
fn push_order(sql: &mut Sql, keys: &[SortKey]) {
    sql.push(" ORDER BY ");
    for (index, key) in keys.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        let direction = if key.descending { " DESC" } else { " ASC" };
        match &key.field {
            Field::Id => sql.push(&format!("id{direction}")),
            Field::LastModified => sql.push(&format!("last_modified{direction}")),
            field @ Field::Data(_) => {
                let operand = operand(field);
                operand.push_rank(sql);
                sql.push(direction);
                sql.push(", ");
                operand.push_value(sql);
                sql.push(direction);
            }
        }
    }
}

/// The whole SELECT of a listing.
pub fn select(parent: &str, resource: &str, query: &ListQuery) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT id, last_modified, deleted, data FROM objects WHERE ");
    conditions(&mut sql, parent, resource, query, false);
    let keys = query.effective_sort();
    if let Some(after) = &query.after {
        push_keyset(&mut sql, &keys, after);
    }
    push_order(&mut sql, &keys);
    if let Some(limit) = query.limit {
        sql.push(" LIMIT ");
        sql.arg(SqlValue::Integer(limit.min(i64::MAX as usize) as i64));
    }
    sql
}

/// The COUNT of live objects a listing matches (no sort, position or limit).
pub fn count(parent: &str, resource: &str, query: &ListQuery) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) FROM objects WHERE ");
    conditions(&mut sql, parent, resource, query, true);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_only_use_stars() {
        assert_eq!(like_pattern("ab"), "%ab%");
        assert_eq!(like_pattern("a*b"), "a%b");
        assert_eq!(like_pattern("50%_"), "%50\\%\\_%");
    }

    #[test]
    fn json_paths_quote_keys() {
        assert_eq!(json_path(&["a".into(), "b c".into()]), "$.\"a\".\"b c\"");
        assert_eq!(json_path(&["q\"".into()]), "$.\"q\\\"\"");
    }

    #[test]
    fn default_keyset_uses_the_row_value() {
        let query =
            ListQuery { after: Some(vec![Some(Value::from(5)), Some(Value::from("r"))]), ..ListQuery::default() };
        let sql = select("p", "record", &query);
        assert!(sql.text.contains("(last_modified, id) < (?, ?)"), "{}", sql.text);
    }
}
