//! Test harness: starts the real Kintoun server on 127.0.0.1:0 with the reference-equivalent
//! settings (`tests/compat/reference.toml`) and a fresh data directory, plus request helpers.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use tokio::sync::oneshot;

pub mod helpers;
pub mod srv;

/// The reference-equivalent configuration shipped in the repository.
pub const REFERENCE_TOML: &str = include_str!("../../../tests/compat/reference.toml");

/// A running server; it stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (no `/v1`).
    pub root: String,
    pub client: Client,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a server with the reference-equivalent settings.
pub async fn start() -> TestServer {
    start_with("").await
}

/// Starts a server with the reference-equivalent settings overridden by `extra_toml`
/// (any TOML; its keys replace the reference's, tables merge key by key).
pub async fn start_with(extra_toml: &str) -> TestServer {
    start_with_settings(kintoun::Settings::from_toml_str(&merged_toml(extra_toml)).expect("test settings parse")).await
}

/// The reference TOML with `extra_toml` merged over it.
pub fn merged_toml(extra_toml: &str) -> String {
    fn merge(base: &mut toml::Table, over: toml::Table) {
        for (key, value) in over {
            match (base.get_mut(&key), value) {
                (Some(toml::Value::Table(inner)), toml::Value::Table(over_inner)) => merge(inner, over_inner),
                (_, value) => {
                    base.insert(key, value);
                }
            }
        }
    }
    let mut base: toml::Table = toml::from_str(REFERENCE_TOML).expect("reference.toml parses");
    let over: toml::Table = toml::from_str(extra_toml).expect("extra settings parse");
    merge(&mut base, over);
    toml::to_string(&base).expect("settings serialize")
}

/// Starts a server with exactly these settings (the data dir is replaced by a temporary one).
pub async fn start_with_settings(mut settings: kintoun::Settings) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    settings.data_dir = Some(dir.path().to_path_buf());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(async move {
        if let Err(err) = kintoun::serve(listener, settings, shutdown).await {
            panic!("server failed: {err}");
        }
    });
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestServer { addr, root: format!("http://{addr}"), client, dir, stop: Some(stop), task: Some(task) }
}

impl TestServer {
    /// A request to `path` (e.g. `/v1/buckets`), with `Content-Type: application/json`.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{}", self.root, path))
    }

    /// Sends a request with optional Basic auth `user:password` and JSON body.
    pub async fn call(&self, method: Method, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = self.req(method, path);
        if let Some(auth) = auth {
            let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
            builder = builder.basic_auth(user, Some(password));
        }
        if let Some(body) = body {
            builder = builder.header("Content-Type", "application/json").body(body.to_string());
        }
        Reply::from(builder.send().await.expect("request")).await
    }

    /// Stops the server and waits until it is gone.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A response read to the end: status, headers, raw text and parsed JSON (Null if not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub async fn from(response: Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, text, json }
    }

    /// A header's value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All values of a header.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers.get_all(name).iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
    }

    /// The ETag as an integer (quotes stripped).
    pub fn etag(&self) -> i64 {
        self.header("etag").and_then(|e| e.trim_matches('"').parse().ok()).expect("ETag header")
    }
}

/// Runs `f` with a fresh reference-configured server and stops it afterwards.
pub async fn with_server<F, Fut>(f: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    f(start().await).await;
}
