//! The permissions endpoint (PERM-ENDPOINT): `GET /v1/permissions` lists every object on which
//! the caller holds a permission of its own (ACEs naming one of their principals, and grants
//! from `<kind>_<perm>_principals` settings), with what each permission implies on that object.
//! Entries are computed, so filters, sorting and pagination run in memory (`evaluate`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::http::message::ApiResponse;
use crate::resource::evaluate;
use crate::resource::params::{self, PageToken};
use crate::resource::query::{self, ListParams};
use crate::settings::Settings;
use crate::storage::{ListQuery, Tx};

/// The fields of an entry (REC-FILTER-STRICT).
pub const FIELDS: &[&str] =
    &["uri", "resource_name", "permissions", "id", "bucket_id", "collection_id", "group_id", "record_id", "account_id"];

/// Whether the endpoint exists.
pub fn enabled(settings: &Settings) -> bool {
    settings.experimental_permissions_endpoint || settings.includes("admin")
}

/// `(resource_name, [(id field, id)])` of an object URI; `None` for what is not listed.
fn parse_uri(uri: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let parts: Vec<&str> = uri.trim_start_matches('/').split('/').collect();
    let owned = |s: &&str| s.to_string();
    match parts.as_slice() {
        ["buckets", b] => Some(("bucket", vec![("bucket_id", owned(b))])),
        ["buckets", b, "collections", c] => {
            Some(("collection", vec![("bucket_id", owned(b)), ("collection_id", owned(c))]))
        }
        ["buckets", b, "groups", g] => Some(("group", vec![("bucket_id", owned(b)), ("group_id", owned(g))])),
        ["buckets", b, "collections", c, "records", r] => {
            Some(("record", vec![("bucket_id", owned(b)), ("collection_id", owned(c)), ("record_id", owned(r))]))
        }
        ["accounts", a] => Some(("account", vec![("account_id", owned(a))])),
        _ => None,
    }
}

/// What holding `permission` on an object of `resource_name` implies on the same object.
fn implied(resource_name: &str, permission: &str) -> &'static [&'static str] {
    match (resource_name, permission) {
        ("bucket", "write") => &["read", "read:attributes", "collection:create", "group:create"],
        ("bucket", "read" | "collection:create" | "group:create") => &["read:attributes"],
        ("collection", "write") => &["read", "read:attributes", "record:create"],
        ("collection", "read" | "record:create") => &["read:attributes"],
        (_, "write") => &["read"],
        _ => &[],
    }
}

/// Every entry the caller has, unfiltered.
fn entries(tx: &mut dyn Tx, settings: &Settings, principals: &[String]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (uri, permission) in tx.aces_of(principals)? {
        held.entry(uri).or_default().insert(permission);
    }
    // Settings grant a permission on every object of a kind.
    for kind in ["bucket", "collection", "group"] {
        for permission in ["read", "write"] {
            let granted = settings.granted_principals(kind, permission).iter().any(|p| principals.contains(p));
            if granted {
                for uri in every_uri(tx, kind)? {
                    held.entry(uri).or_default().insert(permission.to_owned());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(held.len() + 1);
    for (uri, permissions) in held {
        let Some((resource_name, ids)) = parse_uri(&uri) else { continue };
        let mut all: BTreeSet<String> = BTreeSet::new();
        for permission in &permissions {
            all.insert(permission.clone());
            all.extend(implied(resource_name, permission).iter().map(|p| p.to_string()));
        }
        let mut entry = Map::new();
        entry.insert("uri".into(), json!(uri));
        entry.insert("resource_name".into(), json!(resource_name));
        entry.insert("permissions".into(), json!(all));
        if let Some((_, id)) = ids.last() {
            entry.insert("id".into(), json!(id));
        }
        for (field, id) in ids {
            entry.insert(field.into(), json!(id));
        }
        out.push(entry);
    }
    let mut root: Vec<&str> = Vec::new();
    for (kind, name) in [("account", "account:create"), ("bucket", "bucket:create")] {
        if kind == "account" && !settings.includes("accounts") {
            continue;
        }
        if settings.granted_principals(kind, "create").iter().any(|p| principals.contains(p)) {
            root.push(name);
        }
    }
    if !root.is_empty() {
        out.push(
            json!({"uri": "/", "resource_name": "root", "permissions": root}).as_object().cloned().unwrap_or_default(),
        );
    }
    Ok(out)
}

/// URIs of every live bucket, collection or group.
fn every_uri(tx: &mut dyn Tx, kind: &str) -> Result<Vec<String>, ApiError> {
    let buckets = tx.list("", "bucket", &ListQuery::default())?;
    let mut uris = Vec::new();
    for bucket in buckets {
        let bucket_uri = format!("/buckets/{}", bucket.id);
        match kind {
            "bucket" => uris.push(bucket_uri),
            child => {
                for object in tx.list(&bucket_uri, child, &ListQuery::default())? {
                    uris.push(format!("{bucket_uri}/{child}s/{}", object.id));
                }
            }
        }
    }
    Ok(uris)
}

/// `GET|HEAD /v1/permissions`.
pub fn list(
    tx: &mut dyn Tx,
    settings: &Settings,
    principals: &[String],
    params: &ListParams,
    head: bool,
    url: &str,
    query_pairs: &[(String, String)],
) -> Result<ApiResponse, ApiError> {
    let all = entries(tx, settings, principals)?;
    let mut query = ListQuery { filters: params.filters.clone(), sort: params.sort.clone(), ..ListQuery::default() };
    if query.sort.is_empty() {
        query.sort = vec![crate::storage::SortKey { field: crate::storage::Field::parse("uri"), descending: true }];
    }
    let now = crate::storage::sqlite::now_ms();
    if head {
        let total = evaluate::count(&query, &all).to_string();
        let response = ApiResponse::json_bytes(200, bytes::Bytes::new())
            .with_header("total-objects", &total)
            .with_header("total-records", &total);
        return Ok(crate::resource::with_timestamp(response, now));
    }
    if let Some(token) = &params.token {
        query.after = Some(token.position(&query.effective_sort()));
    }
    let limit = params.page_size(settings);
    query.limit = Some(limit.saturating_add(1));
    let mut page = evaluate::apply(&query, all);
    let more = page.len() > limit;
    page.truncate(limit);
    let mut response = ApiResponse::json(
        200,
        &json!({"data": page.iter().map(|e| match &params.fields {
        Some(fields) => Value::Object(query::project(e, fields)),
        None => Value::Object(e.clone()),
    }).collect::<Vec<_>>()}),
    );
    if let (true, Some(last)) = (more, page.last()) {
        let offset = params.token.as_ref().map_or(0, |t| t.offset) + limit as u64;
        let token = PageToken::new(params::last_object(&query.effective_sort(), last), offset);
        response.set_header("next-page", params::next_page_url(url, query_pairs, limit, &token));
    }
    Ok(crate::resource::with_timestamp(response, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_their_kind_and_ids() {
        let (kind, ids) = parse_uri("/buckets/b/collections/c/records/r").unwrap_or(("", vec![]));
        assert_eq!(kind, "record");
        assert_eq!(ids, vec![("bucket_id", "b".into()), ("collection_id", "c".into()), ("record_id", "r".into())]);
        assert!(parse_uri("/buckets/b/history/x").is_none());
    }

    #[test]
    fn write_on_a_bucket_implies_everything_on_it() {
        assert_eq!(implied("bucket", "write"), &["read", "read:attributes", "collection:create", "group:create"]);
        assert_eq!(implied("record", "write"), &["read"]);
    }
}
