//! What a listing asks of storage, independent of any backend: filters (REC-FILTER-OPS) on
//! fields (REC-FILTER-NESTED), sort keys (REC-SORT), a keyset position (REC-PAGE-TOKEN), a
//! limit and the access restriction (PERM-LIST-FILTER).

use serde_json::{Map, Value};

use super::AccessFilter;

/// A field of stored objects that filters and sorts address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Id,
    LastModified,
    /// A (possibly nested) user field: `author.name` is `["author", "name"]`.
    Data(Vec<String>),
}

impl Field {
    /// `id`, `last_modified`, or a dotted path.
    pub fn parse(name: &str) -> Field {
        match name {
            "id" => Field::Id,
            "last_modified" => Field::LastModified,
            _ => Field::Data(name.split('.').map(str::to_owned).collect()),
        }
    }

    /// The value of this field in an object (`None` when missing).
    pub fn get<'v>(&self, object: &'v Map<String, Value>) -> Option<&'v Value> {
        match self {
            Field::Id => object.get("id"),
            Field::LastModified => object.get("last_modified"),
            Field::Data(path) => {
                let (first, rest) = path.split_first()?;
                rest.iter().try_fold(object.get(first)?, |value, key| value.as_object()?.get(key))
            }
        }
    }

    /// The dotted name.
    pub fn name(&self) -> String {
        match self {
            Field::Id => "id".to_owned(),
            Field::LastModified => "last_modified".to_owned(),
            Field::Data(path) => path.join("."),
        }
    }
}

/// A filter operator (REC-FILTER-OPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Not,
    Lt,
    Gt,
    Min,
    Max,
    In,
    Exclude,
    Like,
    Has,
    Contains,
    ContainsAny,
}

/// One filter: `values` holds the one value, the list of `in`/`exclude`/`contains*`, the
/// boolean of `has`, or the pattern string of `like`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: Field,
    pub operator: Operator,
    pub values: Vec<Value>,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: Field,
    pub descending: bool,
}

/// What a listing returns: which objects, in which order, how many.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Include tombstones (only when the caller filters on `last_modified`).
    pub include_deleted: bool,
    /// All must hold.
    pub filters: Vec<Filter>,
    /// Only the objects the caller may access through their own ACL.
    pub access: Option<AccessFilter>,
    /// The requested order; [`ListQuery::effective_sort`] completes it.
    pub sort: Vec<SortKey>,
    /// Keyset position: only objects strictly after these values of the effective sort keys
    /// (`None` = the field was missing on the last object).
    pub after: Option<Vec<Option<Value>>>,
    /// At most this many objects.
    pub limit: Option<usize>,
}

impl ListQuery {
    /// The order actually used: the requested keys (duplicates dropped), then
    /// `-last_modified` unless present, then `id` (in the direction of `last_modified`) unless
    /// present, so that the order is total and every page boundary is exact.
    pub fn effective_sort(&self) -> Vec<SortKey> {
        let mut keys: Vec<SortKey> = Vec::with_capacity(self.sort.len() + 2);
        for key in &self.sort {
            if !keys.iter().any(|k| k.field == key.field) {
                keys.push(key.clone());
            }
        }
        if !keys.iter().any(|k| k.field == Field::LastModified) {
            keys.push(SortKey { field: Field::LastModified, descending: true });
        }
        if !keys.iter().any(|k| k.field == Field::Id) {
            let descending = keys.iter().find(|k| k.field == Field::LastModified).is_some_and(|k| k.descending);
            keys.push(SortKey { field: Field::Id, descending });
        }
        keys
    }

    /// The keyset position of `object` for this query's effective sort.
    pub fn position_of(&self, object: &Map<String, Value>) -> Vec<Option<Value>> {
        self.effective_sort().iter().map(|key| key.field.get(object).cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_order_is_newest_first_then_id() {
        let keys = ListQuery::default().effective_sort();
        assert_eq!(
            keys,
            vec![
                SortKey { field: Field::LastModified, descending: true },
                SortKey { field: Field::Id, descending: true }
            ]
        );
    }

    #[test]
    fn requested_keys_come_first() {
        let query =
            ListQuery { sort: vec![SortKey { field: Field::parse("a.b"), descending: false }], ..ListQuery::default() };
        let names: Vec<String> = query.effective_sort().iter().map(|k| k.field.name()).collect();
        assert_eq!(names, vec!["a.b", "last_modified", "id"]);
    }

    #[test]
    fn nested_fields_read_sub_objects() {
        let object = json!({"author": {"name": "Ben"}, "n": 1}).as_object().cloned().unwrap_or_default();
        assert_eq!(Field::parse("author.name").get(&object), Some(&json!("Ben")));
        assert_eq!(Field::parse("author.age").get(&object), None);
        assert_eq!(Field::parse("n.x").get(&object), None);
    }
}
