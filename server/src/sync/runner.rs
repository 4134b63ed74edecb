//! Scheduling: one task per link. A task syncs (pull, then push for `both` links) when it
//! starts, when asked ([`Replicator::sync_now`]), when nudged ([`Replicator::nudge`], cheap:
//! the local change bus calls it after writes), and otherwise every `sync_interval_seconds`.
//! A failed sync records `last_error` and retries after 2, 4, 8 ... 300 s (nudges do not cut
//! that short; "sync now" does), never before the remote's `Backoff`/`Retry-After` ends. A
//! successful one records `last_sync` and clears the error. [`Replicator::start`] and
//! [`Replicator::stop`] follow [`crate::Server::run`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::client::{self, ClientError, KintoClient};
use super::link::{self, Direction, KIND_KINTO};
use super::local::Collection;
use super::progress::{Phase, Progress, Snapshot};
use super::{SyncError, pull, push};
use crate::secrets::SecretStore;
use crate::settings::Settings;
use crate::storage::sqlite::now_ms;
use crate::storage::{LinkRow, Store};

/// The longest wait between retries of a failing link.
const MAX_RETRY: Duration = Duration::from_secs(300);

/// What one sync of a link works with.
pub struct Context {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// The link as it was when the sync started.
    pub link: LinkRow,
    pub local: Collection,
    pub client: KintoClient,
    /// Records per pulled page (`_limit`).
    pub page_size: usize,
}

/// Builds the client of a non-Kinto remote (kind `device`): given the link, a Kinto client
/// for the peer (e.g. a `reqwest::Client` with the devices' pinned mutual TLS and the peer's
/// LAN address). Set with [`Replicator::set_device_connector`].
pub type DeviceConnector = Arc<
    dyn Fn(LinkRow) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<KintoClient, SyncError>> + Send>>
        + Send
        + Sync,
>;

/// One link's task.
struct LinkTask {
    wake: Arc<Notify>,
    /// The link's local collection `(bucket, collection)`, once its first sync read the link.
    local: Mutex<Option<(String, String)>>,
    /// The client of a Kinto remote, kept between syncs (its credentials come from the OS
    /// keyring, a slow read) and dropped after a failure. Device remotes are re-resolved on
    /// every sync: their address may change and an unpaired device must fail at once.
    client: Mutex<Option<KintoClient>>,
    progress: Progress,
    cancel: CancellationToken,
    /// Until when the remote asked us to wait.
    not_before: Mutex<Option<Instant>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

struct Inner {
    store: Store,
    settings: Arc<Settings>,
    secrets: SecretStore,
    http: OnceLock<Result<reqwest::Client, ClientError>>,
    tasks: Mutex<HashMap<String, Arc<LinkTask>>>,
    devices: RwLock<Option<DeviceConnector>>,
    shutdown: CancellationToken,
}

/// The replicator of a server: its links' tasks.
#[derive(Clone)]
pub struct Replicator {
    inner: Arc<Inner>,
}

impl Replicator {
    pub fn new(store: Store, settings: Arc<Settings>, secrets: SecretStore) -> Replicator {
        Replicator {
            inner: Arc::new(Inner {
                store,
                settings,
                secrets,
                http: OnceLock::new(),
                tasks: Mutex::default(),
                devices: RwLock::default(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn settings(&self) -> &Arc<Settings> {
        &self.inner.settings
    }

    pub fn secrets(&self) -> &SecretStore {
        &self.inner.secrets
    }

    /// The HTTP client for Kinto remotes (built once: it reads the OS trust store).
    pub fn http(&self) -> Result<reqwest::Client, ClientError> {
        self.inner.http.get_or_init(client::default_http).clone()
    }

    /// Lets links to paired devices get their client (see [`DeviceConnector`]).
    pub fn set_device_connector(&self, connector: DeviceConnector) {
        if let Ok(mut devices) = self.inner.devices.write() {
            *devices = Some(connector);
        }
    }

    /// Starts a task for every stored link.
    pub async fn start(&self) -> Result<(), SyncError> {
        let links = self.inner.store.read(|tx| tx.sync_links()).await?;
        for link in &links {
            self.spawn(&link.id);
        }
        if !links.is_empty() {
            tracing::info!(links = links.len(), "replicator started");
        }
        Ok(())
    }

    /// Stops every task and waits for them.
    pub async fn stop(&self) {
        self.inner.shutdown.cancel();
        let tasks: Vec<Arc<LinkTask>> =
            self.inner.tasks.lock().map(|mut t| t.drain().map(|(_, task)| task).collect()).unwrap_or_default();
        for task in tasks {
            task.cancel.cancel();
            let handle = task.handle.lock().ok().and_then(|mut h| h.take());
            if let Some(handle) = handle {
                let _ = handle.await;
            }
        }
    }

    /// Starts the task of a (stored) link; it syncs right away.
    pub fn spawn(&self, link_id: &str) {
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        let task = Arc::new(LinkTask {
            wake: Arc::new(Notify::new()),
            local: Mutex::default(),
            client: Mutex::default(),
            progress: Progress::default(),
            cancel: self.inner.shutdown.child_token(),
            not_before: Mutex::default(),
            handle: Mutex::default(),
        });
        task.progress.request();
        let handle = tokio::spawn(run(self.inner.clone(), link_id.to_owned(), task.clone()));
        if self.inner.settings.sync_live {
            let remote = LinkRemote { inner: self.inner.clone(), link_id: link_id.to_owned() };
            tokio::spawn(super::watch::follow(remote, task.wake.clone(), task.cancel.clone()));
        }
        if let Ok(mut slot) = task.handle.lock() {
            *slot = Some(handle);
        }
        let old = self.inner.tasks.lock().ok().and_then(|mut tasks| tasks.insert(link_id.to_owned(), task));
        if let Some(old) = old {
            old.cancel.cancel();
        }
    }

    /// Stops a link's task (its link is being removed) and waits for it.
    pub async fn forget(&self, link_id: &str) {
        let task = self.inner.tasks.lock().ok().and_then(|mut tasks| tasks.remove(link_id));
        if let Some(task) = task {
            task.cancel.cancel();
            let handle = task.handle.lock().ok().and_then(|mut h| h.take());
            if let Some(handle) = handle {
                let _ = handle.await;
            }
        }
    }

    /// Local data changed somewhere: every link looks for changes soon. Cheap (no I/O).
    pub fn nudge(&self) {
        if let Ok(tasks) = self.inner.tasks.lock() {
            tasks.values().for_each(|task| task.wake.notify_one());
        }
    }

    /// Records of the local collection `bucket/collection` changed: the links of that
    /// collection look for changes to push soon. Cheap (no I/O).
    pub fn nudge_local(&self, bucket: &str, collection: &str) {
        if let Ok(tasks) = self.inner.tasks.lock() {
            for task in tasks.values() {
                let matches = task
                    .local
                    .lock()
                    .ok()
                    .is_some_and(|local| local.as_ref().is_some_and(|(b, c)| b == bucket && c == collection));
                if matches {
                    task.wake.notify_one();
                }
            }
        }
    }

    /// "Sync now": the number of the run that will include this request (see
    /// [`Replicator::finished`]).
    pub fn sync_now(&self, link_id: &str) -> Result<u64, SyncError> {
        let task = self.task(link_id).ok_or_else(|| SyncError::UnknownLink(link_id.to_owned()))?;
        let run = task.progress.request();
        task.wake.notify_one();
        Ok(run)
    }

    /// Waits until run `run` of a link has finished (at once if the link has no task).
    pub async fn finished(&self, link_id: &str, run: u64) {
        if let Some(task) = self.task(link_id) {
            tokio::select! {
                _ = task.progress.finished(run) => {}
                _ = task.cancel.cancelled() => {}
            }
        }
    }

    /// A link's live progress (`None`: no task runs it).
    pub fn progress(&self, link_id: &str) -> Option<Snapshot> {
        self.task(link_id).map(|task| task.progress.snapshot())
    }

    /// Every running link's live progress, by link id.
    pub fn progress_all(&self) -> HashMap<String, Snapshot> {
        self.inner
            .tasks
            .lock()
            .map(|tasks| tasks.iter().map(|(id, task)| (id.clone(), task.progress.snapshot())).collect())
            .unwrap_or_default()
    }

    fn task(&self, link_id: &str) -> Option<Arc<LinkTask>> {
        self.inner.tasks.lock().ok().and_then(|tasks| tasks.get(link_id).cloned())
    }

    /// The client for a link's remote, with its credentials from the secrets store.
    pub async fn client_for(&self, link: &LinkRow) -> Result<KintoClient, SyncError> {
        self.inner.client_for(link).await
    }
}

impl Inner {
    async fn client_for(&self, link: &LinkRow) -> Result<KintoClient, SyncError> {
        if link.remote_kind != KIND_KINTO {
            let connector = self.devices.read().ok().and_then(|d| d.clone());
            return match connector {
                Some(connect) => connect(link.clone()).await,
                None => Err(SyncError::Unsupported(format!("no connector for {} remotes yet", link.remote_kind))),
            };
        }
        let url = link.remote_url.clone().ok_or_else(|| SyncError::Unsupported("a Kinto remote without URL".into()))?;
        let secrets = self.secrets.clone();
        let name = super::secret_name(&link.id);
        let authorization = tokio::task::spawn_blocking(move || secrets.get(&name))
            .await
            .map_err(|e| SyncError::Secrets(e.to_string()))?
            .map_err(|e| SyncError::Secrets(e.to_string()))?
            .map(|(value, _)| value);
        let http = self.http.get_or_init(client::default_http).clone()?;
        Ok(KintoClient::new(http, &url, authorization)?)
    }

    /// One sync of a link: pull, then push (`both` links).
    async fn sync_once(&self, link_id: &str, task: &LinkTask) -> Result<(), SyncError> {
        let id = link_id.to_owned();
        let link = self
            .store
            .read(move |tx| tx.sync_link(&id))
            .await?
            .ok_or_else(|| SyncError::UnknownLink(link_id.to_owned()))?;
        if let Ok(mut local) = task.local.lock() {
            *local = Some((link.local_bucket.clone(), link.local_collection.clone()));
        }
        let cached = task.client.lock().ok().and_then(|cached| cached.clone());
        let client = match cached {
            Some(client) => client,
            None => {
                let client = self.client_for(&link).await?;
                if link.remote_kind == KIND_KINTO {
                    if let Ok(mut cached) = task.client.lock() {
                        *cached = Some(client.clone());
                    }
                }
                client
            }
        };
        let context = Context {
            store: self.store.clone(),
            settings: self.settings.clone(),
            local: link::local_of(&link),
            client: client.clone(),
            page_size: self.settings.sync_page_size.clamp(1, 10_000),
            link,
        };
        let result = async {
            task.progress.phase(Phase::Pulling);
            let pulled = pull::pull(&context, &task.progress).await?;
            let mut pushed = push::PushReport::default();
            if Direction::of(&context.link) == Direction::Both {
                task.progress.phase(Phase::Pushing);
                pushed = push::push(&context, &task.progress).await?;
            }
            tracing::debug!(link = %context.link.id, ?pulled, ?pushed, "synced");
            Ok(())
        }
        .await;
        if let Ok(mut not_before) = task.not_before.lock() {
            *not_before = client.not_before();
        }
        result
    }
}

/// A link's remote as the change-stream watcher sees it.
struct LinkRemote {
    inner: Arc<Inner>,
    link_id: String,
}

impl super::watch::Remote for LinkRemote {
    async fn link(&self) -> Option<LinkRow> {
        let id = self.link_id.clone();
        self.inner.store.read(move |tx| tx.sync_link(&id)).await.ok().flatten()
    }

    async fn client(&self, link: &LinkRow) -> Option<KintoClient> {
        self.inner.client_for(link).await.ok()
    }
}

/// Retry delay after `failures` failed syncs in a row: 2, 4, 8 ... 300 s.
fn retry_delay(failures: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(failures.min(16))).min(MAX_RETRY)
}

fn at_ms(instant: Instant) -> i64 {
    let ahead = instant.saturating_duration_since(Instant::now()).as_millis();
    now_ms().saturating_add(i64::try_from(ahead).unwrap_or(i64::MAX / 2))
}

/// A link's task: sync, then wait for a request, a nudge or the next due time.
async fn run(inner: Arc<Inner>, link_id: String, task: Arc<LinkTask>) {
    let mut failures = 0u32;
    loop {
        let remote_wait = task.not_before.lock().ok().and_then(|n| *n).filter(|at| *at > Instant::now());
        if let Some(until) = remote_wait {
            task.progress.phase(Phase::Waiting);
            tokio::select! {
                _ = task.cancel.cancelled() => return,
                _ = tokio::time::sleep_until(until.into()) => {}
            }
        }
        let covers = task.progress.start();
        let result = tokio::select! {
            _ = task.cancel.cancelled() => return,
            result = inner.sync_once(&link_id, &task) => result,
        };
        let interval = Duration::from_secs(inner.settings.sync_interval_seconds.max(1));
        let (error, delay) = match result {
            Ok(()) => {
                failures = 0;
                (None, interval)
            }
            Err(SyncError::UnknownLink(_)) => return,
            Err(err) => {
                failures += 1;
                if let Ok(mut cached) = task.client.lock() {
                    *cached = None;
                }
                tracing::warn!(link = %link_id, error = %err, failures, "sync failed");
                (Some(err.to_string()), retry_delay(failures))
            }
        };
        let id = link_id.clone();
        let outcome = error.clone();
        let recorded = inner
            .store
            .write(move |tx| match &outcome {
                None => tx.set_sync_outcome(&id, Ok(now_ms())),
                Some(message) => tx.set_sync_outcome(&id, Err(message)),
            })
            .await;
        if let Err(err) = recorded {
            tracing::warn!(link = %link_id, error = %err, "cannot record the sync outcome");
        }
        let mut due = Instant::now() + delay;
        if let Some(until) = task.not_before.lock().ok().and_then(|n| *n) {
            due = due.max(until);
        }
        let failing = error.is_some();
        task.progress.finish(covers, error, at_ms(due));
        loop {
            if task.progress.requested() > covers {
                break;
            }
            tokio::select! {
                _ = task.cancel.cancelled() => return,
                _ = task.wake.notified() => {
                    if !failing || task.progress.requested() > covers {
                        break;
                    }
                }
                _ = tokio::time::sleep_until(due.into()) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_five_minutes() {
        assert_eq!(retry_delay(1), Duration::from_secs(2));
        assert_eq!(retry_delay(3), Duration::from_secs(8));
        assert_eq!(retry_delay(40), MAX_RETRY);
    }
}
