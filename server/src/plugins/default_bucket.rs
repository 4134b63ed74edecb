//! The personal bucket (DB-*): `/buckets/default[/...]` is the caller's own bucket, whose id is
//! derived from their user id; the bucket, and a collection addressed below it, are created on
//! first use.

use serde_json::Value;

use crate::auth::basic::hmac_hex;
use crate::error::ApiError;
use crate::resource::ids;
use crate::resource::kind::{Kind, Place};

/// What a personal-bucket request must find existing, created in the request's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implicit {
    /// The bucket, unless the request is the `PUT` of the bucket itself.
    pub bucket: Option<String>,
    /// The collection below it, unless the request is the `PUT` of that collection.
    pub collection: Option<String>,
}

/// DB-ID: the first 32 hex digits of HMAC-SHA256(secret, user id), formatted as a UUID.
pub fn bucket_id(secret: &str, user_id: &str) -> String {
    let digest = hmac_hex(secret, user_id);
    let hex = digest.get(..32).unwrap_or(&digest);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Whether a place is under `/buckets/default`.
pub fn addresses_default(place: &Place) -> bool {
    match place.kind {
        Kind::Bucket => place.id.as_deref() == Some("default"),
        Kind::Account => false,
        _ => place.ancestors.first().map(String::as_str) == Some("default"),
    }
}

/// Rewrites `place` to the caller's bucket (DB-ALIAS) and says what must exist (DB-IMPLICIT).
pub fn rewrite(place: &mut Place, real_id: &str, is_put: bool) -> Result<Implicit, ApiError> {
    let bucket_put = is_put && place.kind == Kind::Bucket && place.id.is_some();
    if place.kind == Kind::Bucket {
        place.id = Some(real_id.to_owned());
    } else if let Some(first) = place.ancestors.first_mut() {
        *first = real_id.to_owned();
    }
    let collection = match place.kind {
        Kind::Record => place.ancestors.get(1).cloned(),
        Kind::Collection if !is_put => place.id.clone(),
        _ => None,
    };
    if let Some(collection) = &collection {
        if !ids::is_valid(Kind::Collection, collection) {
            return Err(ApiError::invalid(crate::error::Location::Path, None, "Invalid collection id"));
        }
    }
    Ok(Implicit { bucket: (!bucket_put).then(|| real_id.to_owned()), collection })
}

/// In a body, `data.id` has the substring `default` replaced by the real id (as Kinto does).
pub fn rewrite_body_id(body: &mut Value, real_id: &str) {
    if let Some(Value::String(id)) = body.get_mut("data").and_then(|d| d.get_mut("id")) {
        *id = id.replace("default", real_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_kintos_worked_examples() {
        let user = "basicauth:8a931a10fc88ab2f6d1cc02a07d3a81b5d4768f6f13e85c5d8d4180419acb1b4";
        assert_eq!(bucket_id("", user), "ddaf8694-fa9e-2949-ed0e-77198a7907fb");
        let alice = "basicauth:530858b6b1e61523a8c7da868b0dd09a15df78a3c32e65080293597de3d06a99";
        assert_eq!(bucket_id("s2", alice), "353d2bb3-f057-26c3-638d-ad6dc22c4ee7");
    }

    #[test]
    fn rewriting_names_what_must_exist() -> Result<(), ApiError> {
        let mut record = Place::object(Kind::Record, vec!["default".into(), "tasks".into()], "r".into());
        let implicit = rewrite(&mut record, "B", false)?;
        assert_eq!(record.ancestors, vec!["B".to_owned(), "tasks".to_owned()]);
        assert_eq!(implicit, Implicit { bucket: Some("B".into()), collection: Some("tasks".into()) });
        let mut bucket = Place::object(Kind::Bucket, vec![], "default".into());
        assert_eq!(rewrite(&mut bucket, "B", true)?, Implicit { bucket: None, collection: None });
        let mut collection = Place::object(Kind::Collection, vec!["default".into()], "c".into());
        assert_eq!(rewrite(&mut collection, "B", true)?.collection, None);
        let mut bad = Place::list(Kind::Record, vec!["default".into(), "c 1".into()]);
        assert!(rewrite(&mut bad, "B", false).is_err());
        Ok(())
    }
}
