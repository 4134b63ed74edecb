//! Without a display: the server alone, as `kintoun serve` would run it, until Ctrl+C or SIGTERM.

use std::process::ExitCode;

use crate::config::Loaded;
use crate::server::{Phase, ServerControl};

/// Serves until interrupted; the exit code says whether the server could start.
pub fn run(loaded: Loaded) -> ExitCode {
    let control = ServerControl::new(&loaded.settings, loaded.data_dir.clone());
    tauri::async_runtime::block_on(async move {
        let status = control.start(loaded.settings, None).await;
        if status.phase != Phase::Running {
            eprintln!("kintoun-desktop: {}", status.message.unwrap_or_default());
            return ExitCode::FAILURE;
        }
        println!("Kintoun listening on {}/ (data in {})", status.url, status.data_dir.display());
        if let (Some(account), Some(secrets)) = (&status.owner_account, &status.secrets) {
            println!("Owner account: {account} (password kept in {secrets})");
        }
        crate::app::termination().await;
        tracing::info!("shutting down");
        control.stop().await;
        ExitCode::SUCCESS
    })
}
