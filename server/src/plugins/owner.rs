//! The desktop owner: the account that administers the others (`account:admin` by default).
//! On first start it is created with a random password kept in the secrets store, so the
//! desktop app, `kintoun` commands and the user's browser can all sign in as the owner.

use crate::error::ApiError;
use crate::secrets::{SecretError, SecretSource, SecretStore};
use crate::settings::{PolicyKind, Settings};
use crate::storage::Store;

/// The secrets-store name of the owner's password.
pub const PASSWORD_SECRET: &str = "owner-password";

/// Who the owner is and how to sign in as them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Owner {
    /// The account id, e.g. `admin`.
    pub account: String,
    /// The principal, e.g. `account:admin`.
    pub user_id: String,
    /// `None` when the account was created elsewhere and its password was never stored.
    pub password: Option<String>,
    /// Where the password is kept.
    pub source: Option<SecretSource>,
    /// Whether this start created the account.
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("the owner's password: {0}")]
    Secret(#[from] SecretError),
    #[error("the owner account: {0}")]
    Account(#[from] ApiError),
}

/// The owner's account id, when these settings have one: `owner_account` is set, accounts
/// authenticate requests, and that account administers accounts.
pub fn owner_account(settings: &Settings) -> Option<&str> {
    let account = settings.owner_account.as_str();
    let principal = crate::plugins::accounts::owner(account);
    let administers = settings.granted_principals("account", "create").contains(&principal);
    let accounts_on =
        settings.includes("accounts") && settings.auth_policies.iter().any(|p| p.kind == PolicyKind::Account);
    (!account.is_empty() && accounts_on && administers).then_some(account)
}

/// Makes sure the owner account exists; creates it (and its password) on first start.
pub async fn ensure(settings: &Settings, store: &Store, secrets: &SecretStore) -> Result<Option<Owner>, OwnerError> {
    let Some(account) = owner_account(settings) else { return Ok(None) };
    let id = account.to_owned();
    let exists = store
        .read(move |tx| tx.get("", "account", &id).map(|found| found.is_some_and(|o| !o.deleted)))
        .await
        .map_err(ApiError::from)?;
    let user_id = crate::plugins::accounts::owner(account);
    let secrets = secrets.clone();
    let stored = tokio::task::spawn_blocking(move || secrets.get(PASSWORD_SECRET).map(|found| (found, secrets)))
        .await
        .map_err(|e| ApiError::Internal(format!("secrets lookup stopped: {e}")))??;
    let (found, secrets) = stored;
    if exists {
        let (password, source) = found.map_or((None, None), |(password, source)| (Some(password), Some(source)));
        if password.is_none() {
            tracing::info!(account, "the owner account exists but its password is not stored here");
        }
        return Ok(Some(Owner { account: account.to_owned(), user_id, password, source, created: false }));
    }
    let (password, source) = match found {
        Some(found) => found,
        None => {
            let password = crate::secrets::random_hex()[..32].to_owned();
            let value = password.clone();
            let source = tokio::task::spawn_blocking(move || secrets.set(PASSWORD_SECRET, &value))
                .await
                .map_err(|e| ApiError::Internal(format!("secrets store stopped: {e}")))??;
            (password, source)
        }
    };
    crate::plugins::accounts::put_account(store, account, &password).await?;
    tracing::info!(account, source = ?source, "created the owner account");
    Ok(Some(Owner {
        account: account.to_owned(),
        user_id,
        password: Some(password),
        source: Some(source),
        created: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_the_account_administrator() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(owner_account(&Settings::default()), Some("admin"));
        let none = Settings::from_toml_str("owner_account = \"\"")?;
        assert_eq!(owner_account(&none), None);
        // Kinto's own configuration: anyone creates accounts, so nobody is the owner.
        let open = Settings::from_toml_str("account_create_principals = \"system.Everyone\"")?;
        assert_eq!(owner_account(&open), None);
        let other = Settings::from_toml_str(
            "owner_account = \"me\"\naccount_create_principals = \"account:me\"\naccount_write_principals = \"account:me\"",
        )?;
        assert_eq!(owner_account(&other), Some("me"));
        Ok(())
    }
}
