//! Request bodies: JSON parsing with Kinto's error messages (GEN-BODY-SHAPE) and the
//! `{data, permissions}` envelope (OBJ-ENVELOPE, PERM-BODY, OBJ-KINDS).

use serde_json::{Map, Value};

use crate::error::{ApiError, Detail};
use crate::resource::kind::Kind;
use crate::storage::Acl;

/// A request body as received: parsed JSON, or the error to report once authorization passed.
#[derive(Debug, Clone)]
pub enum BodyInput {
    Json(Value),
    Invalid(ApiError),
}

impl BodyInput {
    /// Parses raw bytes; an empty body is `{}`.
    pub fn parse(bytes: &[u8]) -> BodyInput {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return BodyInput::Json(Value::Object(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value @ (Value::Object(_) | Value::Array(_))) => BodyInput::Json(value),
            Ok(_) => BodyInput::Invalid(ApiError::Invalid(vec![
                Detail::body("", "Should be a JSON object or an array"),
                Detail::body("", "Required"),
            ])),
            Err(err) => BodyInput::Invalid(ApiError::Invalid(vec![
                Detail::body("", format!("Invalid JSON: {err}")),
                Detail::body("", "Required"),
            ])),
        }
    }

    /// The parsed JSON, or its error.
    pub fn value(&self) -> Result<&Value, ApiError> {
        match self {
            BodyInput::Json(value) => Ok(value),
            BodyInput::Invalid(err) => Err(err.clone()),
        }
    }

    /// `data.id` if the body is an object whose `data.id` is a string (read before validation,
    /// to decide which permission a POST needs).
    pub fn data_id(&self) -> Option<&str> {
        match self {
            BodyInput::Json(value) => value.get("data")?.get("id")?.as_str(),
            BodyInput::Invalid(_) => None,
        }
    }
}

/// Permission name → principals as given in a body; `None` for a JSON null ("not given").
pub type PermissionEntries = Vec<(String, Option<Vec<String>>)>;

/// A validated `{data, permissions}` body.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Envelope {
    pub data: Option<Map<String, Value>>,
    /// Permission name → principals; `None` values (JSON null) are "not given".
    pub permissions: Option<PermissionEntries>,
}

impl Envelope {
    /// The ACEs given in the body (null ones skipped), as an ACL.
    pub fn acl(&self) -> Option<Acl> {
        self.permissions.as_ref().map(|entries| {
            let mut acl = Acl::new();
            for (name, principals) in entries {
                if let Some(principals) = principals {
                    acl.insert(name.clone(), principals.iter().cloned().collect());
                }
            }
            acl
        })
    }
}

pub use crate::pyfmt::{py_repr, py_str};

fn not_a_mapping(name: &str, value: &Value) -> ApiError {
    ApiError::invalid_body(
        name,
        format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(value)),
    )
}

/// Validates the envelope of an object body for `kind`.
pub fn envelope(value: &Value, kind: Kind) -> Result<Envelope, ApiError> {
    let Value::Object(map) = value else {
        return Err(not_a_mapping("", value));
    };
    let unknown: Map<String, Value> =
        map.iter().filter(|(k, _)| *k != "data" && *k != "permissions").map(|(k, v)| (k.clone(), v.clone())).collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid_body(
            "",
            format!("Unrecognized keys in mapping: \"{}\"", py_repr(&Value::Object(unknown))),
        ));
    }
    let data = match map.get("data") {
        None => None,
        Some(Value::Object(data)) => Some(data.clone()),
        Some(other) => return Err(not_a_mapping("data", other)),
    };
    let permissions = match map.get("permissions") {
        None => None,
        Some(value) => Some(permissions(value, kind)?),
    };
    Ok(Envelope { data, permissions })
}

/// Validates a `permissions` member: known names, lists of strings (null = not given).
pub fn permissions(value: &Value, kind: Kind) -> Result<PermissionEntries, ApiError> {
    let Value::Object(map) = value else {
        return Err(not_a_mapping("permissions", value));
    };
    let allowed = kind.permissions();
    let mut entries = Vec::with_capacity(map.len());
    for (name, principals) in map {
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::invalid_body(
                "permissions",
                format!("\"{name}\" is not one of {}", allowed.join(", ")),
            ));
        }
        let list = match principals {
            Value::Null => None,
            Value::Array(items) => {
                let mut list = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => list.push(s.clone()),
                        other => {
                            return Err(ApiError::invalid_body(
                                &format!("permissions.{name}.{index}"),
                                format!("{} is not a string: {{'': ''}}", py_repr(other)),
                            ));
                        }
                    }
                }
                Some(list)
            }
            other => {
                return Err(ApiError::invalid_body(
                    &format!("permissions.{name}"),
                    format!("\"{}\" is not iterable", py_str(other)),
                ));
            }
        };
        entries.push((name.clone(), list));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(err: ApiError) -> String {
        err.body("")["message"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn messages_match_kinto() {
        assert_eq!(
            message(envelope(&json!([1, 2]), Kind::Bucket).expect_err("error")),
            "\"[1, 2]\" is not a mapping type: Does not implement dict-like functionality."
        );
        assert_eq!(
            message(envelope(&json!({"data": 1}), Kind::Bucket).expect_err("error")),
            "data in body: \"1\" is not a mapping type: Does not implement dict-like functionality."
        );
        assert_eq!(
            message(envelope(&json!({"data": {}, "foo": 1}), Kind::Bucket).expect_err("error")),
            "Unrecognized keys in mapping: \"{'foo': 1}\""
        );
        assert_eq!(
            message(envelope(&json!({"permissions": {"admin": []}}), Kind::Bucket).expect_err("error")),
            "permissions in body: \"admin\" is not one of read, write, collection:create, group:create"
        );
        assert_eq!(
            message(envelope(&json!({"permissions": {"read": "x"}}), Kind::Record).expect_err("error")),
            "permissions.read in body: \"x\" is not iterable"
        );
        assert_eq!(
            message(envelope(&json!({"permissions": {"read": [1]}}), Kind::Record).expect_err("error")),
            "permissions.read.0 in body: 1 is not a string: {'': ''}"
        );
    }

    #[test]
    fn empty_and_scalar_bodies() {
        assert!(matches!(BodyInput::parse(b""), BodyInput::Json(Value::Object(_))));
        let BodyInput::Invalid(err) = BodyInput::parse(b"\"str\"") else { panic!("expected an error") };
        assert_eq!(message(err), "Should be a JSON object or an array");
        let BodyInput::Invalid(err) = BodyInput::parse(b"{bad") else { panic!("expected an error") };
        assert!(message(err).starts_with("Invalid JSON: "));
    }
}
