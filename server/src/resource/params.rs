//! Query-string and header parameters of resource requests: preconditions (CC-HEADER-FORMAT),
//! polling bounds (SYNC-SINCE, SYNC-BEFORE, SYNC-TO), `_limit` and `_token` (REC-PAGE-*),
//! `exclude_id`, and `?last_modified=` on DELETE (TS-DELETE-QS).

use base64::Engine;
use http::HeaderMap;
use serde_json::{Value, json};

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

/// Where a listing resumes (`_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    pub last_modified: i64,
    pub id: Option<String>,
    pub offset: u64,
}

/// Parameters of list requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    pub since: Option<i64>,
    pub before: Option<i64>,
    /// `_to` was used (deprecated alias of `_before`): an Alert header is due.
    pub used_to: bool,
    pub limit: Option<usize>,
    pub token: Option<PageToken>,
    pub exclude_ids: Vec<String>,
    /// `?last_modified=` on a single DELETE.
    pub delete_last_modified: Option<i64>,
}

impl ListParams {
    /// Whether the request filters on `last_modified` (tombstones are then included).
    pub fn filters_on_timestamps(&self) -> bool {
        self.since.is_some() || self.before.is_some()
    }
}

fn querystring_error(name: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid(Location::Querystring, Some(name), description)
}

/// A timestamp parameter: `1234` or `"1234"`; `null` means absent.
fn parse_timestamp(name: &str, raw: &str) -> Result<Option<i64>, ApiError> {
    let trimmed = raw.trim();
    if trimmed == "null" {
        return Ok(None);
    }
    let digits = trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(trimmed);
    match digits.parse::<i64>() {
        Ok(value) if value >= 0 => Ok(Some(value)),
        Ok(_) => Err(querystring_error(name, format!("Invalid value for {name}"))),
        Err(_) => Err(querystring_error(name, format!("\"{raw}\" is not a number"))),
    }
}

fn parse_limit(raw: &str) -> Result<Option<usize>, ApiError> {
    match raw.trim().parse::<i64>() {
        Ok(value) if value < 0 => Err(querystring_error("_limit", format!("{value} is less than minimum value 0"))),
        Ok(0) => Ok(None),
        Ok(value) => Ok(Some(usize::try_from(value).unwrap_or(usize::MAX))),
        Err(_) => Err(querystring_error("_limit", format!("\"{raw}\" is not a number"))),
    }
}

fn invalid_token() -> ApiError {
    ApiError::invalid(Location::Querystring, None, "_token has invalid content")
}

fn parse_token(raw: &str) -> Result<PageToken, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw.trim()).map_err(|_| invalid_token())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid_token())?;
    let last_object = value.get("last_object").and_then(Value::as_object).ok_or_else(invalid_token)?;
    let offset = value.get("offset").and_then(Value::as_u64).ok_or_else(invalid_token)?;
    let last_modified = last_object.get("last_modified").and_then(Value::as_i64).ok_or_else(invalid_token)?;
    let id = match last_object.get("id") {
        None => None,
        Some(Value::String(id)) if !id.contains('\0') => Some(id.clone()),
        Some(_) => return Err(invalid_token()),
    };
    Ok(PageToken { last_modified, id, offset })
}

/// Encodes a token in Kinto's format.
pub fn encode_token(last_modified: i64, id: &str, offset: u64) -> String {
    let token = json!({
        "last_object": {"last_modified": last_modified, "id": id},
        "offset": offset,
        "nonce": format!("pagination-token-{}", uuid::Uuid::new_v4()),
    });
    base64::engine::general_purpose::STANDARD.encode(crate::json::to_vec(&token))
}

impl ListParams {
    /// Reads the parameters this version understands; other `_` parameters are ignored.
    pub fn parse(query: &[(String, String)]) -> Result<ListParams, ApiError> {
        let mut params = ListParams::default();
        for (name, value) in query {
            if name.contains('\0') || value.contains('\0') {
                return Err(querystring_error(name, "Invalid character 0x00"));
            }
            match name.as_str() {
                "_since" => params.since = parse_timestamp(name, value)?,
                "_before" => params.before = parse_timestamp(name, value)?,
                "_to" => {
                    params.before = parse_timestamp(name, value)?;
                    params.used_to = true;
                }
                "_limit" => params.limit = parse_limit(value)?,
                "_token" => params.token = if value.is_empty() { None } else { Some(parse_token(value)?) },
                "exclude_id" => {
                    params.exclude_ids =
                        value.split(',').filter(|s| !s.is_empty()).map(|s| s.trim_matches('"').to_owned()).collect()
                }
                "last_modified" => params.delete_last_modified = parse_timestamp(name, value)?,
                _ => {}
            }
        }
        Ok(params)
    }
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
        for bad in ["123", "W/\"123\"", "\"*\"", "\"1\", \"2\"", "\"\""] {
            let err = Preconditions::parse(&headers("if-match", bad)).expect_err("rejected");
            assert_eq!(
                err.body("")["message"],
                "If-Match in header: The value should be integer between double quotes."
            );
        }
        Ok(())
    }

    #[test]
    fn since_accepts_quotes_and_null() -> Result<(), ApiError> {
        let query = |v: &str| vec![("_since".to_owned(), v.to_owned())];
        assert_eq!(ListParams::parse(&query("\"12\""))?.since, Some(12));
        assert_eq!(ListParams::parse(&query("null"))?.since, None);
        let err = ListParams::parse(&query("abc")).expect_err("rejected");
        assert_eq!(err.body("")["message"], "_since in querystring: \"abc\" is not a number");
        Ok(())
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() -> Result<(), ApiError> {
        let token = encode_token(42, "r1", 3);
        let parsed = ListParams::parse(&[("_token".to_owned(), token)])?.token;
        assert_eq!(parsed, Some(PageToken { last_modified: 42, id: Some("r1".into()), offset: 3 }));
        let err = ListParams::parse(&[("_token".to_owned(), "garbage".to_owned())]).expect_err("rejected");
        assert_eq!(err.body("")["message"], "querystring: _token has invalid content");
        Ok(())
    }

    #[test]
    fn limit_is_validated() {
        let err = ListParams::parse(&[("_limit".to_owned(), "-1".to_owned())]).expect_err("rejected");
        assert_eq!(err.body("")["message"], "_limit in querystring: -1 is less than minimum value 0");
    }
}
