//! Building responses: the object envelope with its visible permissions (OP-RESPONSE-PERMS),
//! ETag / Last-Modified (CC-ETAG), Cache-Control (CC-CACHE) and precondition outcomes
//! (CC-IF-MATCH, CC-IF-NONE-MATCH-*, CC-412).

use serde_json::{Map, Value, json};

use super::Engine;
use super::params::{Preconditions, Tag};
use crate::error::ApiError;
use crate::http::message::{ApiResponse, http_date};
use crate::resource::kind::Kind;
use crate::storage::{Acl, StoredObject};

/// Adds `ETag` and `Last-Modified` for a timestamp.
pub fn with_timestamp(mut response: ApiResponse, timestamp: i64) -> ApiResponse {
    response.set_header("etag", format!("\"{timestamp}\""));
    response.set_header("last-modified", http_date(timestamp));
    response
}

/// The ACL as JSON lists.
pub fn acl_json(acl: &Acl) -> Value {
    let map: Map<String, Value> = acl
        .iter()
        .filter(|(_, principals)| !principals.is_empty())
        .map(|(name, principals)| (name.clone(), Value::Array(principals.iter().cloned().map(Value::String).collect())))
        .collect();
    Value::Object(map)
}

/// `{"data": ..., "permissions": ...}` serialized without copying the object (keys in the order
/// Kintoun writes every object's: sorted).
#[derive(serde::Serialize)]
struct ObjectBody<'a> {
    data: &'a serde_json::Map<String, Value>,
    permissions: Value,
}

/// What happens to a request given its preconditions.
pub enum Verdict {
    Proceed,
    NotModified,
}

impl Engine<'_> {
    /// `{"data", "permissions"}` for an object, permissions shown only to its own writers.
    pub(super) fn object_response(&self, status: u16, object: &StoredObject, acl: &Acl) -> ApiResponse {
        let writers = acl.get("write");
        // Account responses always show their ACL, as Kinto's accounts plugin does.
        let visible = self.place().kind == Kind::Account
            || writers.is_some_and(|w| self.principals.iter().any(|p| w.contains(p)));
        let permissions = if visible { acl_json(acl) } else { json!({}) };
        let body = ObjectBody { data: &object.data, permissions };
        with_timestamp(ApiResponse::json_bytes(status, crate::json::to_vec(&body).into()), object.last_modified)
    }

    /// 304 with only the validators.
    pub(super) fn not_modified(&self, timestamp: i64) -> ApiResponse {
        with_timestamp(ApiResponse::empty(304), timestamp)
    }

    /// The timestamp reported when there is no object: the list's.
    pub(super) fn list_timestamp(&mut self) -> Result<i64, ApiError> {
        let parent = self.place().parent_uri();
        Ok(self.tx.list_timestamp(&parent, self.place().kind.name())?)
    }

    /// Preconditions on an object (or on the object a POST names). `read` enables 304.
    pub(super) fn object_preconditions(
        &mut self,
        preconditions: &Preconditions,
        existing: Option<&StoredObject>,
        read: bool,
    ) -> Result<Verdict, ApiError> {
        let failed = |object: &StoredObject| ApiError::PreconditionFailed {
            existing: Some(Value::Object(object.data.clone())),
            timestamp: object.last_modified,
        };
        if read {
            if let (Some(Tag::Timestamp(ts)), Some(object)) = (preconditions.if_none_match, existing) {
                if ts == object.last_modified {
                    return Ok(Verdict::NotModified);
                }
            }
        }
        match (preconditions.if_match, existing) {
            (Some(Tag::Timestamp(ts)), Some(object)) if ts != object.last_modified => return Err(failed(object)),
            (Some(_), None) => {
                return Err(ApiError::PreconditionFailed { existing: None, timestamp: self.list_timestamp()? });
            }
            _ => {}
        }
        if let (Some(Tag::Any), Some(object)) = (preconditions.if_none_match, existing) {
            return Err(failed(object));
        }
        Ok(Verdict::Proceed)
    }

    /// Preconditions on a list (compared with the list timestamp).
    pub(super) fn list_preconditions(
        &mut self,
        preconditions: &Preconditions,
        list_timestamp: i64,
        read: bool,
    ) -> Result<Verdict, ApiError> {
        let failed = ApiError::PreconditionFailed { existing: None, timestamp: list_timestamp };
        if read && preconditions.if_none_match == Some(Tag::Timestamp(list_timestamp)) {
            return Ok(Verdict::NotModified);
        }
        if preconditions.if_none_match == Some(Tag::Any) {
            return Err(failed);
        }
        match preconditions.if_match {
            Some(Tag::Timestamp(ts)) if ts != list_timestamp => Err(failed),
            _ => Ok(Verdict::Proceed),
        }
    }

    /// `Cache-Control` (and `Expires`/`Pragma`) of a read (CC-CACHE).
    pub(super) fn cache_headers(
        &self,
        mut response: ApiResponse,
        collection: Option<&Map<String, Value>>,
    ) -> ApiResponse {
        let seconds = if self.call.user_id.is_none() { self.cache_expires(collection) } else { None };
        match seconds {
            Some(n) if n > 0 => {
                response.set_header("cache-control", format!("max-age={n}"));
                let expires = std::time::SystemTime::now() + std::time::Duration::from_secs(n as u64);
                response.set_header("expires", httpdate::fmt_http_date(expires));
            }
            Some(_) => {
                response.set_header("cache-control", "max-age=0, must-revalidate, no-cache, no-store");
                response.set_header("expires", httpdate::fmt_http_date(std::time::SystemTime::now()));
                response.set_header("pragma", "no-cache");
            }
            None => response.set_header("cache-control", "no-cache, no-store"),
        }
        response
    }

    /// The configured expiry for anonymous reads of this kind, if any.
    fn cache_expires(&self, collection: Option<&Map<String, Value>>) -> Option<i64> {
        let place = self.place();
        let kind = place.kind;
        if kind != Kind::Record {
            return self.settings.extra_i64(&format!("{}_cache_expires_seconds", kind.name())).filter(|n| *n > 0);
        }
        let (bucket, collection_id) = match place.ancestors.as_slice() {
            [b, c, ..] => (b.as_str(), c.as_str()),
            _ => return None,
        };
        let keys = [
            format!("{bucket}.{collection_id}.record_cache_expires_seconds"),
            format!("{bucket}.record_cache_expires_seconds"),
            "record_cache_expires_seconds".to_owned(),
            format!("{bucket}_{collection_id}_record_cache_expires_seconds"),
            format!("{bucket}_record_cache_expires_seconds"),
        ];
        let setting = keys.iter().find_map(|k| self.settings.extra_i64(k));
        let attribute = collection.and_then(|c| c.get("cache_expires")).and_then(Value::as_i64);
        match (setting, attribute) {
            (s, Some(a)) => Some(s.unwrap_or(-1).max(a)),
            (Some(s), None) if s >= 0 => Some(s),
            _ => None,
        }
    }
}
