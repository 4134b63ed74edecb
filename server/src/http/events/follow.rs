//! What a stream follows and how it catches up ("notify then query"): a [`Follow`] notes which
//! of its lists a bus message concerns, then reads, in one storage snapshot, every change after
//! its cursors, as the caller may read them (`resource::changes`), and advances the cursors
//! past what it hands out. Each catch-up re-checks the caller's right to list, so a revoked
//! reader gets the list's refusal instead of events.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::cursor::{BucketCursor, MAX_BUCKET_COLLECTIONS};
use crate::auth;
use crate::changes::Changed;
use crate::error::ApiError;
use crate::resource::changes::{self, ListChanges, changes_since, list_call, readable_ids};
use crate::resource::kind::{Kind, Place};
use crate::settings::Settings;
use crate::storage::{StoredObject, Tx};

/// Changes read from one list per catch-up at most.
pub const PAGE: usize = 200;

/// Which stream: one collection's records, or a bucket's collections and their records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Collection { bucket: String, collection: String },
    Bucket { bucket: String },
}

/// One event to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Where the stream resumes after this event.
    pub id: String,
    /// `record` or `collection`.
    pub name: &'static str,
    /// The JSON text of `data:`.
    pub data: String,
}

/// A stream's position and what it must re-read.
#[derive(Debug, Clone)]
pub enum Follow {
    Collection { bucket: String, collection: String, cursor: i64 },
    Bucket(BucketFollow),
}

/// A bucket stream's position and what it must re-read.
#[derive(Debug, Clone)]
pub struct BucketFollow {
    bucket: String,
    cursor: BucketCursor,
    /// Re-read every collection (permissions may have changed, or the receiver lagged).
    all: bool,
    /// Collections whose records changed.
    dirty: BTreeSet<String>,
}

/// What one catch-up read.
pub struct CaughtUp {
    pub follow: Follow,
    pub events: Vec<Outgoing>,
    /// Some list had more than a page: read again at once.
    pub more: bool,
}

fn action(object: &StoredObject) -> &'static str {
    // Storage keeps no creation time, so a create and an update look alike: "update" means
    // "this is the object now" (a create included).
    if object.deleted { "delete" } else { "update" }
}

fn record_event(bucket: &str, collection: &str, object: &StoredObject, id: String) -> Outgoing {
    let data = json!({
        "action": action(object),
        "resource_name": "record",
        "bucket": bucket,
        "collection": collection,
        "id": object.id,
        "timestamp": object.last_modified,
        "data": Value::Object(object.data.clone()),
    });
    Outgoing { id, name: "record", data: crate::json::to_string(&data) }
}

fn collection_event(bucket: &str, object: &StoredObject, id: String) -> Outgoing {
    let data = json!({
        "action": action(object),
        "resource_name": "collection",
        "bucket": bucket,
        "id": object.id,
        "timestamp": object.last_modified,
        "data": Value::Object(object.data.clone()),
    });
    Outgoing { id, name: "collection", data: crate::json::to_string(&data) }
}

fn records_place(bucket: &str, collection: &str) -> Place {
    Place::list(Kind::Record, vec![bucket.to_owned(), collection.to_owned()])
}

fn collections_place(bucket: &str) -> Place {
    Place::list(Kind::Collection, vec![bucket.to_owned()])
}

fn too_many_collections() -> ApiError {
    ApiError::BadRequest(format!(
        "This bucket has more than {MAX_BUCKET_COLLECTIONS} collections you can read: follow their own event streams."
    ))
}

/// Where a resumed stream starts, as the client sent it.
#[derive(Debug, Clone)]
pub enum Resume {
    /// `Last-Event-ID`.
    Header(String),
    /// `?_since=`.
    Query(String),
}

fn invalid_resume(resume: &Resume) -> ApiError {
    use crate::error::Location;
    match resume {
        Resume::Header(_) => {
            ApiError::invalid(Location::Header, Some("Last-Event-ID"), "Invalid value for Last-Event-ID")
        }
        Resume::Query(_) => ApiError::invalid(Location::Querystring, Some("_since"), "Invalid value for _since"),
    }
}

/// `_since` read as a list read reads it (same errors); `None` for `null`.
fn kinto_since(raw: &str) -> Result<Option<i64>, ApiError> {
    let params = crate::resource::query::ListParams::parse(&[("_since".to_owned(), raw.to_owned())])?;
    Ok(params.filters.first().and_then(|filter| filter.values.first()).and_then(Value::as_i64))
}

impl Follow {
    /// Checks that `user_id` may list what `scope` follows (the list's 401/403/404 otherwise),
    /// then places the stream at `resume`, or at the present.
    pub fn start(
        tx: &mut dyn Tx,
        settings: &Settings,
        scope: &Scope,
        user_id: Option<&str>,
        resume: Option<&Resume>,
    ) -> Result<Follow, ApiError> {
        let principals = auth::principals(tx, user_id)?;
        let user = user_id.map(str::to_owned);
        match scope {
            Scope::Collection { bucket, collection } => {
                let place = records_place(bucket, collection);
                changes_since(tx, settings, &list_call(place.clone(), user), &principals, i64::MAX, 0)?;
                let cursor = match resume {
                    None => changes::current_timestamp(tx, &place)?,
                    Some(given @ Resume::Header(text)) => {
                        super::cursor::collection_id(text).ok_or_else(|| invalid_resume(given))?
                    }
                    Some(Resume::Query(text)) => match kinto_since(text)? {
                        Some(since) => since,
                        None => changes::current_timestamp(tx, &place)?,
                    },
                };
                Ok(Follow::Collection { bucket: bucket.clone(), collection: collection.clone(), cursor })
            }
            Scope::Bucket { bucket } => {
                let call = list_call(collections_place(bucket), user);
                changes_since(tx, settings, &call, &principals, i64::MAX, 0)?;
                let readable = readable_ids(tx, settings, &call, &principals, MAX_BUCKET_COLLECTIONS)?;
                if readable.len() > MAX_BUCKET_COLLECTIONS {
                    return Err(too_many_collections());
                }
                let cursor = match resume {
                    Some(given) => {
                        let text = match given {
                            Resume::Header(text) | Resume::Query(text) => text,
                        };
                        BucketCursor::parse(text).ok_or_else(|| invalid_resume(given))?
                    }
                    None => {
                        let mut records = std::collections::BTreeMap::new();
                        for collection in readable {
                            let timestamp = changes::current_timestamp(tx, &records_place(bucket, &collection))?;
                            records.insert(collection, timestamp);
                        }
                        let collections = changes::current_timestamp(tx, &call.place)?;
                        BucketCursor { collections, records, others: 0 }
                    }
                };
                Ok(Follow::Bucket(BucketFollow { bucket: bucket.clone(), cursor, all: true, dirty: BTreeSet::new() }))
            }
        }
    }

    /// Whether a bus message concerns this stream (its lists, or the permissions and parents
    /// they depend on); notes what to re-read.
    pub fn note(&mut self, changed: &Changed) -> bool {
        let (parent, resource) = (changed.parent_id.as_str(), changed.resource_name.as_str());
        let above = |bucket: &str| {
            (parent.is_empty() && resource == "bucket")
                || (parent.strip_prefix("/buckets/") == Some(bucket) && matches!(resource, "collection" | "group"))
        };
        match self {
            Follow::Collection { bucket, collection, .. } => {
                let own = resource == "record"
                    && parent
                        .strip_prefix("/buckets/")
                        .and_then(|rest| rest.strip_prefix(bucket.as_str()))
                        .and_then(|rest| rest.strip_prefix("/collections/"))
                        == Some(collection.as_str());
                own || above(bucket)
            }
            Follow::Bucket(BucketFollow { bucket, all, dirty, .. }) => {
                if above(bucket) {
                    *all = true;
                    return true;
                }
                let collection = parent
                    .strip_prefix("/buckets/")
                    .and_then(|rest| rest.strip_prefix(bucket.as_str()))
                    .and_then(|rest| rest.strip_prefix("/collections/"))
                    .filter(|id| !id.contains('/'));
                match collection {
                    Some(id) if resource == "record" => {
                        dirty.insert(id.to_owned());
                        true
                    }
                    _ => false,
                }
            }
        }
    }

    /// Notes that everything must be re-read (a lagging receiver, a heartbeat).
    pub fn note_all(&mut self) {
        if let Follow::Bucket(follow) = self {
            follow.all = true;
        }
    }

    /// The id where the stream stands now.
    pub fn id(&self) -> String {
        match self {
            Follow::Collection { cursor, .. } => cursor.to_string(),
            Follow::Bucket(follow) => follow.cursor.encode(),
        }
    }

    /// Reads every change after the cursors (a page per list at most) in one snapshot.
    pub fn catch_up(self, tx: &mut dyn Tx, settings: &Settings, user_id: Option<&str>) -> Result<CaughtUp, ApiError> {
        let principals = auth::principals(tx, user_id)?;
        let user = user_id.map(str::to_owned);
        match self {
            Follow::Collection { bucket, collection, mut cursor } => {
                let call = list_call(records_place(&bucket, &collection), user);
                let ListChanges { objects, complete } = changes_since(tx, settings, &call, &principals, cursor, PAGE)?;
                let mut events = Vec::with_capacity(objects.len());
                for object in &objects {
                    cursor = object.last_modified;
                    events.push(record_event(&bucket, &collection, object, cursor.to_string()));
                }
                Ok(CaughtUp { follow: Follow::Collection { bucket, collection, cursor }, events, more: !complete })
            }
            Follow::Bucket(follow) => follow.catch_up(tx, settings, &principals, user),
        }
    }
}

/// A change read from one of a bucket stream's lists.
enum Change {
    Collection(StoredObject),
    Record(String, StoredObject),
}

impl Change {
    fn timestamp(&self) -> i64 {
        match self {
            Change::Collection(object) | Change::Record(_, object) => object.last_modified,
        }
    }
}

impl BucketFollow {
    /// Reads the collection list's changes and, for every collection to re-read, its records'.
    fn catch_up(
        self,
        tx: &mut dyn Tx,
        settings: &Settings,
        principals: &[String],
        user: Option<String>,
    ) -> Result<CaughtUp, ApiError> {
        let BucketFollow { bucket, cursor, all, dirty } = self;
        let collections_call = list_call(collections_place(&bucket), user.clone());
        let collections = changes_since(tx, settings, &collections_call, principals, cursor.collections, PAGE)?;
        let mut more = !collections.complete;
        let readable = readable_ids(tx, settings, &collections_call, principals, MAX_BUCKET_COLLECTIONS)?;
        if readable.len() > MAX_BUCKET_COLLECTIONS {
            return Err(too_many_collections());
        }
        // The new position starts from the old one, over the collections readable now.
        let mut next = BucketCursor { collections: cursor.collections, records: Default::default(), others: 0 };
        let mut changes: Vec<Change> = collections.objects.into_iter().map(Change::Collection).collect();
        let mut still_dirty = BTreeSet::new();
        for collection in readable {
            let known = cursor.records.contains_key(&collection);
            let from = cursor.of(&collection);
            next.records.insert(collection.clone(), from);
            if !(all || !known || dirty.contains(&collection)) {
                continue;
            }
            let call = list_call(records_place(&bucket, &collection), user.clone());
            match changes_since(tx, settings, &call, principals, from, PAGE) {
                Ok(page) => {
                    if !page.complete {
                        more = true;
                        still_dirty.insert(collection.clone());
                    }
                    changes.extend(page.objects.into_iter().map(|object| Change::Record(collection.clone(), object)));
                }
                // Readable as a collection but its records are not listable: nothing to send.
                Err(err) if err.status() < 500 => {}
                Err(err) => return Err(err),
            }
        }
        // Each list's changes stay in order; across lists, by timestamp.
        changes.sort_by_key(Change::timestamp);
        let mut events = Vec::with_capacity(changes.len());
        for change in changes {
            match change {
                Change::Collection(object) => {
                    next.collections = object.last_modified;
                    events.push(collection_event(&bucket, &object, next.encode()));
                }
                Change::Record(collection, object) => {
                    next.records.insert(collection.clone(), object.last_modified);
                    events.push(record_event(&bucket, &collection, &object, next.encode()));
                }
            }
        }
        let follow = BucketFollow { bucket, cursor: next, all: false, dirty: still_dirty };
        Ok(CaughtUp { follow: Follow::Bucket(follow), events, more })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(parent: &str, resource: &str) -> Changed {
        Changed { parent_id: parent.into(), resource_name: resource.into(), timestamp: 1 }
    }

    #[test]
    fn a_collection_stream_wakes_for_its_records_and_what_governs_them() {
        let mut follow = Follow::Collection { bucket: "b".into(), collection: "c".into(), cursor: 0 };
        assert!(follow.note(&changed("/buckets/b/collections/c", "record")));
        assert!(follow.note(&changed("/buckets/b", "collection")));
        assert!(follow.note(&changed("/buckets/b", "group")));
        assert!(follow.note(&changed("", "bucket")));
        assert!(!follow.note(&changed("/buckets/b/collections/cc", "record")));
        assert!(!follow.note(&changed("/buckets/bb/collections/c", "record")));
        assert!(!follow.note(&changed("/buckets/b", "history")));
        assert!(!follow.note(&changed("", "account")));
    }

    #[test]
    fn a_bucket_stream_notes_which_collections_to_read() {
        let mut follow = Follow::Bucket(BucketFollow {
            bucket: "b".into(),
            cursor: BucketCursor::default(),
            all: false,
            dirty: BTreeSet::new(),
        });
        assert!(follow.note(&changed("/buckets/b/collections/c", "record")));
        assert!(!follow.note(&changed("/buckets/bb/collections/c", "record")));
        assert!(!follow.note(&changed("/buckets/b", "history")));
        let Follow::Bucket(state) = &follow else { panic!("a bucket follow") };
        assert!(!state.all);
        assert_eq!(state.dirty.iter().collect::<Vec<_>>(), vec!["c"]);
        assert!(follow.note(&changed("/buckets/b", "collection")));
        let Follow::Bucket(state) = &follow else { panic!("a bucket follow") };
        assert!(state.all);
    }
}
