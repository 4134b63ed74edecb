//! The kinds of objects (OBJ-TREE), where an addressed object lives, and its URIs.

use crate::resource::ids;

/// A kind of object in Kinto's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Bucket,
    Collection,
    Group,
    Record,
    /// A user account of the accounts plugin (ACCT-*), at the root like buckets.
    Account,
    /// An entry of a bucket's history (HIST-*), written by the server only.
    History,
}

impl Kind {
    /// The resource name (`record`), used in storage, errors and history.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bucket => "bucket",
            Kind::Collection => "collection",
            Kind::Group => "group",
            Kind::Record => "record",
            Kind::Account => "account",
            Kind::History => "history",
        }
    }

    /// The URL segment of the list (`records`).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Bucket => "buckets",
            Kind::Collection => "collections",
            Kind::Group => "groups",
            Kind::Record => "records",
            Kind::Account => "accounts",
            Kind::History => "history",
        }
    }

    /// The permission names an object of this kind accepts (OBJ-KINDS).
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Kind::Bucket => &["read", "write", "collection:create", "group:create"],
            Kind::Collection => &["read", "write", "record:create"],
            Kind::Group | Kind::Record | Kind::Account | Kind::History => &["read", "write"],
        }
    }

    /// The permission needed on the parent to create an object of this kind.
    pub fn create_permission(self) -> &'static str {
        match self {
            Kind::Bucket => "bucket:create",
            Kind::Collection => "collection:create",
            Kind::Group => "group:create",
            Kind::Record => "record:create",
            Kind::Account => "account:create",
            Kind::History => "history:create",
        }
    }

    /// The permission asked to read an object of this kind (buckets and collections can be
    /// read by those who may only create children in them).
    pub fn read_permission(self) -> &'static str {
        match self {
            Kind::Bucket | Kind::Collection => "read:attributes",
            Kind::Group | Kind::Record | Kind::Account | Kind::History => "read",
        }
    }

    /// ACE names on an object's own URI that let a caller see it in a list (PERM-LIST-FILTER).
    pub fn listing_permissions(self) -> Vec<&'static str> {
        match self {
            Kind::Bucket => vec!["write", "read", "collection:create", "group:create"],
            Kind::Collection => vec!["write", "read", "record:create"],
            Kind::Group | Kind::Record | Kind::Account | Kind::History => vec!["write", "read"],
        }
    }
}

/// An addressed object or list: its kind, the ids of its ancestors and, for an object, its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub kind: Kind,
    /// `[]` for buckets, `[bid]` for collections and groups, `[bid, cid]` for records.
    pub ancestors: Vec<String>,
    /// `None` addresses the list.
    pub id: Option<String>,
}

impl Place {
    pub fn list(kind: Kind, ancestors: Vec<String>) -> Place {
        Place { kind, ancestors, id: None }
    }

    pub fn object(kind: Kind, ancestors: Vec<String>, id: String) -> Place {
        Place { kind, ancestors, id: Some(id) }
    }

    /// The storage parent id: `""`, `/buckets/b` or `/buckets/b/collections/c`.
    pub fn parent_uri(&self) -> String {
        match self.ancestors.as_slice() {
            [] => String::new(),
            [bucket] => format!("/buckets/{bucket}"),
            [bucket, collection, ..] => format!("/buckets/{bucket}/collections/{collection}"),
        }
    }

    /// The URI of this object (or of the list, without id).
    pub fn uri(&self) -> String {
        match &self.id {
            Some(id) => self.uri_of(id),
            None => format!("{}/{}", self.parent_uri(), self.kind.plural()),
        }
    }

    /// The URI of the object `id` in this list.
    pub fn uri_of(&self, id: &str) -> String {
        format!("{}/{}/{id}", self.parent_uri(), self.kind.plural())
    }

    /// The prefix shared by every object URI of the list: `/buckets/b/collections/`.
    pub fn list_prefix(&self) -> String {
        format!("{}/{}/", self.parent_uri(), self.kind.plural())
    }

    /// The parent object (a bucket or a collection), if any.
    pub fn parent(&self) -> Option<Place> {
        match self.ancestors.as_slice() {
            [] => None,
            [bucket] => Some(Place::object(Kind::Bucket, vec![], bucket.clone())),
            [bucket, collection, ..] => Some(Place::object(Kind::Collection, vec![bucket.clone()], collection.clone())),
        }
    }

    /// The bucket id, for everything below a bucket (and a bucket itself).
    pub fn bucket_id(&self) -> Option<&str> {
        match self.kind {
            Kind::Bucket => self.id.as_deref(),
            _ => self.ancestors.first().map(String::as_str),
        }
    }

    /// The first ancestor whose id is not a valid id, as `(id, kind name)`.
    pub fn invalid_ancestor(&self) -> Option<(String, &'static str)> {
        let kinds = [Kind::Bucket, Kind::Collection];
        self.ancestors
            .iter()
            .zip(kinds)
            .find(|(id, _)| !ids::is_valid(Kind::Bucket, id))
            .map(|(id, kind)| (id.clone(), kind.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_follow_the_tree() {
        let record = Place::object(Kind::Record, vec!["b".into(), "c".into()], "r".into());
        assert_eq!(record.parent_uri(), "/buckets/b/collections/c");
        assert_eq!(record.uri(), "/buckets/b/collections/c/records/r");
        assert_eq!(record.parent().map(|p| p.uri()), Some("/buckets/b/collections/c".to_owned()));
        let buckets = Place::list(Kind::Bucket, vec![]);
        assert_eq!(buckets.uri(), "/buckets");
        assert_eq!(buckets.list_prefix(), "/buckets/");
    }
}
