//! The Tauri application: plugins (single instance first, so a second launch only focuses the
//! first and never starts a server), the window, the tray, the server started in `setup`, and
//! one quit path (tray Quit, SIGINT, SIGTERM) that stops the server before the process exits.

use std::process::ExitCode;
use std::sync::{Mutex, OnceLock, PoisonError};

use tauri::{AppHandle, Manager, RunEvent, WindowEvent};
use tauri_plugin_autostart::MacosLauncher;

use crate::config::{Args, Loaded};
use crate::error::DesktopError;
use crate::logging::{Logging, RecentLogs};
use crate::server::{ServerControl, Status};
use crate::tray::Tray;

/// What the commands and menu handlers share (`app.state::<AppState>()`).
pub struct AppState {
    pub control: ServerControl,
    pub logs: RecentLogs,
    loaded: Mutex<Loaded>,
    tray: OnceLock<Tray>,
}

impl AppState {
    pub fn config_path(&self) -> std::path::PathBuf {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner).config_path.clone()
    }
}

/// Runs the app until Quit; the server is stopped before this returns.
pub fn run(args: Args, loaded: Loaded, logging: Logging) -> ExitCode {
    let state = AppState {
        control: ServerControl::new(&loaded.settings, loaded.data_dir.clone()),
        logs: logging.recent.clone(),
        loaded: Mutex::new(loaded),
        tray: OnceLock::new(),
    };
    let built = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!(?argv, "Kintoun was launched again: showing this one");
            crate::window::show(app);
        }))
        .plugin(tauri_plugin_autostart::init(MacosLauncher::LaunchAgent, Some(vec!["--minimized"])))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            crate::commands::session,
            crate::commands::status,
            crate::commands::owner_password,
            crate::commands::recent_logs,
            crate::commands::use_another_port,
        ])
        .on_window_event(|window, event| {
            // Closing the window keeps Kintoun in the tray; Quit is in the tray menu.
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                if let Err(err) = window.hide() {
                    tracing::warn!(%err, "cannot hide the window");
                }
            }
        })
        .setup(move |app| {
            let handle = app.handle().clone();
            let state = handle.state::<AppState>();
            let tray = crate::tray::create(&handle, &state.control.status())?;
            let _ = state.tray.set(tray);
            if !args.minimized {
                crate::window::show(&handle);
            }
            let settings = state.loaded.lock().unwrap_or_else(PoisonError::into_inner).settings.clone();
            let starting = handle.clone();
            tauri::async_runtime::spawn(async move { start(&starting, settings).await });
            let quitting = handle.clone();
            tauri::async_runtime::spawn(async move {
                termination().await;
                quit(&quitting).await;
            });
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match built {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(%err, "cannot start the desktop app");
            return ExitCode::FAILURE;
        }
    };
    let code = app.run_return(|_app, event| {
        if let RunEvent::ExitRequested { code: None, api, .. } = event {
            // The last window closed: stay in the tray.
            api.prevent_exit();
        }
    });
    // Quit already stopped the server; this covers any other way out of the event loop.
    drop(logging);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Starts the server with these settings and shows the outcome in the tray.
async fn start(app: &AppHandle, settings: kintoun::Settings) -> Status {
    let state = app.state::<AppState>();
    let status = state.control.start(settings, Some(connect_listener(app))).await;
    static WATCHING: std::sync::Once = std::sync::Once::new();
    WATCHING.call_once(|| crate::devices::watch(app.clone()));
    if let Some(tray) = state.tray.get() {
        crate::tray::refresh(tray, &status);
    }
    status
}

/// An app asks to connect: a notification naming its origin and scopes, and the window brought
/// forward on the web UI's Connected apps page, where the owner approves or denies.
fn connect_listener(app: &AppHandle) -> kintoun::plugins::apps::RequestListener {
    let app = app.clone();
    std::sync::Arc::new(move |request: &kintoun::plugins::apps::PendingRequest| {
        tracing::info!(app = %request.name, origin = ?request.origin, "an app asks to connect: showing the window");
        // Off the server's request path: a notification is a D-Bus call.
        let (notifier, asked) = (app.clone(), request.clone());
        tauri::async_runtime::spawn_blocking(move || notify_connect_request(&notifier, &asked));
        let shown = app.clone();
        if let Err(err) = app.run_on_main_thread(move || crate::window::show_route(&shown, "#/apps")) {
            tracing::warn!(%err, "cannot show the window for a connection request");
        }
    })
}

/// The desktop notification of a connection request (where no notification service runs, as
/// in headless sessions, the window alone asks).
fn notify_connect_request(app: &AppHandle, request: &kintoun::plugins::apps::PendingRequest) {
    use tauri_plugin_notification::NotificationExt;
    let origin = request.origin.as_deref().unwrap_or("a local app (no web origin)");
    let scopes: Vec<String> = request
        .scopes
        .iter()
        .map(|scope| {
            let access = match scope.access {
                kintoun::plugins::apps::Access::Read => "read",
                kintoun::plugins::apps::Access::Write => "read and write",
            };
            let create = if scope.create { " (created for it)" } else { "" };
            format!("{access} {}/{}{create}", scope.bucket, scope.collection)
        })
        .collect();
    let shown = app
        .notification()
        .builder()
        .title(format!("{} asks for access to Kintoun", request.name))
        .body(format!("From {origin}: {}. Approve or deny in Kintoun.", scopes.join(", ")))
        .show();
    if let Err(err) = shown {
        tracing::warn!(%err, "cannot show the connection request notification");
    }
}

/// The one quit path: stop the server (writes commit, the database closes), then exit.
pub async fn quit(app: &AppHandle) {
    tracing::info!("quitting");
    let state = app.state::<AppState>();
    state.control.stop().await;
    app.exit(0);
}

/// Resolves on Ctrl+C or SIGTERM.
pub async fn termination() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// "Port already in use": pick a free port on the same address, save it, and start there.
pub async fn use_another_port(app: &AppHandle) -> Result<Status, DesktopError> {
    let state = app.state::<AppState>();
    let (mut settings, config_path, own) = {
        let loaded = state.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        (loaded.settings.clone(), loaded.config_path.clone(), loaded.config_is_own)
    };
    if !own {
        return Err(DesktopError::ForeignConfig(config_path));
    }
    let free = std::net::TcpListener::bind((settings.bind.ip(), 0))
        .and_then(|listener| listener.local_addr())
        .map_err(DesktopError::NoFreePort)?;
    crate::config::save_bind(&config_path, free)?;
    settings.bind = free;
    state.loaded.lock().unwrap_or_else(PoisonError::into_inner).settings = settings.clone();
    state.control.stop().await;
    Ok(start(app, settings).await)
}
