//! `kintoun-desktop`: Kintoun in the system tray. It runs the Kinto-compatible server in-process
//! (on Tauri's tokio runtime), shows a window (the web UI from `ui/dist`, or the status page in
//! `src-tauri/status/`) and a tray menu. Without a display it runs the server alone.
//!
//! * [`config`]: the command line and the settings, loaded exactly as the `kintoun` CLI does.
//! * [`logging`]: tracing to a rotating file in the data dir and to a buffer of recent lines.
//! * [`server`]: starts and stops the server and knows its state (starting, running, error).
//! * [`app`]: the Tauri application: plugins, window, tray, quit path; [`tray`] and
//!   [`commands`] (the IPC the window uses) are its parts; [`headless`] is the no-display path.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app;
mod commands;
mod config;
mod devices;
mod error;
mod headless;
mod logging;
mod server;
mod tray;
mod window;

use std::process::ExitCode;

use clap::Parser;

/// The server's allocator, as in the `kintoun` binary (see server/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = config::Args::parse();
    let loaded = match config::Loaded::load(&args) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("kintoun-desktop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let logs = match logging::init(&loaded.data_dir) {
        Ok(logs) => logs,
        Err(err) => {
            eprintln!("kintoun-desktop: cannot set up logging in {}: {err}", loaded.data_dir.display());
            return ExitCode::FAILURE;
        }
    };
    if args.headless || !config::display_available() {
        if !args.headless {
            eprintln!(
                "kintoun-desktop: no display (neither DISPLAY nor WAYLAND_DISPLAY is set): running the server \
                 headless, without the tray or the window. Stop it with Ctrl+C."
            );
        }
        return headless::run(loaded);
    }
    app::run(args, loaded, logs)
}
