//! The desktop app's errors, and how they cross IPC (as their message).

use std::path::PathBuf;

/// What can go wrong in the shell around the server.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error(transparent)]
    Settings(#[from] kintoun::settings::SettingsError),
    #[error("no data directory: set data_dir in the config file or KINTOUN_DATA_DIR")]
    NoDataDir,
    #[error("the server is not running{}", .0.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    NotRunning(Option<String>),
    #[error("the owner account is disabled (owner_account is empty)")]
    NoOwner,
    #[error("the owner's password is not stored here (the account was created elsewhere)")]
    NoOwnerPassword,
    #[error("cannot write the config file {path}: {source}")]
    WriteConfig { path: PathBuf, source: std::io::Error },
    #[error(
        "the config file {0} is not the desktop's own TOML file: set the port there yourself (bind = \"127.0.0.1:PORT\")"
    )]
    ForeignConfig(PathBuf),
    #[error("cannot read the config file {path}: {message}")]
    ReadConfig { path: PathBuf, message: String },
    #[error("cannot find a free port: {0}")]
    NoFreePort(std::io::Error),
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
}

impl serde::Serialize for DesktopError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}
