//! Event ids: each one is where its stream resumes (`Last-Event-ID`, or `?_since=` for clients
//! that cannot set headers).
//!
//! * Collection streams: the record's `last_modified`, in decimal. A collection's timestamps
//!   strictly increase, so "everything after this id" is exactly what the client has not seen.
//! * Bucket streams: timestamps are per list, not global (two collections may stamp out of
//!   commit order), so one number cannot say what was delivered. The id holds one cursor per
//!   list: `1.<collections>.<cid>~<records>.<cid>~<records>...` with timestamps in base 36,
//!   collections in id order, e.g. `1.mwrhewyv.recipes~mwrhexcs.tasks~0`. The first cursor is
//!   the bucket's collection list; then every collection the caller could read when the id was
//!   written, with the newest of its record changes delivered. A readable collection missing
//!   from an id is one the client never saw: it is replayed from its start. A plain number is
//!   also accepted and means that timestamp for every list (Kinto's `_since`).
//!   Ids are bounded: a bucket stream follows at most [`MAX_BUCKET_COLLECTIONS`] collections
//!   (about 2 KB of id with 10-character collection ids).

use std::collections::BTreeMap;

use crate::resource::ids;
use crate::resource::kind::Kind;

/// Collections a bucket stream follows at most.
pub const MAX_BUCKET_COLLECTIONS: usize = 100;

/// The version tag that starts bucket stream ids.
const VERSION: &str = "1";

/// Where a bucket stream stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketCursor {
    /// Every change of the bucket's collection list up to this timestamp was delivered.
    pub collections: i64,
    /// For each readable collection: every record change up to this timestamp was delivered.
    pub records: BTreeMap<String, i64>,
    /// The cursor of readable collections missing from `records`: 0 (from their start),
    /// or the number of a plain `_since` until the stream has looked at every collection.
    pub others: i64,
}

impl BucketCursor {
    /// Every list from `timestamp` on (a plain `_since`).
    pub fn uniform(timestamp: i64) -> BucketCursor {
        BucketCursor { collections: timestamp, records: BTreeMap::new(), others: timestamp }
    }

    /// The collection's cursor.
    pub fn of(&self, collection: &str) -> i64 {
        self.records.get(collection).copied().unwrap_or(self.others)
    }

    /// The id text (see the module doc).
    pub fn encode(&self) -> String {
        let mut id = format!("{VERSION}.{}", base36(self.collections));
        for (collection, timestamp) in &self.records {
            id.push('.');
            id.push_str(collection);
            id.push('~');
            id.push_str(&base36(*timestamp));
        }
        id
    }

    /// Reads an id (or a plain non-negative decimal timestamp); `None` when malformed.
    pub fn parse(text: &str) -> Option<BucketCursor> {
        let text = text.trim();
        if let Some(timestamp) = collection_id(text) {
            return Some(BucketCursor::uniform(timestamp));
        }
        let mut parts = text.split('.');
        if parts.next() != Some(VERSION) {
            return None;
        }
        let collections = from_base36(parts.next()?)?;
        let mut records = BTreeMap::new();
        for part in parts {
            let (collection, timestamp) = part.split_once('~')?;
            if !ids::is_valid(Kind::Collection, collection) || records.len() >= MAX_BUCKET_COLLECTIONS {
                return None;
            }
            records.insert(collection.to_owned(), from_base36(timestamp)?);
        }
        Some(BucketCursor { collections, records, others: 0 })
    }
}

/// A collection stream id: a non-negative decimal timestamp.
pub fn collection_id(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A non-negative number in base 36 (lower case).
fn base36(value: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rest = value.max(0) as u64;
    let mut out = Vec::with_capacity(13);
    loop {
        out.push(DIGITS[(rest % 36) as usize]);
        rest /= 36;
        if rest == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn from_base36(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 13 || !text.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) {
        return None;
    }
    i64::from_str_radix(text, 36).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base36_round_trips() {
        for value in [0, 1, 35, 36, 1_795_330_480_999, i64::MAX] {
            assert_eq!(from_base36(&base36(value)), Some(value), "{value}");
        }
        assert_eq!(base36(1_795_330_480_999), "mwrhewyv");
        assert_eq!(from_base36("-1"), None);
        assert_eq!(from_base36("ABC"), None);
        assert_eq!(from_base36(""), None);
    }

    #[test]
    fn bucket_ids_round_trip_and_stay_compact() {
        let mut cursor = BucketCursor::uniform(0);
        cursor.others = 0;
        cursor.collections = 1_795_330_480_999;
        cursor.records.insert("tasks".into(), 1_795_330_481_500);
        cursor.records.insert("recipes".into(), 0);
        let id = cursor.encode();
        assert_eq!(id, "1.mwrhewyv.recipes~0.tasks~mwrhexcs");
        assert_eq!(BucketCursor::parse(&id), Some(cursor));
    }

    #[test]
    fn a_plain_number_means_every_list_from_there() {
        let cursor = BucketCursor::parse("1795330480999").expect("a timestamp");
        assert_eq!(cursor.collections, 1_795_330_480_999);
        assert_eq!(cursor.of("anything"), 1_795_330_480_999);
        // A parsed composite id replays collections it does not name from their start.
        assert_eq!(BucketCursor::parse("1.0").map(|c| c.of("new")), Some(0));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in ["", "2.0", "1.", "1.0.c", "1.0.c~", "1.0.c~-5", "1.0.bad/id~1", "1.0._x~1", "abc", "-5"] {
            assert_eq!(BucketCursor::parse(bad), None, "{bad:?}");
        }
        let too_many: String = (0..=MAX_BUCKET_COLLECTIONS).map(|i| format!(".c{i}~1")).collect();
        assert_eq!(BucketCursor::parse(&format!("1.0{too_many}")), None);
    }

    #[test]
    fn collection_ids_are_decimal_timestamps() {
        assert_eq!(collection_id("1795330480999"), Some(1_795_330_480_999));
        assert_eq!(collection_id(" 12 "), Some(12));
        for bad in ["", "-1", "1.5", "1e3", "abc", "99999999999999999999"] {
            assert_eq!(collection_id(bad), None, "{bad:?}");
        }
    }
}
