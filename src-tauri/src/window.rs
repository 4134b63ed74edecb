//! The main window: the web UI (or the status page), created on demand, hidden instead of closed.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

/// The label the capabilities and the single-instance callback refer to.
pub const MAIN: &str = "main";

/// Shows and focuses the main window, creating it when it does not exist yet.
pub fn show(app: &AppHandle) {
    let window = match app.get_webview_window(MAIN) {
        Some(window) => window,
        None => match create(app) {
            Ok(window) => window,
            Err(err) => {
                tracing::error!(%err, "cannot open the window");
                return;
            }
        },
    };
    let shown = window.show().and_then(|()| window.unminimize()).and_then(|()| window.set_focus());
    if let Err(err) = shown {
        tracing::warn!(%err, "cannot show the window");
    }
}

/// Shows the window on a page of the web UI (a hash route such as `#/apps`). A window created
/// just now opens on the UI's first page instead, whose navigation counts what waits.
pub fn show_route(app: &AppHandle, route: &str) {
    let existed = app.get_webview_window(MAIN).is_some();
    show(app);
    if let (true, Some(window)) = (existed, app.get_webview_window(MAIN)) {
        let script = format!("if (document.querySelector('header.top')) location.hash = {route:?};");
        if let Err(err) = window.eval(&script) {
            tracing::warn!(%err, route, "cannot open the page in the window");
        }
    }
}

fn create(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Kintoun")
        .inner_size(960.0, 680.0)
        .min_inner_size(480.0, 360.0)
        .build()
}
