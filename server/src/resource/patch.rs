//! The three PATCH formats (PATCH-*): Kinto's plain JSON merge, RFC 7396 merge-patch and
//! RFC 6902 JSON-Patch (via the `json-patch` crate) on a virtual document
//! `{"data": ..., "permissions": {perm: {principal: principal}}}`, plus the
//! `Response-Behavior` header (full, light, diff).

use serde_json::{Map, Value};

use crate::error::{ApiError, Detail, Location};
use crate::resource::body::{self, Envelope, py_repr, py_str};
use crate::resource::kind::Kind;
use crate::storage::Acl;

/// How a PATCH body is to be read, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchFormat {
    /// `application/json`: top-level merge of `data`, ACEs replaced per key.
    #[default]
    Merge,
    /// `application/merge-patch+json`: recursive merge, `null` removes.
    MergePatch,
    /// `application/json-patch+json`: a list of operations.
    JsonPatch,
}

impl PatchFormat {
    pub fn from_content_type(content_type: Option<&str>) -> PatchFormat {
        let media = content_type.map(|c| c.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("application/merge-patch+json") => PatchFormat::MergePatch,
            Some("application/json-patch+json") => PatchFormat::JsonPatch,
            _ => PatchFormat::Merge,
        }
    }
}

/// What a PATCH response shows (PATCH-RESPONSE-BEHAVIOR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    #[default]
    Full,
    Light,
    Diff,
}

impl Behavior {
    /// Reads the `Response-Behavior` header.
    pub fn parse(header: Option<&str>) -> Result<Behavior, ApiError> {
        match header.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
            None | Some("full") => Ok(Behavior::Full),
            Some("light") => Ok(Behavior::Light),
            Some("diff") => Ok(Behavior::Diff),
            Some(_) => Err(ApiError::invalid(
                Location::Header,
                Some("Response-Behavior"),
                format!("\"{}\" is not one of full, light, diff", header.unwrap_or_default()),
            )),
        }
    }
}

/// A validated PATCH body.
#[derive(Debug, Clone)]
pub enum PatchBody {
    Merge(Envelope),
    MergePatch(Envelope),
    JsonPatch(Vec<Value>),
}

const OPS: &[&str] = &["test", "add", "remove", "replace", "move", "copy"];

fn validate_operation(index: usize, op: &Value) -> Result<(), ApiError> {
    let name = index.to_string();
    let Value::Object(map) = op else {
        return Err(ApiError::invalid_body(
            &name,
            format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(op)),
        ));
    };
    let extra: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "op" | "path" | "from" | "value"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !extra.is_empty() {
        return Err(ApiError::invalid_body(
            &name,
            format!("Unrecognized keys in mapping: \"{}\"", py_repr(&Value::Object(extra))),
        ));
    }
    match map.get("op") {
        Some(Value::String(o)) if OPS.contains(&o.as_str()) => {}
        Some(other) => {
            return Err(ApiError::invalid_body(
                &format!("{index}.op"),
                format!("\"{}\" is not one of {}", py_str(other), OPS.join(", ")),
            ));
        }
        None => return Err(ApiError::invalid_body(&format!("{index}.op"), "Required")),
    }
    for key in ["path", "from"] {
        match map.get(key) {
            Some(Value::String(p)) if p.starts_with('/') => {}
            None if key == "from" => {}
            None => return Err(ApiError::invalid_body(&format!("{index}.{key}"), "Required")),
            Some(_) => {
                return Err(ApiError::invalid_body(
                    &format!("{index}.{key}"),
                    "String does not match expected pattern",
                ));
            }
        }
    }
    Ok(())
}

/// Validates a PATCH body for its format (CC-ORDER step 4).
pub fn parse(format: PatchFormat, value: &Value, kind: Kind) -> Result<PatchBody, ApiError> {
    match format {
        PatchFormat::Merge => Ok(PatchBody::Merge(body::envelope(value, kind)?)),
        PatchFormat::MergePatch => Ok(PatchBody::MergePatch(body::envelope(value, kind)?)),
        PatchFormat::JsonPatch => {
            let Value::Array(ops) = value else {
                return Err(ApiError::invalid_body("", format!("\"{}\" is not iterable", py_str(value))));
            };
            for (index, op) in ops.iter().enumerate() {
                validate_operation(index, op)?;
            }
            Ok(PatchBody::JsonPatch(ops.clone()))
        }
    }
}

fn provide_something(envelope: &Envelope) -> Result<(), ApiError> {
    if envelope.data.is_none() && envelope.permissions.is_none() {
        return Err(ApiError::Invalid(vec![Detail::body("data", "Provide at least one of data or permissions")]));
    }
    Ok(())
}

fn patch_failed(reason: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(Location::Body, None, format!("JSON Patch operation failed: {reason}"))
}

/// RFC 6901 unescaping of one pointer segment.
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The outcome of applying a PATCH: the new user data, the new ACL, and the fields the
/// request asked to change (for light/diff responses).
pub struct Patched {
    pub data: Map<String, Value>,
    pub acl: Acl,
    pub requested: Map<String, Value>,
}

/// Applies `body` to an object's `data` and `acl` (CC-ORDER step 7).
pub fn apply(body: &PatchBody, kind: Kind, data: &Map<String, Value>, acl: &Acl) -> Result<Patched, ApiError> {
    match body {
        PatchBody::Merge(envelope) => {
            provide_something(envelope)?;
            let mut new = data.clone();
            let requested = envelope.data.clone().unwrap_or_default();
            for (key, value) in &requested {
                new.insert(key.clone(), value.clone());
            }
            let mut new_acl = acl.clone();
            for (name, principals) in envelope.permissions.iter().flatten() {
                if let Some(principals) = principals {
                    new_acl.insert(name.clone(), principals.iter().cloned().collect());
                }
            }
            Ok(Patched { data: new, acl: new_acl, requested })
        }
        PatchBody::MergePatch(envelope) => {
            provide_something(envelope)?;
            let mut document = Value::Object(data.clone());
            let requested = envelope.data.clone().unwrap_or_default();
            json_patch::merge(&mut document, &Value::Object(requested.clone()));
            let new = match document {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            let mut new_acl = acl.clone();
            for (name, principals) in envelope.permissions.iter().flatten() {
                match principals {
                    Some(principals) => new_acl.insert(name.clone(), principals.iter().cloned().collect()),
                    None => new_acl.remove(name),
                };
            }
            Ok(Patched { data: new, acl: new_acl, requested })
        }
        PatchBody::JsonPatch(ops) => apply_json_patch(ops, kind, data, acl),
    }
}

fn apply_json_patch(ops: &[Value], kind: Kind, data: &Map<String, Value>, acl: &Acl) -> Result<Patched, ApiError> {
    let allowed = kind.permissions();
    let mut permissions = Map::new();
    for name in allowed {
        let principals = acl.get(*name).map(|set| set.iter().map(|p| (p.clone(), Value::String(p.clone()))).collect());
        permissions.insert((*name).to_owned(), Value::Object(principals.unwrap_or_default()));
    }
    let mut document = serde_json::json!({"data": Value::Object(data.clone()), "permissions": permissions});
    // Permission operations may omit the value: it is the principal itself.
    let mut filled = Vec::with_capacity(ops.len());
    for op in ops {
        let mut op = op.clone();
        if let Some(map) = op.as_object_mut() {
            let path = map.get("path").and_then(Value::as_str).unwrap_or_default().to_owned();
            let is_write = matches!(map.get("op").and_then(Value::as_str), Some("add" | "replace" | "test"));
            let segments: Vec<&str> = path.split('/').collect();
            if is_write && !map.contains_key("value") {
                if let ["", "permissions", permission, principal] = segments.as_slice() {
                    if allowed.contains(permission) {
                        map.insert("value".into(), Value::String(unescape(principal)));
                    }
                }
            }
        }
        filled.push(op);
    }
    for op in &filled {
        let needs_value = matches!(op.get("op").and_then(Value::as_str), Some("add" | "replace" | "test"));
        if needs_value && op.get("value").is_none() {
            return Err(patch_failed("The operation does not contain a 'value' member"));
        }
    }
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(filled.clone())).map_err(patch_failed)?;
    let before = document.clone();
    json_patch::patch(&mut document, &patch).map_err(|err| explain(&err, &filled, &before))?;
    let Value::Object(mut document) = document else {
        return Err(patch_failed("the document is no longer an object"));
    };
    let new = match document.remove("data") {
        Some(Value::Object(map)) => map,
        _ => return Err(patch_failed("data is no longer an object")),
    };
    let mut new_acl = Acl::new();
    match document.remove("permissions") {
        Some(Value::Object(map)) => {
            for (name, principals) in map {
                if !allowed.contains(&name.as_str()) {
                    return Err(ApiError::invalid_body(
                        "permissions",
                        format!("\"{name}\" is not one of {}", allowed.join(", ")),
                    ));
                }
                let Value::Object(principals) = principals else {
                    return Err(patch_failed(format!("permissions/{name} is no longer an object")));
                };
                new_acl.insert(name, principals.keys().cloned().collect());
            }
        }
        _ => return Err(patch_failed("permissions is no longer an object")),
    }
    // What changed, and the timestamp that will change with it.
    let mut requested = Map::new();
    for (key, value) in &new {
        if data.get(key) != Some(value) {
            requested.insert(key.clone(), value.clone());
        }
    }
    requested.insert("last_modified".into(), Value::Null);
    Ok(Patched { data: new, acl: new_acl, requested })
}

/// Python's type name of a JSON value, as jsonpatch's messages show it.
fn py_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_i64() || n.is_u64() => "<class 'int'>",
        Value::Number(_) => "<class 'float'>",
        Value::String(_) => "<class 'str'>",
        Value::Array(_) => "<class 'list'>",
        Value::Object(_) => "<class 'dict'>",
    }
}

/// A JSON-Patch failure worded as Kinto's (python-jsonpatch) messages.
fn explain(err: &json_patch::PatchError, ops: &[Value], document: &Value) -> ApiError {
    let op = ops.get(err.operation);
    let name = op.and_then(|o| o.get("op")).and_then(Value::as_str).unwrap_or_default();
    let path = op.and_then(|o| o.get("path")).and_then(Value::as_str).unwrap_or_default();
    let last = unescape(path.rsplit('/').next().unwrap_or_default());
    match (name, &err.kind) {
        ("remove" | "replace", json_patch::PatchErrorKind::InvalidPointer) => {
            patch_failed(format!("can't {name} a non-existent object '{last}'"))
        }
        ("test", json_patch::PatchErrorKind::TestFailed) => {
            let expected = op.and_then(|o| o.get("value")).cloned().unwrap_or(Value::Null);
            match document.pointer(path) {
                Some(actual) => patch_failed(format!(
                    "{} ({}) is not equal to tested value {} ({})",
                    py_repr(actual),
                    py_type(actual),
                    py_repr(&expected),
                    py_type(&expected)
                )),
                None => patch_failed(format!("can't replace a non-existent object '{last}'")),
            }
        }
        _ => patch_failed(&err.kind),
    }
}

/// The `data` of a light/diff response, from the stored object after the write.
pub fn partial_data(
    behavior: Behavior,
    requested: &Map<String, Value>,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Map<String, Value> {
    requested
        .iter()
        .filter_map(|(key, sent)| {
            let stored = after.get(key)?;
            let keep = match behavior {
                Behavior::Full => true,
                // JSON-Patch requests list what changed, including the new timestamp.
                Behavior::Light => before.get(key) != Some(stored) || key == "last_modified",
                Behavior::Diff => sent != stored,
            };
            keep.then(|| (key.clone(), stored.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn merge_patch_merges_recursively_and_removes_nulls() -> Result<(), ApiError> {
        let body = parse(PatchFormat::MergePatch, &json!({"data": {"a": {"d": "e"}, "c": null}}), Kind::Record)?;
        let patched = apply(&body, Kind::Record, &map(json!({"a": {"b": "c"}, "c": 1})), &Acl::new())?;
        assert_eq!(Value::Object(patched.data), json!({"a": {"b": "c", "d": "e"}}));
        Ok(())
    }

    #[test]
    fn json_patch_fills_permission_values() -> Result<(), ApiError> {
        let ops = json!([
            {"op": "add", "path": "/permissions/read/system.Everyone"},
            {"op": "add", "path": "/permissions/read/~1buckets~1b~1groups~1g"},
            {"op": "add", "path": "/data/z", "value": 3}
        ]);
        let body = parse(PatchFormat::JsonPatch, &ops, Kind::Record)?;
        let patched = apply(&body, Kind::Record, &map(json!({"a": 1})), &Acl::new())?;
        assert_eq!(Value::Object(patched.data), json!({"a": 1, "z": 3}));
        let read: Vec<&String> = patched.acl.get("read").map(|s| s.iter().collect()).unwrap_or_default();
        assert_eq!(read, vec!["/buckets/b/groups/g", "system.Everyone"]);
        Ok(())
    }

    #[test]
    fn json_patch_errors() {
        let message = |ops: Value| {
            let result = parse(PatchFormat::JsonPatch, &ops, Kind::Record)
                .and_then(|body| apply(&body, Kind::Record, &Map::new(), &Acl::new()));
            result.err().map(|e| e.body("")["message"].as_str().unwrap_or_default().to_owned()).unwrap_or_default()
        };
        assert_eq!(message(json!({"data": {}})), "\"{'data': {}}\" is not iterable");
        assert_eq!(
            message(json!([{"op": "bogus", "path": "/data/z"}])),
            "0.op in body: \"bogus\" is not one of test, add, remove, replace, move, copy"
        );
        assert_eq!(
            message(json!([{"op": "add", "path": "nope", "value": 1}])),
            "0.path in body: String does not match expected pattern"
        );
        assert!(
            message(json!([{"op": "remove", "path": "/data/zz"}])).starts_with("body: JSON Patch operation failed: ")
        );
    }

    #[test]
    fn response_behavior_values() {
        assert_eq!(Behavior::parse(None).ok(), Some(Behavior::Full));
        assert_eq!(Behavior::parse(Some("light")).ok(), Some(Behavior::Light));
        let err = Behavior::parse(Some("bogus")).expect_err("rejected");
        assert_eq!(err.body("")["message"], "Response-Behavior in header: \"bogus\" is not one of full, light, diff");
    }

    #[test]
    fn light_and_diff_outputs() {
        let before = map(json!({"a": 1, "c": "keep"}));
        let after = map(json!({"a": 2, "q": 7, "c": "keep"}));
        let requested = map(json!({"a": 2, "q": 7, "c": "keep"}));
        assert_eq!(Value::Object(partial_data(Behavior::Light, &requested, &before, &after)), json!({"a": 2, "q": 7}));
        assert_eq!(Value::Object(partial_data(Behavior::Diff, &requested, &before, &after)), json!({}));
    }
}
