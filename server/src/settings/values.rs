//! Conversions of loosely typed setting values (TOML values, or ini/env strings parsed as JSON
//! when possible) into the types the settings need.

use serde_json::Value;

pub fn as_string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, got {other}")),
    }
}

pub fn as_opt_string(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        other => as_string(other).map(Some),
    }
}

pub fn as_bool(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" | "" => Ok(false),
            _ => Err(format!("{s:?} is not a boolean")),
        },
        Value::Number(n) => Ok(n.as_i64() != Some(0)),
        other => Err(format!("expected a boolean, got {other}")),
    }
}

pub fn as_i64(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("{n} is not an integer")),
        Value::String(s) => s.trim().parse().map_err(|_| format!("{s:?} is not an integer")),
        other => Err(format!("expected an integer, got {other}")),
    }
}

pub fn as_usize(value: &Value) -> Result<usize, String> {
    let n = as_i64(value)?;
    usize::try_from(n).map_err(|_| format!("{n} is negative"))
}

pub fn as_opt_usize(value: &Value) -> Result<Option<usize>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() || s.trim() == "null" => Ok(None),
        other => as_usize(other).map(Some),
    }
}

/// A list: a JSON/TOML array of strings, or a whitespace-separated string (Kinto's format).
pub fn as_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s.split_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => items.iter().map(as_string).collect(),
        other => Err(format!("expected a list, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_accept_arrays_and_whitespace_strings() {
        assert_eq!(as_list(&json!("a  b\nc")), Ok(vec!["a".to_owned(), "b".into(), "c".into()]));
        assert_eq!(as_list(&json!(["a", "b"])), Ok(vec!["a".to_owned(), "b".into()]));
    }

    #[test]
    fn booleans_accept_ini_spellings() {
        assert_eq!(as_bool(&json!("True")), Ok(true));
        assert_eq!(as_bool(&json!("off")), Ok(false));
        assert!(as_bool(&json!("maybe")).is_err());
    }
}
