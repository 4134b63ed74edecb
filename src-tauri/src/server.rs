//! The server inside the app: binds 127.0.0.1 and the configured port, opens the `kintoun`
//! server (data dir, keyring secrets, owner account), runs it on Tauri's tokio runtime and
//! stops it cleanly. It also knows the state the tray and the window show.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;

use kintoun::plugins::apps::RequestListener;
use kintoun::settings::Settings;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::error::DesktopError;

/// How long open connections get to finish when the app quits.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Starting,
    Running,
    Stopped,
    Error,
}

/// What the tray and the status page show.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub phase: Phase,
    /// `http://127.0.0.1:8888/v1`
    pub url: String,
    pub data_dir: PathBuf,
    /// Why it is not running (phase `error`).
    pub message: Option<String>,
    /// The error is "address in use": offer another port.
    pub port_taken: bool,
    /// The owner's account id ("admin") and where its password is kept.
    pub owner_account: Option<String>,
    pub owner_user_id: Option<String>,
    pub secrets: Option<String>,
}

/// The owner's credentials, for the window (never written into a page).
#[derive(Debug, Clone)]
pub struct OwnerInfo {
    pub account: String,
    pub user_id: String,
    /// `None` when the account was created elsewhere and its password never stored.
    pub password: Option<String>,
    pub source: String,
}

/// A running server: its per-launch token and how to stop it.
struct Running {
    owner: Option<OwnerInfo>,
    /// Authenticates as the owner until the server stops; handed to the window over IPC only.
    token: Option<String>,
    shutdown: oneshot::Sender<()>,
    task: tauri::async_runtime::JoinHandle<Result<(), kintoun::ServeError>>,
    /// The household-devices events (empty while LAN sharing is off).
    device_events: kintoun::sharing::attach::DeviceEvents,
}

struct State {
    status: Status,
    running: Option<Running>,
}

/// The one server of this app.
pub struct ServerControl {
    state: Mutex<State>,
    /// The phase, for those who wait for the server to be up (the window's `session`).
    phase: tokio::sync::watch::Sender<Phase>,
}

/// `http://<addr>/v1`
pub fn base_url(addr: SocketAddr) -> String {
    format!("http://{addr}/v1")
}

/// How a secret source reads in the window.
fn describe_source(source: &kintoun::secrets::SecretSource) -> String {
    match source {
        kintoun::secrets::SecretSource::Settings => "the settings".to_owned(),
        kintoun::secrets::SecretSource::Keyring => "the OS keyring".to_owned(),
        kintoun::secrets::SecretSource::File(path) => format!("the file {} (no keyring available)", path.display()),
    }
}

impl ServerControl {
    pub fn new(settings: &Settings, data_dir: PathBuf) -> ServerControl {
        let status = Status {
            phase: Phase::Starting,
            url: base_url(settings.bind),
            data_dir,
            message: None,
            port_taken: false,
            owner_account: None,
            owner_user_id: None,
            secrets: None,
        };
        ServerControl {
            state: Mutex::new(State { status, running: None }),
            phase: tokio::sync::watch::Sender::new(Phase::Starting),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn status(&self) -> Status {
        self.lock().status.clone()
    }

    /// Waits while the server is starting (at most `limit`), so a window that loads before the
    /// server is up still gets its session.
    pub async fn started(&self, limit: std::time::Duration) {
        let mut phase = self.phase.subscribe();
        let _ = tokio::time::timeout(limit, phase.wait_for(|phase| *phase != Phase::Starting)).await;
    }

    fn set_phase(state: &mut State, sender: &tokio::sync::watch::Sender<Phase>, phase: Phase) {
        state.status.phase = phase;
        sender.send_replace(phase);
    }

    /// The household-devices events of the running server.
    pub fn device_events(&self) -> Option<kintoun::sharing::attach::DeviceEvents> {
        self.lock().running.as_ref().map(|running| running.device_events.clone())
    }

    /// The session the window's UI uses: `(url, token, user id)`.
    pub fn session(&self) -> Result<(String, String, String), DesktopError> {
        let state = self.lock();
        let running = state.running.as_ref().ok_or_else(|| DesktopError::NotRunning(state.status.message.clone()))?;
        let owner = running.owner.as_ref().ok_or(DesktopError::NoOwner)?;
        let token = running.token.clone().ok_or(DesktopError::NoOwner)?;
        Ok((state.status.url.clone(), token, owner.user_id.clone()))
    }

    pub fn owner(&self) -> Result<OwnerInfo, DesktopError> {
        let state = self.lock();
        let running = state.running.as_ref().ok_or_else(|| DesktopError::NotRunning(state.status.message.clone()))?;
        running.owner.clone().ok_or(DesktopError::NoOwner)
    }

    /// Binds and starts the server; on failure the status says why (and returns it).
    /// `on_connect` hears every app's connection request (the window asks the owner).
    pub async fn start(&self, settings: Settings, on_connect: Option<RequestListener>) -> Status {
        {
            let mut state = self.lock();
            Self::set_phase(&mut state, &self.phase, Phase::Starting);
            state.status.url = base_url(settings.bind);
            state.status.message = None;
            state.status.port_taken = false;
        }
        match self.try_start(settings, on_connect).await {
            Ok(()) => {}
            Err((message, port_taken)) => {
                tracing::error!(%message, "the server did not start");
                let mut state = self.lock();
                Self::set_phase(&mut state, &self.phase, Phase::Error);
                state.status.message = Some(message);
                state.status.port_taken = port_taken;
            }
        }
        self.status()
    }

    async fn try_start(&self, settings: Settings, on_connect: Option<RequestListener>) -> Result<(), (String, bool)> {
        let bind = settings.bind;
        let listener = match tokio::net::TcpListener::bind(bind).await {
            Ok(listener) => listener,
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                return Err((
                    format!(
                        "Port {} is already in use on {}: another program (perhaps another Kintoun server) \
                         listens there. Choose \"Use another port\" to pick a free port and save it, or stop \
                         the other program and restart Kintoun.",
                        bind.port(),
                        bind.ip()
                    ),
                    true,
                ));
            }
            Err(err) => return Err((format!("cannot listen on {bind}: {err}"), false)),
        };
        let addr = listener.local_addr().map_err(|e| (format!("cannot listen on {bind}: {e}"), false))?;
        let server = kintoun::Server::open(settings).await.map_err(|e| (e.to_string(), false))?;
        let owner = server.owner().map(|owner| OwnerInfo {
            account: owner.account.clone(),
            user_id: owner.user_id.clone(),
            password: owner.password.clone(),
            source: owner
                .source
                .as_ref()
                .map(describe_source)
                .unwrap_or_else(|| "nowhere: the account existed before, its password was never stored".to_owned()),
        });
        let token = owner.as_ref().map(|owner| server.session_token(&owner.user_id));
        let device_events = server.devices().events();
        if let Some(listener) = on_connect {
            server.on_connect_request(listener);
        }
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tauri::async_runtime::spawn(server.run(listener, async move {
            let _ = stopped.await;
        }));
        tracing::info!(url = %base_url(addr), "Kintoun is serving");
        let mut state = self.lock();
        Self::set_phase(&mut state, &self.phase, Phase::Running);
        state.status.url = base_url(addr);
        state.status.owner_account = owner.as_ref().map(|o| o.account.clone());
        state.status.owner_user_id = owner.as_ref().map(|o| o.user_id.clone());
        state.status.secrets = owner.as_ref().map(|o| o.source.clone());
        state.running = Some(Running { owner, token, shutdown, task, device_events });
        Ok(())
    }

    /// Stops the server: no new connections, queued writes commit, the database closes.
    pub async fn stop(&self) {
        let running = self.lock().running.take();
        let Some(running) = running else { return };
        let _ = running.shutdown.send(());
        let mut task = running.task;
        match tokio::time::timeout(STOP_GRACE, &mut task).await {
            Ok(Ok(Ok(()))) => tracing::info!("the server stopped"),
            Ok(Ok(Err(err))) => tracing::error!(%err, "the server stopped with an error"),
            Ok(Err(err)) => tracing::error!(%err, "the server task failed"),
            Err(_) => {
                tracing::warn!("open connections did not close in time; stopping the server anyway");
                task.abort();
            }
        }
        let mut state = self.lock();
        if state.status.phase == Phase::Running {
            Self::set_phase(&mut state, &self.phase, Phase::Stopped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn settings(dir: &std::path::Path, bind: SocketAddr) -> Settings {
        let mut settings = Settings::default();
        settings.data_dir = Some(dir.to_owned());
        settings.bind = bind;
        settings.secrets_backend = kintoun::secrets::SecretsBackend::File;
        settings
    }

    async fn get(addr: &str, path: &str, token: &str) -> std::io::Result<String> {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn starts_hands_out_an_owner_session_and_stops() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let settings = settings(dir.path(), "127.0.0.1:0".parse()?);
        let control = ServerControl::new(&settings, dir.path().to_owned());
        let status = control.start(settings, None).await;
        assert_eq!(status.phase, Phase::Running, "{:?}", status.message);
        assert_eq!(status.owner_user_id.as_deref(), Some("account:admin"));
        let (url, token, user) = control.session()?;
        assert_eq!(user, "account:admin");
        let addr = url.trim_start_matches("http://").trim_end_matches("/v1").to_owned();
        let answer = get(&addr, "/v1/", &token).await?;
        assert!(answer.contains("\"account:admin\""), "{answer}");
        assert!(control.owner()?.password.is_some_and(|p| !p.is_empty()));
        control.stop().await;
        assert_eq!(control.status().phase, Phase::Stopped);
        assert!(tokio::net::TcpStream::connect(&addr).await.is_err(), "still listening after stop");
        assert!(control.session().is_err());
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_taken_port_is_named_and_flagged() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = taken.local_addr()?;
        let settings = settings(dir.path(), addr);
        let control = ServerControl::new(&settings, dir.path().to_owned());
        let status = control.start(settings, None).await;
        assert_eq!(status.phase, Phase::Error);
        assert!(status.port_taken);
        let message = status.message.unwrap_or_default();
        assert!(message.contains(&format!("Port {} is already in use", addr.port())), "{message}");
        assert!(message.contains("Use another port"), "{message}");
        assert!(matches!(control.session(), Err(DesktopError::NotRunning(Some(_)))));
        Ok(())
    }
}
