//! The tray icon and its menu: the status line (running / error and the URL), Open Kintoun,
//! Open in browser, Copy URL, Use another port (when the port is taken), Start at login, Quit.
//! The icon's colour follows the server: grey starting, green running, red error.

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::app::AppState;
use crate::server::{Phase, Status};

const RUNNING: &[u8] = include_bytes!("../../icons/tray-running.png");
const STARTING: &[u8] = include_bytes!("../../icons/tray-starting.png");
const ERROR: &[u8] = include_bytes!("../../icons/tray-error.png");

/// The parts of the tray that change with the server's state.
pub struct Tray {
    icon: TrayIcon,
    status: MenuItem<Wry>,
    another_port: MenuItem<Wry>,
}

/// The status line of the menu and the tooltip.
pub fn status_line(status: &Status) -> String {
    match status.phase {
        Phase::Starting => format!("Kintoun: starting on {}", status.url),
        Phase::Running => format!("Kintoun: running at {}", status.url),
        Phase::Stopped => "Kintoun: stopped".to_owned(),
        Phase::Error if status.port_taken => format!("Kintoun: error, port {} is taken", port_of(&status.url)),
        Phase::Error => "Kintoun: error (see the window)".to_owned(),
    }
}

fn port_of(url: &str) -> &str {
    url.rsplit_once(':').map(|(_, rest)| rest.trim_end_matches("/v1")).unwrap_or(url)
}

fn icon_for(phase: Phase) -> tauri::Result<Image<'static>> {
    let bytes = match phase {
        Phase::Running => RUNNING,
        Phase::Starting | Phase::Stopped => STARTING,
        Phase::Error => ERROR,
    };
    Image::from_bytes(bytes)
}

/// Builds the tray icon and its menu.
pub fn create(app: &AppHandle, status: &Status) -> tauri::Result<Tray> {
    let status_item = MenuItem::with_id(app, "status", status_line(status), false, None::<&str>)?;
    let another_port = MenuItem::with_id(app, "another-port", "Use another port", status.port_taken, None::<&str>)?;
    let autostart_enabled = app.autolaunch().is_enabled().unwrap_or(false);
    let menu = Menu::with_items(
        app,
        &[
            &status_item,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "open", "Open Kintoun", true, None::<&str>)?,
            &MenuItem::with_id(app, "browser", "Open in browser", true, None::<&str>)?,
            &MenuItem::with_id(app, "copy-url", "Copy URL", true, None::<&str>)?,
            &another_port,
            &PredefinedMenuItem::separator(app)?,
            &CheckMenuItem::with_id(app, "autostart", "Start at login", true, autostart_enabled, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "quit", "Quit Kintoun", true, None::<&str>)?,
        ],
    )?;
    let icon = TrayIconBuilder::with_id("kintoun")
        .icon(icon_for(status.phase)?)
        .tooltip(status_line(status))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)?;
    Ok(Tray { icon, status: status_item, another_port })
}

/// Shows a new state in the tray.
pub fn refresh(tray: &Tray, status: &Status) {
    let line = status_line(status);
    let result = tray
        .status
        .set_text(&line)
        .and_then(|()| tray.another_port.set_enabled(status.port_taken))
        .and_then(|()| tray.icon.set_tooltip(Some(&line)))
        .and_then(|()| icon_for(status.phase))
        .and_then(|image| tray.icon.set_icon(Some(image)));
    if let Err(err) = result {
        tracing::warn!(%err, "cannot update the tray");
    }
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let url = app.state::<AppState>().control.status().url;
    match event.id().as_ref() {
        "open" => crate::window::show(app),
        "browser" => {
            if let Err(err) = app.opener().open_url(format!("{url}/admin/"), None::<&str>) {
                tracing::warn!(%err, "cannot open the browser");
            }
        }
        "copy-url" => {
            if let Err(err) = app.clipboard().write_text(url) {
                tracing::warn!(%err, "cannot copy the URL");
            }
        }
        "another-port" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(err) = crate::app::use_another_port(&app).await {
                    tracing::error!(%err, "cannot move to another port");
                }
            });
        }
        "autostart" => toggle_autostart(app),
        "quit" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { crate::app::quit(&app).await });
        }
        _ => {}
    }
}

fn toggle_autostart(app: &AppHandle) {
    let launcher = app.autolaunch();
    let result = match launcher.is_enabled() {
        Ok(true) => launcher.disable(),
        Ok(false) => {
            // The launcher writes ~/.config/autostart/ but creates only its last level.
            if let Some(dirs) = directories::BaseDirs::new() {
                let _ = std::fs::create_dir_all(dirs.home_dir().join(".config"));
            }
            launcher.enable()
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => tracing::info!(enabled = launcher.is_enabled().unwrap_or(false), "start at login changed"),
        Err(err) => tracing::warn!(%err, "cannot change start at login"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(phase: Phase, port_taken: bool) -> Status {
        Status {
            phase,
            url: "http://127.0.0.1:8888/v1".into(),
            data_dir: "/tmp/k".into(),
            message: None,
            port_taken,
            owner_account: None,
            owner_user_id: None,
            secrets: None,
        }
    }

    #[test]
    fn status_lines_name_the_url_or_the_port() {
        assert_eq!(status_line(&status(Phase::Running, false)), "Kintoun: running at http://127.0.0.1:8888/v1");
        assert_eq!(status_line(&status(Phase::Error, true)), "Kintoun: error, port 8888 is taken");
        assert_eq!(status_line(&status(Phase::Error, false)), "Kintoun: error (see the window)");
    }
}
