//! Kinto's permission rules: which ACEs grant a permission on an object (PERM-INHERIT), with
//! the `<kind>_<permission>_principals` settings granting on every object (PERM-SETTINGS).

use crate::resource::kind::{Kind, Place};
use crate::settings::Settings;
use crate::storage::{StorageResult, Tx};

/// `(level, permission)` pairs that grant `permission` on an object of `kind`; `level` is the
/// kind of the object (the target or one of its ancestors) that must hold the ACE.
fn bound(kind: Kind, permission: &str) -> &'static [(Kind, &'static str)] {
    use Kind::*;
    match (kind, permission) {
        (Bucket, "read") => &[(Bucket, "write"), (Bucket, "read")],
        (Bucket, "read:attributes") => {
            &[(Bucket, "write"), (Bucket, "read"), (Bucket, "collection:create"), (Bucket, "group:create")]
        }
        (Bucket, "write") => &[(Bucket, "write")],
        (Bucket, "collection:create") => &[(Bucket, "write"), (Bucket, "collection:create")],
        (Bucket, "group:create") => &[(Bucket, "write"), (Bucket, "group:create")],
        (Group, "read") => &[(Bucket, "write"), (Bucket, "read"), (Group, "write"), (Group, "read")],
        (Group, "write") => &[(Bucket, "write"), (Group, "write")],
        (Collection, "read") => &[(Bucket, "write"), (Bucket, "read"), (Collection, "write"), (Collection, "read")],
        (Collection, "read:attributes") => &[
            (Bucket, "write"),
            (Bucket, "read"),
            (Collection, "write"),
            (Collection, "read"),
            (Collection, "record:create"),
        ],
        (Collection, "write") => &[(Bucket, "write"), (Collection, "write")],
        (Collection, "record:create") => &[(Bucket, "write"), (Collection, "write"), (Collection, "record:create")],
        (Record, "read") => &[
            (Bucket, "write"),
            (Bucket, "read"),
            (Collection, "write"),
            (Collection, "read"),
            (Record, "write"),
            (Record, "read"),
        ],
        (Record, "write") => &[(Bucket, "write"), (Collection, "write"), (Record, "write")],
        (Account, "read") => &[(Account, "write"), (Account, "read")],
        (History, "read") => &[(Bucket, "write"), (Bucket, "read"), (History, "write"), (History, "read")],
        (History, "write") => &[(Bucket, "write"), (History, "write")],
        (Account, "write") => &[(Account, "write")],
        _ => &[],
    }
}

/// The URI of the object of kind `level` on the path of `place` (which must address an object).
fn uri_at(place: &Place, level: Kind) -> Option<String> {
    if level == place.kind {
        return place.id.as_ref().map(|_| place.uri());
    }
    match (level, place.ancestors.as_slice()) {
        (Kind::Bucket, [bucket, ..]) => Some(format!("/buckets/{bucket}")),
        (Kind::Collection, [bucket, collection, ..]) => Some(format!("/buckets/{bucket}/collections/{collection}")),
        _ => None,
    }
}

/// The settings key granting a bound `permission` for a request on `target` objects: as in
/// Kinto, plain names take the *target's* kind (`record:write` for a record, even when the ACE
/// would sit on its bucket), child-create names stay as they are (`collection:create`).
fn settings_key(target: Kind, permission: &str) -> String {
    if permission.contains(':') { permission.to_owned() } else { format!("{}:{permission}", target.name()) }
}

/// Whether one of `principals` holds `permission` on the object at `place`.
pub fn allowed(
    tx: &mut dyn Tx,
    settings: &Settings,
    principals: &[String],
    place: &Place,
    permission: &str,
) -> StorageResult<bool> {
    allowed_for(tx, settings, principals, place, permission, place.kind)
}

/// Like [`allowed`], for a request whose target objects are of kind `target` (a list's kind
/// when `place` is its parent).
fn allowed_for(
    tx: &mut dyn Tx,
    settings: &Settings,
    principals: &[String],
    place: &Place,
    permission: &str,
    target: Kind,
) -> StorageResult<bool> {
    let pairs = bound(place.kind, permission);
    let mut grants = Vec::with_capacity(pairs.len());
    for (level, granted) in pairs {
        let key = settings_key(target, granted);
        let (kind, perm) = key.split_once(':').unwrap_or((key.as_str(), ""));
        if settings.granted_principals(kind, perm).iter().any(|p| principals.contains(p)) {
            return Ok(true);
        }
        if let Some(uri) = uri_at(place, *level) {
            grants.push((uri, *granted));
        }
    }
    tx.any_ace(&grants, principals)
}

/// Whether one of `principals` holds a permission at the root, which only settings grant
/// (`bucket:create`, `bucket:read` to list every bucket, `bucket:write`).
pub fn allowed_at_root(settings: &Settings, principals: &[String], key: &str) -> bool {
    let (kind, perm) = key.split_once(':').unwrap_or((key, ""));
    settings.granted_principals(kind, perm).iter().any(|p| principals.contains(p))
}

/// Whether the caller may act on the whole list at `list` with `permission` (`read` or
/// `write`), i.e. on its parent.
pub fn allowed_on_list(
    tx: &mut dyn Tx,
    settings: &Settings,
    principals: &[String],
    list: &Place,
    permission: &str,
) -> StorageResult<bool> {
    match list.parent() {
        Some(parent) => allowed_for(tx, settings, principals, &parent, permission, list.kind),
        None => Ok(allowed_at_root(settings, principals, &format!("{}:{permission}", list.kind.name()))),
    }
}

/// Whether the caller may create objects in the list at `list`.
pub fn allowed_to_create(
    tx: &mut dyn Tx,
    settings: &Settings,
    principals: &[String],
    list: &Place,
) -> StorageResult<bool> {
    let permission = list.kind.create_permission();
    match list.parent() {
        Some(parent) => allowed_for(tx, settings, principals, &parent, permission, list.kind),
        None => Ok(allowed_at_root(settings, principals, permission)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_write_is_granted_by_ancestors_write_only() {
        let levels: Vec<_> = bound(Kind::Record, "write").iter().map(|(k, p)| (k.name(), *p)).collect();
        assert_eq!(levels, vec![("bucket", "write"), ("collection", "write"), ("record", "write")]);
    }

    #[test]
    fn settings_keys_name_the_child_kind_for_create() {
        assert_eq!(settings_key(Kind::Bucket, "collection:create"), "collection:create");
        assert_eq!(settings_key(Kind::Record, "write"), "record:write");
    }

    #[test]
    fn uris_of_ancestors() {
        let record = Place::object(Kind::Record, vec!["b".into(), "c".into()], "r".into());
        assert_eq!(uri_at(&record, Kind::Bucket).as_deref(), Some("/buckets/b"));
        assert_eq!(uri_at(&record, Kind::Collection).as_deref(), Some("/buckets/b/collections/c"));
        assert_eq!(uri_at(&record, Kind::Record).as_deref(), Some("/buckets/b/collections/c/records/r"));
    }
}
