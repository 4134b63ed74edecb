//! The content-addressed file store under `<data_dir>/attachments/` (or `attachment.base_path`).
//!
//! A file is named by the SHA-256 of its bytes plus the upload's extension, in a directory
//! named by the hash's first two hex digits: `ab/abcdef….png`. Writes go to a temporary
//! file, are fsynced, then renamed into place (and the directory fsynced), so a crash never
//! leaves a partial file under a final name. Identical uploads share one file: reference
//! counting (not removing a file another record still uses) is the caller's job.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What [`FileStore::store`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Relative location, e.g. `ab/abcdef….png`: what [`FileStore::path_of`] accepts.
    pub location: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub hash: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// The store in `<data_dir>/attachments`.
    pub fn new(data_dir: &Path) -> Self {
        FileStore { root: data_dir.join("attachments") }
    }

    /// The store in exactly `root` (`attachment.base_path`).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        FileStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores the bytes (blocking I/O: call from `spawn_blocking`). `extension` (without dot)
    /// is lower-cased and dropped unless short and alphanumeric.
    pub fn store(&self, bytes: &[u8], extension: Option<&str>) -> io::Result<StoredFile> {
        let hash = hex::encode(Sha256::digest(bytes));
        let extension = extension
            .map(|e| e.trim_start_matches('.'))
            .filter(|e| !e.is_empty() && e.len() <= 16 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|e| format!(".{}", e.to_ascii_lowercase()))
            .unwrap_or_default();
        let name = format!("{hash}{extension}");
        let location = format!("{}/{name}", &hash[..2]);
        let stored = StoredFile { location, hash: hash.clone(), size: bytes.len() as u64 };
        let dir = self.root.join(&hash[..2]);
        let target = dir.join(&name);
        if fs::metadata(&target).is_ok_and(|m| m.is_file() && m.len() == stored.size) {
            return Ok(stored);
        }
        fs::create_dir_all(&dir)?;
        let temp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let written = write_synced(&temp, bytes).and_then(|()| fs::rename(&temp, &target));
        if let Err(err) = written {
            let _ = fs::remove_file(&temp);
            return Err(err);
        }
        sync_dir(&dir);
        Ok(stored)
    }

    /// The stored file holding the content with this SHA-256 (whatever its extension), if any:
    /// how the replicator finds a record's file by its `attachment.hash`. Blocking I/O.
    pub fn find(&self, hash: &str) -> io::Result<Option<StoredFile>> {
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let dir = self.root.join(&hash[..2]);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let named_so = name == hash || name.strip_prefix(hash.as_str()).is_some_and(|rest| rest.starts_with('.'));
            let metadata = entry.metadata()?;
            if named_so && metadata.is_file() {
                let location = format!("{}/{name}", &hash[..2]);
                return Ok(Some(StoredFile { location, hash, size: metadata.len() }));
            }
        }
        Ok(None)
    }

    /// The bytes of a stored file (blocking I/O).
    pub fn read(&self, location: &str) -> io::Result<Vec<u8>> {
        let path = self
            .path_of(location)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("not a stored location: {location}")))?;
        fs::read(path)
    }

    /// Removes a stored file (a missing file is not an error); an unsafe location is
    /// `InvalidInput`. The emptied hash directory is removed too.
    pub fn remove(&self, location: &str) -> io::Result<()> {
        let path = self
            .path_of(location)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("not a stored location: {location}")))?;
        match fs::remove_file(&path) {
            Ok(()) => {
                if let Some(dir) = path.parent().filter(|d| *d != self.root) {
                    // Fails (harmlessly) while the directory still holds files.
                    let _ = fs::remove_dir(dir);
                }
                Ok(())
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// The file for a relative location, or `None` when the location could escape the store:
    /// empty, absolute, `.`/`..` or hidden components (temporary files), characters outside
    /// `A-Z a-z 0-9 . _ -`.
    pub fn path_of(&self, location: &str) -> Option<PathBuf> {
        if location.is_empty() || location.len() > 512 {
            return None;
        }
        let mut path = self.root.clone();
        for component in location.split('/') {
            let safe = !component.is_empty()
                && !component.starts_with('.')
                && component.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !safe {
                return None;
            }
            path.push(component);
        }
        Some(path)
    }

    /// Heartbeat check: whether a file can be written and removed in the store.
    pub fn check(&self) -> bool {
        let probe = self.root.join(format!(".heartbeat-{}", uuid::Uuid::new_v4().simple()));
        let ok = fs::create_dir_all(&self.root).and_then(|()| fs::write(&probe, b"{\"test\": \"write\"}")).is_ok();
        ok && fs::remove_file(&probe).is_ok()
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes a rename durable (directories cannot be opened for syncing on Windows: skipped).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(err) = fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(error = %err, dir = %dir.display(), "could not fsync the attachments directory");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn stores_by_content_hash_and_deduplicates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        let stored = store.store(b"hello", Some("PNG")).expect("store");
        assert_eq!(stored.hash, HELLO_SHA256);
        assert_eq!(stored.size, 5);
        assert_eq!(stored.location, format!("2c/{HELLO_SHA256}.png"));
        let path = dir.path().join("attachments").join("2c").join(format!("{HELLO_SHA256}.png"));
        assert_eq!(fs::read(&path).expect("read"), b"hello");
        assert_eq!(store.path_of(&stored.location), Some(path.clone()));

        let again = store.store(b"hello", Some("png")).expect("store again");
        assert_eq!(again, stored);
        let entries: Vec<_> = fs::read_dir(path.parent().expect("parent")).expect("ls").collect();
        assert_eq!(entries.len(), 1, "no temporary file left behind");

        let other_ext = store.store(b"hello", None).expect("store without extension");
        assert_eq!(other_ext.location, format!("2c/{HELLO_SHA256}"));
        let weird_ext = store.store(b"hello", Some("p/ng")).expect("store with unsafe extension");
        assert_eq!(weird_ext.location, other_ext.location);
    }

    #[test]
    fn finds_files_by_hash_whatever_their_extension() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        assert_eq!(store.find(HELLO_SHA256).expect("find in an empty store"), None);
        let stored = store.store(b"hello", Some("txt")).expect("store");
        assert_eq!(store.find(HELLO_SHA256).expect("find"), Some(stored.clone()));
        assert_eq!(store.find(&HELLO_SHA256.to_uppercase()).expect("find upper-case"), Some(stored.clone()));
        assert_eq!(store.read(&stored.location).expect("read"), b"hello");
        for bad in ["", "2c", "../../etc/passwd", &format!("{}x", &HELLO_SHA256[..63])] {
            assert_eq!(store.find(bad).expect("a bad hash finds nothing"), None, "{bad}");
        }
        let other = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9825";
        assert_eq!(store.find(other).expect("another hash in the same directory"), None);
    }

    #[test]
    fn rewrites_a_truncated_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        let stored = store.store(b"hello", Some("txt")).expect("store");
        let path = store.path_of(&stored.location).expect("path");
        fs::write(&path, b"he").expect("truncate");
        store.store(b"hello", Some("txt")).expect("store again");
        assert_eq!(fs::read(&path).expect("read"), b"hello");
    }

    #[test]
    fn removes_files_and_empty_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::at(dir.path().join("files"));
        let stored = store.store(b"", Some("txt")).expect("store");
        let path = store.path_of(&stored.location).expect("path");
        assert!(path.is_file());
        store.remove(&stored.location).expect("remove");
        assert!(!path.exists());
        assert!(!path.parent().expect("parent").exists());
        store.remove(&stored.location).expect("removing twice is fine");
        assert_eq!(store.remove("../etc/passwd").map_err(|e| e.kind()), Err(io::ErrorKind::InvalidInput));
    }

    #[test]
    fn path_of_rejects_escapes() {
        let store = FileStore::at("/data/attachments");
        assert_eq!(store.path_of("ab/abc.png"), Some(PathBuf::from("/data/attachments/ab/abc.png")));
        assert_eq!(
            store.path_of("heartbeat-test/x_y-1.json"),
            Some(PathBuf::from("/data/attachments/heartbeat-test/x_y-1.json"))
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "ab/../../x",
            "ab/./x",
            "ab//x",
            "ab/",
            ".tmp-123",
            "ab/.tmp-1",
            "a\\b",
            "C:x",
            "a%2F..",
            "a b",
            "a\0b",
            "ab/é",
        ] {
            assert_eq!(store.path_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn heartbeat_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        assert!(store.check());
        assert_eq!(fs::read_dir(store.root()).expect("ls").count(), 0);
        let blocked = FileStore::at(dir.path().join("file"));
        fs::write(dir.path().join("file"), b"x").expect("write");
        assert!(!blocked.check());
    }
}
