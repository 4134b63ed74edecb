//! Checks on the user data of each kind (OBJ-RESERVED, OBJ-KINDS): group members, collection
//! `cache_expires`, and the reserved fields the server owns.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::resource::body::{py_repr, py_str};
use crate::resource::kind::Kind;
use crate::resource::schema;

/// Validates and normalises `data` for an object of `kind` (e.g. groups get `members: []`).
pub fn data(kind: Kind, data: &mut Map<String, Value>) -> Result<(), ApiError> {
    match kind {
        Kind::Group => members(data),
        Kind::Collection => {
            cache_expires(data)?;
            match data.get("schema") {
                Some(value) => schema::check_schema("data.schema", value),
                None => Ok(()),
            }
        }
        Kind::Account => password(data),
        Kind::Bucket => {
            for key in ["record:schema", "collection:schema", "group:schema"] {
                if let Some(value) = data.get(key) {
                    schema::check_schema(&format!("data.{key}"), value)?;
                }
            }
            Ok(())
        }
        Kind::Record | Kind::History => Ok(()),
    }
}

fn password(data: &Map<String, Value>) -> Result<(), ApiError> {
    match data.get("password") {
        Some(Value::String(_)) => Ok(()),
        None | Some(Value::Null) => Err(ApiError::invalid_body("data.password", "Required")),
        Some(other) => Err(ApiError::invalid_body(
            "data.password",
            format!("{} is not a string: {{'password': ''}}", py_repr(other)),
        )),
    }
}

fn members(data: &mut Map<String, Value>) -> Result<(), ApiError> {
    let Some(members) = data.get_mut("members") else { return Ok(()) };
    let Value::Array(items) = members else {
        return Err(ApiError::invalid_body("data.members", format!("\"{}\" is not iterable", py_str(members))));
    };
    for (index, item) in items.iter().enumerate() {
        let name = format!("data.members.{index}");
        match item {
            Value::String(s) if s == "system.Everyone" || s.starts_with("/buckets/") => {
                return Err(ApiError::invalid_body(&name, format!("'{s}' is not a valid user ID.")));
            }
            Value::String(_) => {}
            other => {
                return Err(ApiError::invalid_body(&name, format!("{} is not a string: {{'': ''}}", py_repr(other))));
            }
        }
    }
    Ok(())
}

fn cache_expires(data: &mut Map<String, Value>) -> Result<(), ApiError> {
    match data.get("cache_expires") {
        None => Ok(()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        // Kinto stores an integer: 1.5 becomes 1.
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f.is_finite() && f.abs() < 9.0e15) => {
            let truncated = n.as_f64().unwrap_or_default().trunc() as i64;
            data.insert("cache_expires".into(), Value::from(truncated));
            Ok(())
        }
        Some(other) => {
            Err(ApiError::invalid_body("data.cache_expires", format!("\"{}\" is not a number", py_str(other))))
        }
    }
}

/// A group written with `data` gets `members: []` when it names none (a body without `data`
/// leaves it out, as Kinto does).
pub fn default_members(kind: Kind, data: &mut Map<String, Value>) {
    if kind == Kind::Group {
        data.entry("members").or_insert_with(|| Value::Array(Vec::new()));
    }
}

/// The group members as strings (after [`data`] validated them).
pub fn member_list(data: &Map<String, Value>) -> Vec<String> {
    data.get("members")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(kind: Kind, value: Value) -> Result<Map<String, Value>, String> {
        let mut map = value.as_object().cloned().unwrap_or_default();
        data(kind, &mut map).map(|_| map).map_err(|e| e.body("")["message"].as_str().unwrap_or("").to_owned())
    }

    #[test]
    fn groups_get_members_and_reject_everyone() {
        assert_eq!(check(Kind::Group, json!({})).map(|m| m.get("members").cloned()), Ok(None));
        assert_eq!(
            check(Kind::Group, json!({"members": ["system.Everyone"]})),
            Err("data.members.0 in body: 'system.Everyone' is not a valid user ID.".to_owned())
        );
        assert_eq!(
            check(Kind::Group, json!({"members": "x"})),
            Err("data.members in body: \"x\" is not iterable".into())
        );
        assert!(check(Kind::Group, json!({"members": ["system.Authenticated"]})).is_ok());
    }

    #[test]
    fn cache_expires_must_be_an_integer() {
        assert_eq!(
            check(Kind::Collection, json!({"cache_expires": "abc"})),
            Err("data.cache_expires in body: \"abc\" is not a number".into())
        );
        assert!(check(Kind::Collection, json!({"cache_expires": 10})).is_ok());
    }
}
