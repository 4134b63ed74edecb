//! Session tokens: random bearer tokens minted in-process (the desktop app hands one to its
//! window over IPC) that authenticate as a given user id until the server stops. Only their
//! SHA-256 digests are kept, and they are never written to disk.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

/// Live session tokens; cheap to clone.
#[derive(Clone, Default)]
pub struct SessionTokens {
    by_digest: Arc<RwLock<HashMap<[u8; 32], String>>>,
}

impl SessionTokens {
    /// A new token for `user_id` (e.g. `account:admin`): 256 random bits, URL-safe base64.
    pub fn mint(&self, user_id: &str) -> String {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if let Ok(mut map) = self.by_digest.write() {
            map.insert(digest(&token), user_id.to_owned());
        }
        token
    }

    /// The user id of `token`, if it is live.
    pub fn user_id(&self, token: &str) -> Option<String> {
        self.by_digest.read().ok()?.get(&digest(token)).cloned()
    }

    /// Ends a token's session.
    pub fn revoke(&self, token: &str) {
        if let Ok(mut map) = self.by_digest.write() {
            map.remove(&digest(token));
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn parse_bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_authenticate_until_revoked() {
        let tokens = SessionTokens::default();
        let token = tokens.mint("account:admin");
        assert_eq!(token.len(), 43);
        assert_eq!(tokens.user_id(&token).as_deref(), Some("account:admin"));
        assert_eq!(tokens.user_id("forged"), None);
        assert_ne!(tokens.mint("account:admin"), token);
        tokens.revoke(&token);
        assert_eq!(tokens.user_id(&token), None);
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(parse_bearer("Bearer abc"), Some("abc"));
        assert_eq!(parse_bearer("bearer  abc "), Some("abc"));
        assert_eq!(parse_bearer("Basic abc"), None);
        assert_eq!(parse_bearer("Bearer "), None);
        assert_eq!(parse_bearer("Bearer"), None);
    }
}
