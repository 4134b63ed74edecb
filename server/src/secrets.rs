//! Secrets the server needs but the settings may not give: the Basic Auth HMAC key. Until the
//! desktop app stores it in the OS keyring, it lives in a 0600 file in the data dir, created
//! on first start (and logged once), so user ids stay stable across restarts.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// The `userid_hmac_secret` from settings, or the one kept in `data_dir`.
pub fn userid_secret(configured: Option<&str>, data_dir: &Path) -> std::io::Result<String> {
    if let Some(secret) = configured {
        return Ok(secret.to_owned());
    }
    let path = data_dir.join("userid_hmac_secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    std::fs::create_dir_all(data_dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    tracing::warn!(path = %path.display(), "created a userid_hmac_secret in a 0600 file (no keyring used by the CLI)");
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_kept() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let first = userid_secret(None, dir.path())?;
        assert_eq!(first.len(), 64);
        assert_eq!(userid_secret(None, dir.path())?, first);
        assert_eq!(userid_secret(Some("given"), dir.path())?, "given");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("userid_hmac_secret"))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }
}
