//! The change bus: after every committed write, whatever made it (an HTTP request, `/batch`,
//! a plugin, the replicator), subscribers learn which lists changed.
//!
//! The storage writer collects, per write job, the lists (`parent_id`, `resource_name`) whose
//! objects or ACLs the job touched ([`ChangeSet`]); once the group commit is durable it
//! publishes one [`Changed`] per list on a tokio broadcast channel ([`ChangeBus`]). A message
//! is only a hint ("notify then query"): a subscriber re-reads storage by timestamp, so a
//! lagging receiver ([`tokio::sync::broadcast::error::RecvError::Lagged`]) loses nothing but
//! has to query everything it follows. With no subscriber, publishing costs one atomic load.

use tokio::sync::broadcast;

/// Messages a subscriber may fall behind by before it lags (and re-queries).
const CAPACITY: usize = 1024;

/// A list whose objects (or their ACLs) changed in a committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The list's parent URI, e.g. `/buckets/b/collections/c` (`""` for buckets).
    pub parent_id: String,
    /// The kind of the listed objects: `record`, `collection`, `group`, `bucket`, `history`, ...
    pub resource_name: String,
    /// The newest timestamp the transaction assigned in that list (for a change of ACLs only,
    /// the list's timestamp).
    pub timestamp: i64,
}

/// Publishes [`Changed`] messages; cheap to clone (one channel).
#[derive(Clone)]
pub struct ChangeBus {
    sender: broadcast::Sender<Changed>,
}

impl Default for ChangeBus {
    fn default() -> Self {
        ChangeBus::new()
    }
}

impl std::fmt::Debug for ChangeBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeBus").field("subscribers", &self.sender.receiver_count()).finish()
    }
}

impl ChangeBus {
    pub fn new() -> ChangeBus {
        ChangeBus { sender: broadcast::channel(CAPACITY).0 }
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.sender.subscribe()
    }

    /// How many receivers are listening.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Sends the changes of one committed transaction (nothing happens without subscribers).
    pub fn publish(&self, changes: ChangeSet) {
        if changes.lists.is_empty() || self.sender.receiver_count() == 0 {
            return;
        }
        for (parent_id, resource_name, timestamp) in changes.lists {
            // An error only means every receiver went away meanwhile.
            let _ = self.sender.send(Changed { parent_id, resource_name, timestamp: timestamp.unwrap_or(0) });
        }
    }
}

/// The lists a transaction touched, each once, with the newest timestamp it assigned there
/// (`None` when only ACLs changed: the storage fills in the list's timestamp).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    lists: Vec<(String, String, Option<i64>)>,
}

impl ChangeSet {
    /// Notes a change in the list `(parent, resource)`; `timestamp` is the one assigned, if any.
    pub fn touch(&mut self, parent: &str, resource: &str, timestamp: Option<i64>) {
        // Jobs touch few lists, usually the same one again: look from the end.
        let found = self.lists.iter_mut().rev().find(|(p, r, _)| p == parent && r == resource);
        match found {
            Some((_, _, existing)) => *existing = (*existing).max(timestamp),
            None => self.lists.push((parent.to_owned(), resource.to_owned(), timestamp)),
        }
    }

    /// Notes that the ACL of the object at `uri` (`/buckets/b/collections/c/records/r`) changed.
    pub fn touch_object(&mut self, uri: &str) {
        if let Some((parent, resource)) = list_of(uri) {
            self.touch(parent, resource, None);
        }
    }

    /// Adds another job's changes (the jobs of one group commit).
    pub fn merge(&mut self, other: ChangeSet) {
        for (parent, resource, timestamp) in other.lists {
            self.touch(&parent, &resource, timestamp);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The touched lists without a timestamp yet.
    pub fn unstamped(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lists.iter().filter(|(_, _, ts)| ts.is_none()).map(|(p, r, _)| (p.as_str(), r.as_str()))
    }

    /// Gives the list `(parent, resource)` its timestamp if it has none.
    pub fn stamp(&mut self, parent: &str, resource: &str, timestamp: i64) {
        for (p, r, ts) in &mut self.lists {
            if p == parent && r == resource && ts.is_none() {
                *ts = Some(timestamp);
            }
        }
    }
}

/// The list holding the object at `uri`: `/buckets/b/collections/c` → `("/buckets/b",
/// "collection")`, `/buckets/b` → `("", "bucket")`. Plural segments lose their `s`.
fn list_of(uri: &str) -> Option<(&str, &str)> {
    let (rest, _id) = uri.rsplit_once('/')?;
    let (parent, plural) = rest.rsplit_once('/')?;
    Some((parent, plural.strip_suffix('s').unwrap_or(plural)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_uris_name_their_list() {
        assert_eq!(list_of("/buckets/b"), Some(("", "bucket")));
        assert_eq!(list_of("/buckets/b/collections/c"), Some(("/buckets/b", "collection")));
        assert_eq!(list_of("/buckets/b/collections/c/records/r"), Some(("/buckets/b/collections/c", "record")));
        assert_eq!(list_of("/buckets/b/history/h"), Some(("/buckets/b", "history")));
        assert_eq!(list_of("nothing"), None);
    }

    #[test]
    fn a_set_keeps_each_list_once_with_its_newest_timestamp() {
        let mut set = ChangeSet::default();
        set.touch("/buckets/b/collections/c", "record", Some(10));
        set.touch("/buckets/b/collections/c", "record", Some(12));
        set.touch_object("/buckets/b/collections/c/records/r");
        set.touch_object("/buckets/b/collections/d");
        let mut other = ChangeSet::default();
        other.touch("/buckets/b/collections/c", "record", Some(11));
        set.merge(other);
        assert_eq!(set.unstamped().collect::<Vec<_>>(), vec![("/buckets/b", "collection")]);
        set.stamp("/buckets/b", "collection", 7);
        assert_eq!(
            set.lists,
            vec![
                ("/buckets/b/collections/c".to_owned(), "record".to_owned(), Some(12)),
                ("/buckets/b".to_owned(), "collection".to_owned(), Some(7)),
            ]
        );
    }

    #[tokio::test]
    async fn subscribers_get_what_is_published_after_they_subscribe() {
        let bus = ChangeBus::new();
        let mut before = ChangeSet::default();
        before.touch("p", "record", Some(1));
        bus.publish(before); // nobody listens: dropped
        let mut receiver = bus.subscribe();
        let mut after = ChangeSet::default();
        after.touch("p", "record", Some(2));
        bus.publish(after);
        let got = receiver.recv().await.expect("a change");
        assert_eq!(got, Changed { parent_id: "p".into(), resource_name: "record".into(), timestamp: 2 });
        assert!(receiver.try_recv().is_err());
    }
}
