//! Preconditions (CC-HEADER-FORMAT: `If-Match`, `If-None-Match`) and pagination tokens
//! (REC-PAGE-TOKEN) in Kinto's format.

use base64::Engine;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Location};

/// An `If-Match` / `If-None-Match` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Any,
    Timestamp(i64),
}

/// The preconditions of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preconditions {
    pub if_match: Option<Tag>,
    pub if_none_match: Option<Tag>,
}

fn parse_tag(headers: &HeaderMap, name: &'static str) -> Result<Option<Tag>, ApiError> {
    let Some(value) = headers.get(name) else { return Ok(None) };
    let name = if name == "if-match" { "If-Match" } else { "If-None-Match" };
    let invalid =
        || ApiError::invalid(Location::Header, Some(name), "The value should be integer between double quotes.");
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text.is_empty() {
        // An empty header counts as absent (as in Kinto).
        return Ok(None);
    }
    if text == "*" {
        return Ok(Some(Tag::Any));
    }
    let digits = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).ok_or_else(invalid)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    digits.parse().map(|n| Some(Tag::Timestamp(n))).map_err(|_| invalid())
}

impl Preconditions {
    pub fn parse(headers: &HeaderMap) -> Result<Preconditions, ApiError> {
        Ok(Preconditions {
            if_match: parse_tag(headers, "if-match")?,
            if_none_match: parse_tag(headers, "if-none-match")?,
        })
    }
}

/// Where a listing resumes (`_token`): the sort-field values of the last object returned.
#[derive(Debug, Clone, PartialEq)]
pub struct PageToken {
    pub last_object: Map<String, Value>,
    pub offset: u64,
    /// `pagination-token-<uuid4>`; plural DELETE tokens are single-use by nonce.
    pub nonce: String,
}

/// Where a token keeps the array and object values of the last object's sort fields.
const STRUCTURED_KEY: &str = "structured_last_object";

fn invalid_token() -> ApiError {
    ApiError::invalid(Location::Querystring, None, "_token has invalid content")
}

/// Whether a token value is acceptable: a scalar without NUL characters.
fn token_value_ok(name: &str, value: &Value) -> bool {
    match value {
        Value::Number(n) if name == "last_modified" => n.as_i64().is_some_and(|ts| ts >= 0),
        _ if name == "last_modified" => false,
        Value::Object(_) | Value::Array(_) => false,
        Value::String(s) => !s.contains('\0'),
        _ => true,
    }
}

impl PageToken {
    /// Decodes Kinto's token format: base64 of `{"last_object", "offset", "nonce"}`.
    pub fn decode(raw: &str) -> Result<PageToken, ApiError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw.trim()).map_err(|_| invalid_token())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid_token())?;
        let last_object = value.get("last_object").and_then(Value::as_object).ok_or_else(invalid_token)?;
        let offset = match value.get("offset") {
            Some(Value::Number(n)) => n.as_u64().ok_or_else(invalid_token)?,
            _ => return Err(invalid_token()),
        };
        if !last_object.iter().all(|(name, value)| token_value_ok(name, value)) {
            return Err(invalid_token());
        }
        let nonce = value.get("nonce").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut last_object = last_object.clone();
        // Array and object sort values travel apart, so `last_object` stays as Kinto checks it.
        if let Some(Value::Object(structured)) = value.get(STRUCTURED_KEY) {
            for (name, value) in structured {
                if !matches!(value, Value::Array(_) | Value::Object(_)) || last_object.contains_key(name) {
                    return Err(invalid_token());
                }
                last_object.insert(name.clone(), value.clone());
            }
        }
        Ok(PageToken { last_object, offset, nonce })
    }

    /// The keyset position this token resumes after, for these sort keys (`None` = missing).
    pub fn position(&self, keys: &[crate::storage::SortKey]) -> Vec<Option<Value>> {
        keys.iter().map(|key| self.last_object.get(&key.field.name()).cloned()).collect()
    }

    /// A new token with a fresh nonce.
    pub fn new(last_object: Map<String, Value>, offset: u64) -> PageToken {
        PageToken { last_object, offset, nonce: format!("pagination-token-{}", uuid::Uuid::new_v4()) }
    }

    /// Encodes a token in Kinto's format.
    pub fn encode(&self) -> String {
        let (structured, scalars): (Map<String, Value>, Map<String, Value>) = self
            .last_object
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .partition(|(_, v)| matches!(v, Value::Array(_) | Value::Object(_)));
        let mut token = json!({
            "last_object": Value::Object(scalars),
            "offset": self.offset,
            "nonce": self.nonce,
        });
        if !structured.is_empty() {
            token[STRUCTURED_KEY] = Value::Object(structured);
        }
        base64::engine::general_purpose::STANDARD.encode(crate::json::to_vec(&token))
    }
}

/// The absolute `Next-Page` URL: the endpoint with every query parameter kept but `_limit`
/// and `_token`, which are set for the next page (REC-PAGE-NEXT).
pub fn next_page_url(url: &str, query: &[(String, String)], limit: usize, token: &PageToken) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    let (limit, token) = (limit.to_string(), token.encode());
    // Parameters keep their order, as in Kinto; `_limit` and `_token` are added if absent.
    for (name, value) in query {
        match name.as_str() {
            "_limit" => pairs.append_pair(name, &limit),
            "_token" => pairs.append_pair(name, &token),
            _ => pairs.append_pair(name, value),
        };
    }
    if !query.iter().any(|(name, _)| name == "_limit") {
        pairs.append_pair("_limit", &limit);
    }
    if !query.iter().any(|(name, _)| name == "_token") {
        pairs.append_pair("_token", &token);
    }
    format!("{url}?{}", pairs.finish())
}

/// The position of `object` for keyset pagination: the values of the sort fields it has.
pub fn last_object(keys: &[crate::storage::SortKey], object: &Map<String, Value>) -> Map<String, Value> {
    keys.iter().filter_map(|key| key.field.get(object).map(|value| (key.field.name(), value.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, value.parse().expect("header value"));
        map
    }

    #[test]
    fn preconditions_accept_quoted_integers_and_star() -> Result<(), ApiError> {
        assert_eq!(Preconditions::parse(&headers("if-match", "\"123\""))?.if_match, Some(Tag::Timestamp(123)));
        assert_eq!(Preconditions::parse(&headers("if-none-match", "*"))?.if_none_match, Some(Tag::Any));
        for bad in ["123", "W/\"123\"", "\"*\"", "\"1\", \"2\"", "\"\"", "abc"] {
            let err = Preconditions::parse(&headers("if-match", bad)).expect_err("rejected");
            assert_eq!(
                err.body("")["message"],
                "If-Match in header: The value should be integer between double quotes."
            );
        }
        Ok(())
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() -> Result<(), ApiError> {
        let mut last_object = Map::new();
        last_object.insert("last_modified".into(), json!(42));
        last_object.insert("id".into(), json!("r1"));
        last_object.insert("tags".into(), json!(["x", {"y": 1}]));
        let token = PageToken::new(last_object, 3);
        assert_eq!(PageToken::decode(&token.encode())?, token);
        let err = PageToken::decode("garbage").expect_err("rejected");
        assert_eq!(err.body("")["message"], "querystring: _token has invalid content");
        let forged = base64::engine::general_purpose::STANDARD
            .encode(r#"{"last_object": {"last_modified": "x"}, "offset": 0, "nonce": "n"}"#);
        assert!(PageToken::decode(&forged).is_err());
        let negative = base64::engine::general_purpose::STANDARD.encode(r#"{"last_object": {}, "offset": -1}"#);
        assert!(PageToken::decode(&negative).is_err());
        Ok(())
    }
}
