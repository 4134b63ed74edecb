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
    /// List this device, paired devices and devices nearby on the LAN (or revoke one).
    Devices {
        #[command(subcommand)]
        action: Option<DevicesAction>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Without arguments: show a pairing code. With a device and a code: join that device.
    Pair {
        /// The device showing the code: its id, name, first id group, or pairing `ip:port`.
        device: Option<String>,
        /// The code it shows.
        code: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
enum DevicesAction {
    /// Revoke a paired device everywhere (ACLs, groups, key, open connections, other devices).
    Revoke { device: String },
}

/// How to find the running server (its settings) for the device commands.
#[derive(clap::Args)]
struct ServerArgs {
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[arg(long, global = true)]
    config: Option<PathBuf>,
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

/// The device commands talk to the running server's loopback listener as its owner
/// (`KINTOUN_OWNER_ACCOUNT`, default `admin`; password in `KINTOUN_OWNER_PASSWORD`).
async fn devices_command(server: ServerArgs, run: DeviceCommand) -> Result<(), String> {
    use base64::Engine;
    let env: Vec<(String, String)> = std::env::vars().collect();
    let options = LoadOptions { config: server.config, bind: None, data_dir: server.data_dir };
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let account = std::env::var("KINTOUN_OWNER_ACCOUNT").unwrap_or_else(|_| "admin".into());
    let password = std::env::var("KINTOUN_OWNER_PASSWORD")
        .map_err(|_| "set KINTOUN_OWNER_PASSWORD to the owner account's password".to_owned())?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{account}:{password}"));
    let client = kintoun::sharing::cli::OwnerClient::new(settings.bind, format!("Basic {basic}"));
    match run {
        DeviceCommand::List => client.devices().await?.into_iter().for_each(|line| println!("{line}")),
        DeviceCommand::Revoke(device) => println!("{}", client.revoke(&device).await?),
        DeviceCommand::Invite => client.invite(|line| println!("{line}")).await?,
        DeviceCommand::Join(device, code) => println!("{}", client.join(&device, &code).await?),
    }
    Ok(())
}

enum DeviceCommand {
    List,
    Revoke(String),
    Invite,
    Join(String, String),
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
        Command::Devices { action, server } => runtime.block_on(devices_command(
            server,
            match action {
                None => DeviceCommand::List,
                Some(DevicesAction::Revoke { device }) => DeviceCommand::Revoke(device),
            },
        )),
        Command::Pair { device, code, server } => match (device, code) {
            (None, None) => runtime.block_on(devices_command(server, DeviceCommand::Invite)),
            (Some(device), Some(code)) => runtime.block_on(devices_command(server, DeviceCommand::Join(device, code))),
            _ => Err("give both the device and the code it shows, or neither to show a code".into()),
        },
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
