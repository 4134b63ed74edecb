//! Kinto's Basic Auth policy (AUTH-BASIC): any `user:password` is accepted and identified as
//! `<policy>:<hex HMAC-SHA256(userid_hmac_secret, "user:password")>`.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Credentials from an `Authorization: Basic ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub username: String,
    pub password: String,
}

/// Parses `Basic <base64(user:password)>`; `None` when absent, malformed or the user is empty.
pub fn parse_basic(header: &str) -> Option<BasicCredentials> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    // UTF-8, falling back to Latin-1 as Kinto does.
    let text = match String::from_utf8(decoded) {
        Ok(text) => text,
        Err(err) => err.into_bytes().iter().map(|&b| b as char).collect(),
    };
    let (username, password) = text.split_once(':')?;
    if username.is_empty() {
        return None;
    }
    Some(BasicCredentials { username: username.to_owned(), password: password.to_owned() })
}

/// Lower-case hex HMAC-SHA256 of `message` keyed by `secret`.
pub fn hmac_hex(secret: &str, message: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The user id of Basic credentials under a policy named `prefix`.
pub fn basicauth_user_id(prefix: &str, secret: &str, credentials: &BasicCredentials) -> String {
    let digest = hmac_hex(secret, &format!("{}:{}", credentials.username, credentials.password));
    format!("{prefix}:{digest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_kintos_fixture() {
        let credentials = BasicCredentials { username: "mat".into(), password: "secret".into() };
        assert_eq!(
            basicauth_user_id("basicauth", "", &credentials),
            "basicauth:8a931a10fc88ab2f6d1cc02a07d3a81b5d4768f6f13e85c5d8d4180419acb1b4"
        );
        let alice = BasicCredentials { username: "alice".into(), password: "secret".into() };
        assert_eq!(
            basicauth_user_id("basicauth", "s1", &alice),
            "basicauth:530858b6b1e61523a8c7da868b0dd09a15df78a3c32e65080293597de3d06a99"
        );
    }

    #[test]
    fn parses_headers_leniently() {
        assert_eq!(
            parse_basic("Basic YWxpY2U6c2VjcmV0"),
            Some(BasicCredentials { username: "alice".into(), password: "secret".into() })
        );
        assert_eq!(parse_basic("Basic Om5vdXNlcg=="), None); // ":nouser"
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic"), None);
    }
}
