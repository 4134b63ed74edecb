//! Record versions as the replicator compares them: a record's own fields (without `id`,
//! `last_modified`), or `null` for a deleted record. Two versions have the same content when
//! they differ at most in `schema`, the timestamp a server stamps records with when its
//! collection has a JSON schema (each side stamps its own), and in `attachment.location`: each
//! server keeps its own copy of an attached file (the same `hash`) at its own location.

use serde_json::{Map, Value};

use crate::storage::StoredObject;

/// The version of a local object or tombstone.
pub fn of_local(object: &StoredObject) -> Value {
    if object.deleted { Value::Null } else { Value::Object(fields(&object.data)) }
}

/// The version of a remote object as Kinto lists it (`deleted: true` for a tombstone).
pub fn of_remote(object: &Map<String, Value>) -> Value {
    if object.get("deleted").and_then(Value::as_bool) == Some(true) {
        Value::Null
    } else {
        Value::Object(fields(object))
    }
}

/// A record's own fields.
pub fn fields(object: &Map<String, Value>) -> Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "id" | "last_modified"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether two versions hold the same content (`schema` stamps aside).
pub fn same_content(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let relevant = |map: &Map<String, Value>| -> Map<String, Value> {
                map.iter()
                    .filter(|(key, value)| !(key.as_str() == "schema" && value.is_number()))
                    .map(|(key, value)| match (key.as_str(), value) {
                        ("attachment", Value::Object(field)) => (key.clone(), Value::Object(without_location(field))),
                        _ => (key.clone(), value.clone()),
                    })
                    .collect()
            };
            relevant(a) == relevant(b)
        }
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// An `attachment` field without its server-specific `location`.
fn without_location(field: &Map<String, Value>) -> Map<String, Value> {
    field.iter().filter(|(key, _)| key.as_str() != "location").map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A version's `attachment` field (`None` when it has none, or it is `null`).
pub fn attachment(version: &Value) -> Option<&Map<String, Value>> {
    version.get("attachment")?.as_object()
}

/// Whether two attachment fields describe the same file with the same metadata.
pub fn same_attachment(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    without_location(a) == without_location(b)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn remote_tombstones_are_null_and_metadata_is_dropped() {
        assert_eq!(of_remote(&map(json!({"id": "a", "last_modified": 3, "deleted": true}))), Value::Null);
        assert_eq!(of_remote(&map(json!({"id": "a", "last_modified": 3, "x": 1}))), json!({"x": 1}));
    }

    #[test]
    fn schema_stamps_do_not_make_a_difference_but_fields_do() {
        assert!(same_content(&json!({"x": 1, "schema": 5}), &json!({"x": 1})));
        assert!(same_content(&json!({"x": 1, "schema": 5}), &json!({"x": 1, "schema": 9})));
        assert!(!same_content(&json!({"x": 1, "schema": "mine"}), &json!({"x": 1})));
        assert!(!same_content(&json!({"x": 1}), &json!({"x": 2})));
        assert!(!same_content(&json!({"x": 1}), &Value::Null));
        assert!(same_content(&Value::Null, &Value::Null));
    }

    #[test]
    fn attachments_compare_by_file_and_metadata_not_location() {
        let here = json!({"t": 1, "attachment": {"filename": "a.png", "hash": "ab", "size": 2, "mimetype": "image/png",
                                              "location": "ab/ab.png"}});
        let there = json!({"t": 1, "attachment": {"filename": "a.png", "hash": "ab", "size": 2, "mimetype": "image/png",
                                               "location": "https://192.168.1.9:8443/attachments/ab/ab.png"}});
        assert!(same_content(&here, &there));
        let renamed = json!({"t": 1, "attachment": {"filename": "b.png", "hash": "ab", "size": 2,
                                                 "mimetype": "image/png", "location": "ab/ab.png"}});
        assert!(!same_content(&here, &renamed));
        let other_file = json!({"t": 1, "attachment": {"filename": "a.png", "hash": "cd", "size": 2,
                                                    "mimetype": "image/png", "location": "ab/ab.png"}});
        assert!(!same_content(&here, &other_file));
        assert!(!same_content(&here, &json!({"t": 1, "attachment": null})));
        let (Some(a), Some(b)) = (attachment(&here), attachment(&there)) else { panic!("attachments") };
        assert!(same_attachment(a, b));
        assert_eq!(attachment(&json!({"attachment": null})), None);
    }
}
