//! Authentication (who is calling: policies in `multiauth.policies` order, AUTH-MULTI) and the
//! caller's principals (PERM-PRINCIPALS); permission rules live in [`permission`].

pub mod basic;
pub mod permission;
pub mod session;

use http::HeaderMap;

use crate::error::ApiError;
use crate::plugins::accounts::VerifiedCache;
use crate::settings::{PolicyKind, Settings};
use crate::storage::{StorageResult, Store, Tx};

pub const EVERYONE: &str = "system.Everyone";
pub const AUTHENTICATED: &str = "system.Authenticated";

/// The user id a listener established itself before any HTTP was read (e.g. `device:<id>`
/// from a pinned mutual-TLS handshake). A request carrying it as an axum extension
/// authenticates as that user, whatever its `Authorization` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportIdentity(pub String);

/// What a request presents to prove who it is.
pub struct Presented<'a> {
    pub headers: &'a HeaderMap,
    pub transport: Option<&'a str>,
}

impl Presented<'_> {
    fn origin(&self) -> Option<&str> {
        self.headers.get(http::header::ORIGIN).and_then(|v| v.to_str().ok())
    }
}

/// The authenticated user id of a request: a transport identity, else a bearer token (a live
/// session token, or a connected app's token, which must come from its own origin), else the
/// first policy of `multiauth.policies` that recognises its Basic credentials (AUTH-MULTI);
/// none is anonymous. A refused app token is an error, not anonymity.
pub async fn authenticate(
    presented: Presented<'_>,
    settings: &Settings,
    userid_secret: &str,
    store: &Store,
    accounts: &VerifiedCache,
    sessions: &session::SessionTokens,
) -> Result<Option<String>, ApiError> {
    if let Some(user_id) = presented.transport {
        return Ok(Some(user_id.to_owned()));
    }
    let Some(header) = presented.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(token) = session::parse_bearer(header) {
        if let Some(user_id) = sessions.user_id(token) {
            return Ok(Some(user_id));
        }
        return match crate::plugins::apps::check_token(store, token, presented.origin()).await {
            crate::plugins::apps::TokenCheck::Valid(user_id) => Ok(Some(user_id)),
            crate::plugins::apps::TokenCheck::Refused(why) => Err(ApiError::TokenRefused(why)),
            crate::plugins::apps::TokenCheck::NotApp => Ok(None),
        };
    }
    Ok(basic_user(header, settings, userid_secret, store, accounts).await)
}

/// The user id of Basic credentials under the configured policies.
async fn basic_user(
    header: &str,
    settings: &Settings,
    userid_secret: &str,
    store: &Store,
    accounts: &VerifiedCache,
) -> Option<String> {
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
