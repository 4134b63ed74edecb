//! The `kintoun` command line: `kintoun serve` runs the server headless.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kintoun::plugins::owner::{PASSWORD_SECRET, owner_account};
use kintoun::secrets::SecretStore;
use kintoun::settings::{LoadOptions, Settings};

/// mimalloc: glibc's malloc spent ~40% of a 10k-record list read in its free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Connected apps: list pending requests and apps, approve or deny a request, revoke an app.
    Apps {
        #[command(subcommand)]
        action: Option<AppsAction>,
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Print the owner account and its password (kept in the OS keyring or the data dir).
    Owner {
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
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
    /// Sync links with other Kinto servers: without arguments, one line per link.
    Sync {
        #[command(subcommand)]
        action: Option<SyncAction>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Share a collection with a paired device (read-only unless --write), or stop (--stop).
    Share {
        /// The collection: BUCKET/COLLECTION.
        collection: String,
        /// The paired device: its name, id or first id group.
        device: String,
        /// Let it write too (its mirror syncs both ways).
        #[arg(long, conflicts_with = "stop")]
        write: bool,
        /// Stop sharing the collection with it.
        #[arg(long)]
        stop: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List what the paired devices share with this one (each is asked over the LAN).
    Shared {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Without arguments: show a pairing code. With a device and a code: join that device.
    Pair {
        /// The device showing the code: its id, name, first id group, or pairing `ip:port`.
        device: Option<String>,
        /// The code it shows.
        code: Option<String>,
        /// Confirm the check string without asking (scripts, tests).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
enum SyncAction {
    /// Link a local collection with a collection on a Kinto server, both ways (or pull only).
    Add {
        /// The Kinto server, e.g. https://kinto.example.com/v1 — or `device:NAME` for a paired
        /// device sharing the collection with this one (see `kintoun shared`).
        url: String,
        /// The remote collection: BUCKET/COLLECTION.
        remote: String,
        /// The local collection: BUCKET/COLLECTION (created if missing).
        #[arg(long)]
        into: String,
        /// The remote account (or Basic Auth user); the password is read from standard input.
        #[arg(long)]
        user: Option<String>,
        /// Read the password from standard input (with --user).
        #[arg(long)]
        password_stdin: bool,
        /// A read-only mirror: never write to the remote.
        #[arg(long)]
        pull_only: bool,
    },
    /// Sync a link now and show its progress.
    Now { link: String },
    /// Show a link's conflicts: mine, theirs and the common ancestor.
    Conflicts { link: String },
    /// Settle a conflict: keep mine or theirs.
    Resolve { link: String, record: String, resolution: String },
    /// Remove a link (the data stays on both sides).
    Remove { link: String },
}

#[derive(Subcommand)]
enum DevicesAction {
    /// Revoke a paired device everywhere (ACLs, groups, key, open connections, other devices).
    Revoke { device: String },
    /// Show the LAN settings, or change them on the running server (applied at once, saved).
    Settings {
        /// Turn LAN sharing on or off.
        #[arg(long, value_parser = clap::builder::BoolishValueParser::new())]
        sharing: Option<bool>,
        /// How this device appears to the others ("" for the host name).
        #[arg(long)]
        name: Option<String>,
        /// The LAN port (0: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// The address the LAN port listens on (e.g. 0.0.0.0, or one interface's address).
        #[arg(long)]
        address: Option<String>,
        /// Interfaces for discovery, comma-separated ("" for every interface).
        #[arg(long)]
        interfaces: Option<String>,
    },
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
enum AppsAction {
    /// Grant a pending connection request.
    Approve { request: String },
    /// Refuse a pending connection request.
    Deny { request: String },
    /// Revoke an app: its token stops working and its permissions go.
    Revoke { app: String },
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
    if owner_account(&settings) == Some(name.as_str()) {
        // The owner's password is kept for the desktop app and `kintoun owner`.
        secret_store(&settings)?.set(PASSWORD_SECRET, password).map_err(|e| e.to_string())?;
    }
    println!("account:{name} saved");
    Ok(())
}

async fn apps(action: Option<AppsAction>, options: LoadOptions) -> Result<(), String> {
    use reqwest::Method;
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let client = kintoun::owner_client::OwnerClient::new(&settings)?;
    let text = |value: &serde_json::Value, key: &str| value.get(key).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
    let scopes = |value: &serde_json::Value| {
        let list = value.get("scopes").and_then(|s| s.as_array()).cloned().unwrap_or_default();
        list.iter()
            .map(|s| format!("{}/{}:{}", text(s, "bucket"), text(s, "collection"), text(s, "access")))
            .collect::<Vec<_>>()
            .join(",")
    };
    match action {
        None => {
            let listing = client.call(Method::GET, "/__apps__", None).await?;
            for request in listing["pending"].as_array().into_iter().flatten() {
                let (id, name, origin) = (text(request, "id"), text(request, "name"), text(request, "origin"));
                println!("pending  {id}  {name}  {origin}  {}", scopes(request));
            }
            for app in listing["apps"].as_array().into_iter().flatten() {
                let (id, name, origin) = (text(app, "id"), text(app, "name"), text(app, "origin"));
                println!("app      {id}  {name}  {origin}  {}", scopes(app));
            }
        }
        Some(AppsAction::Approve { request }) => {
            let body = serde_json::json!({"approve": true});
            let decided = client.call(Method::POST, &format!("/__apps__/requests/{request}"), Some(&body)).await?;
            println!("approved {} ({})", text(&decided, "name"), scopes(&decided));
        }
        Some(AppsAction::Deny { request }) => {
            let body = serde_json::json!({"approve": false});
            let decided = client.call(Method::POST, &format!("/__apps__/requests/{request}"), Some(&body)).await?;
            println!("denied {}", text(&decided, "name"));
        }
        Some(AppsAction::Revoke { app }) => {
            let revoked = client.call(Method::DELETE, &format!("/__apps__/{app}"), None).await?;
            println!("revoked {} ({})", text(&revoked["data"], "name"), text(&revoked["data"], "principal"));
        }
    }
    Ok(())
}

fn secret_store(settings: &Settings) -> Result<SecretStore, String> {
    let dir = kintoun::data_dir(settings).ok_or("no data directory: set KINTOUN_DATA_DIR")?;
    Ok(SecretStore::new(&dir, settings.secrets_backend))
}

fn show_owner(options: LoadOptions) -> Result<(), String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let account = owner_account(&settings).ok_or("these settings have no owner account (see owner_account)")?;
    match secret_store(&settings)?.get(PASSWORD_SECRET).map_err(|e| e.to_string())? {
        Some((password, source)) => {
            println!("account: {account}\npassword: {password}\nkept in: {source:?}");
            Ok(())
        }
        None => Err(format!(
            "no stored password for account:{account}: start the server once, or set one with `kintoun account add {account}`"
        )),
    }
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
    let server = kintoun::Server::open(settings).await.map_err(|e| e.to_string())?;
    if let Some(owner) = server.owner().filter(|owner| owner.created) {
        println!("Created the owner account {}: `kintoun owner` shows its password.", owner.user_id);
    }
    println!("Kintoun listening on http://{addr}/v1/");
    server.run(listener, shutdown_signal()).await.map_err(|e| e.to_string())
}

/// The device commands talk to the running server as its owner (password from the secrets
/// store, see `kintoun owner`).
async fn devices_command(server: ServerArgs, run: DeviceCommand) -> Result<(), String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let options = LoadOptions { config: server.config, bind: None, data_dir: server.data_dir };
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let client = kintoun::sharing::cli::DeviceCommands::new(kintoun::owner_client::OwnerClient::new(&settings)?);
    match run {
        DeviceCommand::List => client.devices().await?.into_iter().for_each(|line| println!("{line}")),
        DeviceCommand::Revoke(device) => println!("{}", client.revoke(&device).await?),
        DeviceCommand::Share { collection, device, access } => {
            println!("{}", client.share(&collection, &device, access).await?)
        }
        DeviceCommand::Shared => client.shared_with_me().await?.iter().for_each(|line| println!("{line}")),
        DeviceCommand::Settings(change) => client.settings(change).await?.iter().for_each(|line| println!("{line}")),
        DeviceCommand::Invite { yes } => client.invite(|line| println!("{line}"), |q| ask(&q, yes)).await?,
        DeviceCommand::Join { device, code, yes } => {
            client.join(&device, &code, |line| println!("{line}"), |q| ask(&q, yes)).await?
        }
    }
    Ok(())
}

/// The sync commands talk to the running server as its owner.
async fn sync_command(server: ServerArgs, action: Option<SyncAction>) -> Result<(), String> {
    use kintoun::sync::cli::{SyncCommands, split_collection};
    let env: Vec<(String, String)> = std::env::vars().collect();
    let options = LoadOptions { config: server.config, bind: None, data_dir: server.data_dir };
    let settings = Settings::load(&options, &env).map_err(|e| e.to_string())?;
    let client = SyncCommands::new(kintoun::owner_client::OwnerClient::new(&settings)?);
    match action {
        None => client.list().await?.into_iter().for_each(|line| println!("{line}")),
        Some(SyncAction::Add { url, remote, into, user, password_stdin, pull_only }) => {
            let credentials = match (user, password_stdin) {
                (Some(user), true) => {
                    let mut password = String::new();
                    std::io::stdin().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
                    Some((user, password.trim_end_matches(['\n', '\r']).to_owned()))
                }
                (Some(_), false) => {
                    return Err("--user needs --password-stdin (the password is read from stdin)".into());
                }
                (None, true) => return Err("--password-stdin needs --user".into()),
                (None, false) => None,
            };
            let (remote, local) = (split_collection(&remote)?, split_collection(&into)?);
            client.add(&url, remote, local, credentials, pull_only, |line| println!("{line}")).await?
        }
        Some(SyncAction::Now { link }) => client.now(&link, |line| println!("{line}")).await?,
        Some(SyncAction::Conflicts { link }) => {
            client.conflicts(&link).await?.into_iter().for_each(|line| println!("{line}"))
        }
        Some(SyncAction::Resolve { link, record, resolution }) => {
            println!("{}", client.resolve(&link, &record, &resolution).await?)
        }
        Some(SyncAction::Remove { link }) => println!("{}", client.remove(&link).await?),
    }
    Ok(())
}

enum DeviceCommand {
    List,
    Revoke(String),
    Settings(serde_json::Map<String, serde_json::Value>),
    Share { collection: String, device: String, access: Option<kintoun::sharing::shares::Access> },
    Shared,
    Invite { yes: bool },
    Join { device: String, code: String, yes: bool },
}

/// Asks a yes/no question on the terminal (`--yes` answers it); anything but y/yes is no.
fn ask(question: &str, yes: bool) -> bool {
    use std::io::Write;
    print!("{question}");
    if yes {
        println!("y (--yes)");
        return true;
    }
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
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
                Some(DevicesAction::Settings { sharing, name, port, address, interfaces }) => {
                    let mut change = serde_json::Map::new();
                    if let Some(on) = sharing {
                        change.insert("lan_sharing".into(), on.into());
                    }
                    if let Some(name) = name {
                        change.insert("device_name".into(), name.into());
                    }
                    if let Some(port) = port {
                        change.insert("lan_port".into(), port.into());
                    }
                    if let Some(address) = address {
                        change.insert("lan_address".into(), address.into());
                    }
                    if let Some(list) = interfaces {
                        let names: Vec<&str> = list.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
                        change.insert("lan_interfaces".into(), names.into());
                    }
                    DeviceCommand::Settings(change)
                }
            },
        )),
        Command::Sync { action, server } => runtime.block_on(sync_command(server, action)),
        Command::Share { collection, device, write, stop, server } => {
            let access = match (stop, write) {
                (true, _) => None,
                (false, true) => Some(kintoun::sharing::shares::Access::Write),
                (false, false) => Some(kintoun::sharing::shares::Access::Read),
            };
            runtime.block_on(devices_command(server, DeviceCommand::Share { collection, device, access }))
        }
        Command::Shared { server } => runtime.block_on(devices_command(server, DeviceCommand::Shared)),
        Command::Pair { device, code, yes, server } => match (device, code) {
            (None, None) => runtime.block_on(devices_command(server, DeviceCommand::Invite { yes })),
            (Some(device), Some(code)) => {
                runtime.block_on(devices_command(server, DeviceCommand::Join { device, code, yes }))
            }
            _ => Err("give both the device and the code it shows, or neither to show a code".into()),
        },
        Command::Apps { action, config, data_dir } => {
            runtime.block_on(apps(action, LoadOptions { config, bind: None, data_dir }))
        }
        Command::Owner { data_dir, config } => show_owner(LoadOptions { config, bind: None, data_dir }),
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
