//! The accounts plugin (ACCT-*): accounts are objects at `/accounts/{id}` whose `password` is
//! stored as a bcrypt hash; the `account` authentication policy checks Basic credentials
//! against them, with a cache so that an authenticated request does not pay a bcrypt check
//! every time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::basic::BasicCredentials;
use crate::error::{ApiError, Detail};
use crate::settings::Settings;
use crate::storage::Store;

/// bcrypt cost, as Kinto (`$2b$12$`).
const BCRYPT_COST: u32 = 12;

/// The principal that owns account `id`.
pub fn owner(id: &str) -> String {
    format!("account:{id}")
}

/// Whether the caller administers accounts (`account_write_principals`).
pub fn is_admin(settings: &Settings, principals: &[String]) -> bool {
    settings.granted_principals("account", "write").iter().any(|p| principals.contains(p))
}

/// ACCT-CREATE: an authenticated non-admin may only create their own account.
pub fn check_creation(
    settings: &Settings,
    principals: &[String],
    user_id: Option<&str>,
    id: &str,
) -> Result<(), ApiError> {
    match user_id {
        Some(user) if !is_admin(settings, principals) && user != owner(id) => {
            Err(ApiError::Invalid(vec![Detail::body("data.id", "Username and account ID do not match.")]))
        }
        _ => Ok(()),
    }
}

/// The 400 of a POST without `data.id` (Kinto repeats the prefix in the description).
pub fn missing_id() -> ApiError {
    ApiError::Invalid(vec![Detail::body("data.id", "data.id in body: Required")])
}

/// Hashes a password with bcrypt, off the async threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, BCRYPT_COST))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing stopped: {e}")))?
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
}

/// Recently verified credentials: `username` → (digest of the password, the stored hash it
/// matched, when). A changed password changes the stored hash, which voids the entry.
#[derive(Default)]
pub struct VerifiedCache {
    entries: Mutex<HashMap<String, Verified>>,
}

/// One verified login: the password's digest, the hash it matched, when.
type Verified = (Vec<u8>, String, Instant);

impl VerifiedCache {
    fn digest(credentials: &BasicCredentials) -> Vec<u8> {
        Sha256::digest(format!("{}:{}", credentials.username, credentials.password).as_bytes()).to_vec()
    }

    fn hit(&self, credentials: &BasicCredentials, stored_hash: &str, ttl: Duration) -> bool {
        let digest = Self::digest(credentials);
        self.entries.lock().is_ok_and(|entries| {
            entries
                .get(&credentials.username)
                .is_some_and(|(d, hash, at)| *d == digest && hash == stored_hash && at.elapsed() < ttl)
        })
    }

    fn remember(&self, credentials: &BasicCredentials, stored_hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(
                credentials.username.clone(),
                (Self::digest(credentials), stored_hash.to_owned(), Instant::now()),
            );
        }
    }
}

/// ACCT-AUTH: `account:<username>` when the account exists and the password matches.
pub async fn authenticate(
    store: &Store,
    cache: &VerifiedCache,
    settings: &Settings,
    credentials: &BasicCredentials,
) -> Option<String> {
    if !crate::resource::ids::is_valid(crate::resource::kind::Kind::Account, &credentials.username) {
        return None;
    }
    let username = credentials.username.clone();
    let account = store
        .read(move |tx| tx.get("", "account", &username).map_err(ApiError::from))
        .await
        .ok()
        .flatten()
        .filter(|a| !a.deleted)?;
    let stored_hash = account.data.get("password").and_then(Value::as_str)?.to_owned();
    let ttl = Duration::from_secs(settings.extra_i64("account_cache_ttl_seconds").unwrap_or(30).max(0) as u64);
    if cache.hit(credentials, &stored_hash, ttl) {
        return Some(owner(&credentials.username));
    }
    let password = credentials.password.clone();
    let hash = stored_hash.clone();
    let valid = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false)).await.ok()?;
    if valid {
        cache.remember(credentials, &stored_hash);
        Some(owner(&credentials.username))
    } else {
        None
    }
}

/// Creates or resets an account directly in the store (the `kintoun account add` command):
/// the account owns itself, as when it signs up.
pub async fn put_account(store: &Store, username: &str, password: &str) -> Result<(), ApiError> {
    if !crate::resource::ids::is_valid(crate::resource::kind::Kind::Account, username) {
        return Err(ApiError::invalid_object_id());
    }
    let hash = hash_password(password.to_owned()).await?;
    let username = username.to_owned();
    store
        .write(move |tx| {
            let mut data = serde_json::Map::new();
            data.insert("password".into(), Value::String(hash));
            tx.put("", "account", &username, data, crate::storage::Stamp::Now)?;
            let mut acl = crate::storage::Acl::new();
            acl.entry("write".to_owned()).or_default().insert(owner(&username));
            tx.set_acl(&format!("/accounts/{username}"), &acl)?;
            Ok::<_, ApiError>(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_admins_create_only_their_own_account() {
        let settings = Settings::default();
        let bob = vec!["account:bob".to_owned()];
        assert!(check_creation(&settings, &bob, Some("account:bob"), "bob").is_ok());
        assert!(check_creation(&settings, &bob, Some("account:bob"), "eve").is_err());
        assert!(check_creation(&settings, &[], None, "eve").is_ok());
    }

    #[test]
    fn the_cache_is_voided_by_a_new_hash() {
        let cache = VerifiedCache::default();
        let credentials = BasicCredentials { username: "bob".into(), password: "pw".into() };
        cache.remember(&credentials, "hash1");
        assert!(cache.hit(&credentials, "hash1", Duration::from_secs(30)));
        assert!(!cache.hit(&credentials, "hash2", Duration::from_secs(30)));
        let wrong = BasicCredentials { username: "bob".into(), password: "nope".into() };
        assert!(!cache.hit(&wrong, "hash1", Duration::from_secs(30)));
        assert!(!cache.hit(&credentials, "hash1", Duration::from_secs(0)));
    }
}
