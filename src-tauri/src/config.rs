//! The command line and the settings. Settings load exactly as in `kintoun serve` (defaults,
//! the config file, `KINTO_*`/`KINTOUN_*` variables); without `--config` the desktop reads its
//! own `kintoun.toml` in the platform config dir when it exists, and saves a new port there.

use std::path::{Path, PathBuf};

use clap::Parser;
use kintoun::settings::{LoadOptions, Settings};

use crate::error::DesktopError;

/// `kintoun-desktop [--config FILE] [--minimized] [--headless]`.
#[derive(Parser, Debug, Clone)]
#[command(name = "kintoun-desktop", version, about = "Kintoun in the system tray")]
pub struct Args {
    /// A TOML settings file, or a Kinto .ini file (default: kintoun.toml in the config dir).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Start in the tray without showing the window (what "Start at login" uses).
    #[arg(long)]
    pub minimized: bool,
    /// Run the server only, without tray or window (also chosen when there is no display).
    #[arg(long)]
    pub headless: bool,
}

/// The resolved settings and where they came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub data_dir: PathBuf,
    /// The file `--config` named, or the desktop's own (which may not exist yet).
    pub config_path: PathBuf,
    /// Whether `config_path` is the desktop's own TOML file (the one "use another port" writes).
    pub config_is_own: bool,
}

/// The platform directories (XDG on Linux), the same scheme the server uses for its data dir.
fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("org", "Kintoun", "kintoun")
}

/// The desktop's own config file: `~/.config/kintoun/kintoun.toml` on Linux.
pub fn own_config_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.config_dir().join("kintoun.toml"))
}

impl Loaded {
    pub fn load(args: &Args) -> Result<Loaded, DesktopError> {
        let own = own_config_path();
        let (config_path, config_is_own) = match (&args.config, &own) {
            (Some(path), _) => (path.clone(), own.as_deref() == Some(path.as_path())),
            (None, Some(own)) => (own.clone(), true),
            (None, None) => return Err(DesktopError::NoDataDir),
        };
        let options = LoadOptions {
            config: (args.config.is_some() || config_path.exists()).then(|| config_path.clone()),
            bind: None,
            data_dir: None,
        };
        let env: Vec<(String, String)> = std::env::vars().collect();
        let mut settings = Settings::load(&options, &env)?;
        let data_dir = kintoun::data_dir(&settings).ok_or(DesktopError::NoDataDir)?;
        settings.data_dir = Some(data_dir.clone());
        Ok(Loaded { settings, data_dir, config_path, config_is_own })
    }
}

/// Saves `bind = "<addr>"` in the desktop's own TOML file, keeping its other settings.
pub fn save_bind(path: &Path, bind: std::net::SocketAddr) -> Result<(), DesktopError> {
    let mut table = match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str::<toml::Table>(&text)
            .map_err(|e| DesktopError::ReadConfig { path: path.to_owned(), message: e.to_string() })?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(err) => return Err(DesktopError::ReadConfig { path: path.to_owned(), message: err.to_string() }),
    };
    table.insert("bind".into(), toml::Value::String(bind.to_string()));
    let text = toml::to_string(&table)
        .map_err(|e| DesktopError::ReadConfig { path: path.to_owned(), message: e.to_string() })?;
    let write = |path: &Path| -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text.as_bytes())
    };
    write(path).map_err(|source| DesktopError::WriteConfig { path: path.to_owned(), source })?;
    tracing::info!(path = %path.display(), %bind, "saved the new address in the config file");
    Ok(())
}

/// Whether a GUI can start: GTK panics without an X11 or Wayland display.
pub fn display_available() -> bool {
    if cfg!(target_os = "linux") {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_bind_keeps_other_settings() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("kintoun-desktop-config-{}", std::process::id()));
        let path = dir.join("kintoun.toml");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&path, "bind = \"127.0.0.1:8888\"\npaginate_by = 10\n")?;
        save_bind(&path, "127.0.0.1:9123".parse()?)?;
        let settings = Settings::from_toml_str(&std::fs::read_to_string(&path)?)?;
        assert_eq!(settings.bind.port(), 9123);
        assert_eq!(settings.paginate_by, Some(10));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn save_bind_creates_the_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("kintoun-desktop-config-new-{}", std::process::id()));
        let path = dir.join("sub").join("kintoun.toml");
        save_bind(&path, "127.0.0.1:9124".parse()?)?;
        assert_eq!(Settings::from_toml_str(&std::fs::read_to_string(&path)?)?.bind.port(), 9124);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
