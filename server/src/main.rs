//! The `kintoun` command line: `kintoun serve` runs the server headless.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kintoun::settings::{LoadOptions, Settings};

#[derive(Parser)]
#[command(name = "kintoun", version, about = "A Kinto-compatible JSON storage server for the desktop")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage accounts (the accounts plugin) directly in the data directory.
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// Serve the Kinto HTTP API until interrupted.
    Serve {
        /// Address to listen on (default 127.0.0.1:8888; port 0 picks a free one).
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Where the database lives (default: the platform data directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A TOML settings file, or a Kinto .ini file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Create an account, or set its password; the password is read from standard input.
    /// `account:admin` administers accounts with the default settings.
    Add {
        /// The account id (letters, digits, `+.@_-`).
        name: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

async fn add_account(name: String, options: LoadOptions) -> Result<(), String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err("the password (read from standard input) is empty".into());
    }
    let (store, backend) = kintoun::open_store(&settings).map_err(|e| e.to_string())?;
    let result = kintoun::plugins::accounts::put_account(&store, &name, password).await;
    drop(store);
    backend.close();
    result.map_err(|e| format!("cannot save account {name}: {e}"))?;
    println!("account:{name} saved");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down");
}

async fn serve(options: LoadOptions) -> Result<(), String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("Kintoun listening on http://{addr}/v1/");
    kintoun::serve(listener, settings, shutdown_signal()).await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KINTOUN_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kintoun: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve { bind, data_dir, config } => runtime.block_on(serve(LoadOptions { config, bind, data_dir })),
        Command::Account { action: AccountAction::Add { name, data_dir, config } } => {
            runtime.block_on(add_account(name, LoadOptions { config, bind: None, data_dir }))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kintoun: {message}");
            ExitCode::FAILURE
        }
    }
}
