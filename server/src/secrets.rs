//! Where the server's secrets live: the OS keyring (Secret Service, Keychain, Credential
//! Manager through `keyring`) when one answers, else a 0600 file under `<data dir>/secrets/`
//! with one warning per process. Each data directory has its own entries, so two instances (or
//! a test run) never share a secret by accident.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The keyring service every entry is filed under.
const KEYRING_SERVICE: &str = "kintoun";

/// Where a secret was found or put.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum SecretSource {
    /// Given in the settings (e.g. `userid_hmac_secret`).
    Settings,
    /// The OS keyring.
    Keyring,
    /// A 0600 file (no keyring available, or `secrets_backend = "file"`).
    File(PathBuf),
}

/// Which store to use: `secrets_backend` (`auto`, `keyring`, `file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretsBackend {
    /// The keyring when it answers, else the file.
    #[default]
    Auto,
    /// The keyring only: an error when it does not answer.
    Keyring,
    /// The file only (headless servers, tests).
    File,
}

impl std::str::FromStr for SecretsBackend {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(SecretsBackend::Auto),
            "keyring" => Ok(SecretsBackend::Keyring),
            "file" => Ok(SecretsBackend::File),
            other => Err(format!("{other:?} is not one of auto, keyring, file")),
        }
    }
}

/// Why a secret could not be read or kept.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring is not available: {0}")]
    NoKeyring(String),
    #[error("the secret file {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("{0:?} is not a valid secret name")]
    BadName(String),
}

/// The secrets of one data directory.
#[derive(Debug, Clone)]
pub struct SecretStore {
    data_dir: PathBuf,
    backend: SecretsBackend,
}

/// What the keyring said about one entry.
enum KeyringAnswer {
    Found(String),
    Missing,
    Unavailable(String),
}

impl SecretStore {
    pub fn new(data_dir: &Path, backend: SecretsBackend) -> SecretStore {
        SecretStore { data_dir: data_dir.to_path_buf(), backend }
    }

    /// The secret `name`, wherever it is kept. A file wins over the keyring: it was written when
    /// no keyring answered, and must still be found once one does.
    pub fn get(&self, name: &str) -> Result<Option<(String, SecretSource)>, SecretError> {
        let path = self.file_path(name)?;
        if self.backend != SecretsBackend::Keyring {
            if let Some(value) = read_file(&path)? {
                return Ok(Some((value, SecretSource::File(path))));
            }
            if self.backend == SecretsBackend::File {
                return Ok(None);
            }
        }
        match self.keyring_get(name) {
            KeyringAnswer::Found(value) => Ok(Some((value, SecretSource::Keyring))),
            KeyringAnswer::Missing => Ok(None),
            KeyringAnswer::Unavailable(_) if self.backend == SecretsBackend::Auto => Ok(None),
            KeyringAnswer::Unavailable(why) => Err(SecretError::NoKeyring(why)),
        }
    }

    /// Keeps `value` as the secret `name`: in the keyring when it answers (a file copy is then
    /// removed), else in the file.
    pub fn set(&self, name: &str, value: &str) -> Result<SecretSource, SecretError> {
        let path = self.file_path(name)?;
        if self.backend != SecretsBackend::File {
            match self.keyring_set(name, value) {
                Ok(()) => {
                    remove_file(&path)?;
                    return Ok(SecretSource::Keyring);
                }
                Err(why) if self.backend == SecretsBackend::Keyring => return Err(SecretError::NoKeyring(why)),
                Err(why) => warn_fallback(&why, &self.data_dir),
            }
        }
        write_file(&path, value)?;
        Ok(SecretSource::File(path))
    }

    /// The secret `name`, created with `make` (and kept) when there is none yet.
    pub fn get_or_create(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<(String, SecretSource), SecretError> {
        if let Some(found) = self.get(name)? {
            return Ok(found);
        }
        let value = make();
        let source = self.set(name, &value)?;
        Ok((value, source))
    }

    /// Forgets the secret `name` everywhere it may be kept.
    pub fn delete(&self, name: &str) -> Result<(), SecretError> {
        remove_file(&self.file_path(name)?)?;
        if self.backend != SecretsBackend::File {
            if let Ok(entry) = self.entry(name) {
                match entry.delete_credential() {
                    Ok(()) | Err(keyring::Error::NoEntry) => {}
                    Err(err) if self.backend == SecretsBackend::Keyring => {
                        return Err(SecretError::NoKeyring(err.to_string()));
                    }
                    Err(_) => {}
                }
            }
        }
        Ok(())
    }

    fn file_path(&self, name: &str) -> Result<PathBuf, SecretError> {
        let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SecretError::BadName(name.to_owned()));
        }
        Ok(self.data_dir.join("secrets").join(name))
    }

    /// The keyring entry of `name` for this data directory.
    fn entry(&self, name: &str) -> Result<keyring::Entry, String> {
        let dir = self.data_dir.canonicalize().unwrap_or_else(|_| self.data_dir.clone());
        keyring::Entry::new(KEYRING_SERVICE, &format!("{name}@{}", dir.display())).map_err(|e| e.to_string())
    }

    fn keyring_get(&self, name: &str) -> KeyringAnswer {
        let entry = match self.entry(name) {
            Ok(entry) => entry,
            Err(why) => return KeyringAnswer::Unavailable(why),
        };
        match entry.get_password() {
            Ok(value) => KeyringAnswer::Found(value),
            Err(keyring::Error::NoEntry) => KeyringAnswer::Missing,
            Err(err) => KeyringAnswer::Unavailable(err.to_string()),
        }
    }

    fn keyring_set(&self, name: &str, value: &str) -> Result<(), String> {
        let entry = self.entry(name)?;
        entry.set_password(value).map_err(|e| e.to_string())?;
        // A locked or half-working Secret Service may accept a write it cannot give back.
        match entry.get_password() {
            Ok(back) if back == value => Ok(()),
            Ok(_) => Err("the keyring gave back another value".into()),
            Err(err) => Err(err.to_string()),
        }
    }
}

/// Logs once per process that secrets are kept in files.
fn warn_fallback(why: &str, data_dir: &Path) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            reason = %why,
            dir = %data_dir.join("secrets").display(),
            "no OS keyring answered: secrets are kept unprotected in 0600 files in the data directory"
        );
    });
}

fn read_file(path: &Path) -> Result<Option<String>, SecretError> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        Ok(_) => Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretError::File { path: path.to_owned(), source }),
    }
}

fn remove_file(path: &Path) -> Result<(), SecretError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SecretError::File { path: path.to_owned(), source }),
    }
}

/// Writes a 0600 file (in a 0700 directory) and syncs it, through a temporary name so a crash
/// never leaves half a secret.
fn write_file(path: &Path, value: &str) -> Result<(), SecretError> {
    let fail = |source| SecretError::File { path: path.to_owned(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(fail)?;
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(fail)?;
    file.write_all(value.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(fail)?;
    Ok(())
}

/// 32 random bytes as hex: a fresh key.
pub fn random_hex() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trip_with_0600() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = SecretStore::new(dir.path(), SecretsBackend::File);
        assert_eq!(store.get("owner-password")?, None);
        let (first, source) = store.get_or_create("owner-password", random_hex)?;
        let path = dir.path().join("secrets").join("owner-password");
        assert_eq!(source, SecretSource::File(path.clone()));
        assert_eq!(first.len(), 64);
        let (again, _) = store.get_or_create("owner-password", || "other".into())?;
        assert_eq!(again, first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(path.parent().ok_or("no parent")?)?.permissions().mode() & 0o777, 0o700);
        }
        store.set("owner-password", "changed")?;
        assert_eq!(store.get("owner-password")?.map(|(v, _)| v).as_deref(), Some("changed"));
        store.delete("owner-password")?;
        assert_eq!(store.get("owner-password")?, None);
        Ok(())
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        let dir = std::env::temp_dir();
        let store = SecretStore::new(&dir, SecretsBackend::File);
        for bad in ["", "../x", "a/b", "a b"] {
            assert!(matches!(store.get(bad), Err(SecretError::BadName(_))), "{bad:?}");
        }
    }

    /// Without a session bus (as under `cargo test` on a headless machine) `auto` falls back to
    /// the file and `keyring` refuses; where a keyring answers, `auto` uses it.
    #[test]
    fn auto_falls_back_to_the_file_when_no_keyring_answers() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let auto = SecretStore::new(dir.path(), SecretsBackend::Auto);
        let keyring_works = SecretStore::new(dir.path(), SecretsBackend::Keyring).set("probe", "x").is_ok();
        let source = auto.set("userid-hmac-secret", "k1")?;
        if keyring_works {
            assert_eq!(source, SecretSource::Keyring);
            auto.delete("probe")?;
        } else {
            assert!(matches!(source, SecretSource::File(_)));
            assert!(SecretStore::new(dir.path(), SecretsBackend::Keyring).get("userid-hmac-secret").is_err());
        }
        assert_eq!(auto.get("userid-hmac-secret")?.map(|(v, _)| v).as_deref(), Some("k1"));
        auto.delete("userid-hmac-secret")?;
        assert_eq!(auto.get("userid-hmac-secret")?, None);
        Ok(())
    }
}
