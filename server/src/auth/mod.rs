//! Authentication (who is calling: policies in `multiauth.policies` order, AUTH-MULTI) and the
//! caller's principals (PERM-PRINCIPALS); permission rules live in [`permission`].

pub mod basic;
pub mod permission;

use http::HeaderMap;

use crate::error::ApiError;
use crate::plugins::accounts::VerifiedCache;
use crate::settings::{PolicyKind, Settings};
use crate::storage::{StorageResult, Store, Tx};

pub const EVERYONE: &str = "system.Everyone";
pub const AUTHENTICATED: &str = "system.Authenticated";

/// The authenticated user id of a request: the first policy of `multiauth.policies` that
/// recognises its credentials wins (AUTH-MULTI); none is anonymous.
pub async fn authenticate(
    headers: &HeaderMap,
    settings: &Settings,
    userid_secret: &str,
    store: &Store,
    accounts: &VerifiedCache,
) -> Option<String> {
    let header = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let credentials = basic::parse_basic(header)?;
    for policy in &settings.auth_policies {
        match policy.kind {
            PolicyKind::BasicAuth => {
                return Some(basic::basicauth_user_id(&policy.name, userid_secret, &credentials));
            }
            PolicyKind::Account => {
                if let Some(user_id) =
                    crate::plugins::accounts::authenticate(store, accounts, settings, &credentials).await
                {
                    return Some(user_id);
                }
            }
        }
    }
    None
}

/// Everything a caller is: user id first, then the system principals and group principals.
pub fn principals(tx: &mut dyn Tx, user_id: Option<&str>) -> StorageResult<Vec<String>> {
    match user_id {
        None => Ok(vec![EVERYONE.to_owned()]),
        Some(user_id) => {
            let mut principals = vec![user_id.to_owned(), EVERYONE.to_owned(), AUTHENTICATED.to_owned()];
            for group in tx.member_of(&[user_id, AUTHENTICATED])? {
                if !principals.contains(&group) {
                    principals.push(group);
                }
            }
            Ok(principals)
        }
    }
}

/// The refusal for a caller without the permission: 401 when anonymous, else 403.
pub fn deny(settings: &Settings, user_id: Option<&str>) -> ApiError {
    match user_id {
        None => ApiError::Unauthorized { challenges: challenges(settings) },
        Some(_) => ApiError::Forbidden,
    }
}

/// One `WWW-Authenticate` challenge per configured policy.
pub fn challenges(settings: &Settings) -> Vec<String> {
    settings.auth_policies.iter().map(|p| format!("Basic realm=\"{}\"", p.realm)).collect()
}
