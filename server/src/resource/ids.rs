//! Object ids: validation (OBJ-ID-REGEX) and generation.

use rand::Rng;

use crate::resource::kind::Kind;

const FIRST: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const REST: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Whether `id` is a valid id for this kind: `^[a-zA-Z0-9][a-zA-Z0-9_-]*$`, and for accounts
/// `^[a-zA-Z0-9][+.@a-zA-Z0-9_-]*$` (e-mail addresses).
pub fn is_valid(kind: Kind, id: &str) -> bool {
    let mut bytes = id.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    let extra: &[u8] = if kind == Kind::Account { b"_-+.@" } else { b"_-" };
    bytes.all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// A new id: a lower-case UUID4 for records, 8 name characters otherwise.
pub fn generate(kind: Kind) -> String {
    match kind {
        Kind::Record => uuid::Uuid::new_v4().to_string(),
        _ => {
            let mut rng = rand::rng();
            let mut id = String::with_capacity(8);
            id.push(FIRST[rng.random_range(0..FIRST.len())] as char);
            for _ in 0..7 {
                id.push(REST[rng.random_range(0..REST.len())] as char);
            }
            id
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_kinto() {
        assert!(is_valid(Kind::Record, "a-b_c9"));
        assert!(!is_valid(Kind::Record, "_a"));
        assert!(!is_valid(Kind::Record, "a b"));
        assert!(!is_valid(Kind::Record, ""));
        assert!(!is_valid(Kind::Record, "é"));
        assert!(is_valid(Kind::Account, "bob.smith+x@example.com"));
        assert!(!is_valid(Kind::Record, "bob@example.com"));
    }

    #[test]
    fn generated_ids_are_valid() {
        for kind in [Kind::Bucket, Kind::Collection, Kind::Group, Kind::Record] {
            let id = generate(kind);
            assert!(is_valid(kind, &id), "{id}");
        }
        assert_eq!(generate(Kind::Bucket).len(), 8);
        assert_eq!(generate(Kind::Record).len(), 36);
    }
}
