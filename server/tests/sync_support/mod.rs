//! Harness of the replicator tests: Kintoun servers in this process on 127.0.0.1 (stoppable and
//! restartable on the same address and data dir), the owner's session, Basic accounts, bulk
//! writes through `/batch`, full record sets to compare, and sync links driven through the
//! owner's `/v1/__sync__` endpoints.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kintoun::secrets::SecretsBackend;
use kintoun::settings::Durability;
use kintoun::storage::Store;
use kintoun::{Server, Settings};
use reqwest::{Client, Method};
use serde_json::{Map, Value, json};

pub const BOB: (&str, &str) = ("bob", "bob-secret-password");

/// Who sends a request.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Owner,
    Basic(&'a str, &'a str),
    Anonymous,
}

/// A response: status, headers, JSON body (`null` if none).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The test settings: Kintoun's defaults (owner `account:admin`), secrets in files, no timer
/// nor live syncs (the tests ask for each sync), durability `normal` (speed; the crash test uses the
/// binary with `full`).
pub fn settings(dir: &Path, page_size: usize) -> Settings {
    let mut settings = Settings::default();
    settings.data_dir = Some(dir.to_path_buf());
    settings.secrets_backend = SecretsBackend::File;
    settings.durability = Durability::Normal;
    settings.sync_interval_seconds = 3600;
    settings.sync_live = false;
    settings.sync_page_size = page_size;
    settings
}

/// How the owner authenticates.
#[derive(Clone)]
pub enum OwnerAuth {
    /// A session token minted in-process.
    Bearer(String),
    /// `admin` and the password from the data dir (a server in another process).
    Password(String),
}

/// A running server (in this process, or a `kintoun serve` process: no store then).
pub struct Node {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/v1`
    pub base: String,
    pub owner: OwnerAuth,
    pub dir: PathBuf,
    pub store: Option<Store>,
    pub settings: Option<Arc<Settings>>,
    pub http: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Node {
    /// Starts a server on `dir` (at `addr`, or a free port).
    pub async fn start(dir: &Path, addr: Option<SocketAddr>, page_size: usize) -> Node {
        Node::start_with(dir, addr, settings(dir, page_size)).await
    }

    /// Starts a server with these settings.
    pub async fn start_with(dir: &Path, addr: Option<SocketAddr>, settings: Settings) -> Node {
        let server = Server::open(settings).await.expect("server opens");
        let token = server.session_token("account:admin");
        let store = server.store().clone();
        let settings = Arc::new(server.settings().clone());
        let listener = tokio::net::TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().expect("addr")))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(listener, async move {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        let http = Client::builder().timeout(Duration::from_secs(120)).build().expect("client");
        Node {
            addr,
            base: format!("http://{addr}/v1"),
            owner: OwnerAuth::Bearer(token),
            dir: dir.to_path_buf(),
            store: Some(store),
            settings: Some(settings),
            http,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The API of a server running elsewhere (e.g. a `kintoun serve` process on `dir`).
    pub fn external(addr: SocketAddr, dir: &Path) -> Node {
        let password =
            std::fs::read_to_string(dir.join("secrets").join("owner-password")).expect("owner password file");
        Node::api(addr, dir, OwnerAuth::Password(password.trim().to_owned()))
    }

    /// The API of any server at `addr` (e.g. the reference Kinto).
    pub fn api(addr: SocketAddr, dir: &Path, owner: OwnerAuth) -> Node {
        Node {
            addr,
            base: format!("http://{addr}/v1"),
            owner,
            dir: dir.to_path_buf(),
            store: None,
            settings: None,
            http: Client::builder().timeout(Duration::from_secs(120)).build().expect("client"),
            stop: None,
            task: None,
        }
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

    /// `request` with the credentials of `auth`.
    fn authorize(&self, request: reqwest::RequestBuilder, auth: Auth<'_>) -> reqwest::RequestBuilder {
        match auth {
            Auth::Owner => match &self.owner {
                OwnerAuth::Bearer(token) => request.bearer_auth(token),
                OwnerAuth::Password(password) => request.basic_auth("admin", Some(password)),
            },
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            Auth::Anonymous => request,
        }
    }

    pub async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut request = self.http.request(method, url);
        request = self.authorize(request, auth);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Reply { status, headers, json: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    /// A request that must succeed; its JSON.
    pub async fn ok(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Value {
        let reply = self.call(method.clone(), path, auth, body).await;
        assert!((200..300).contains(&reply.status), "{method} {path}: {} {}", reply.status, reply.json);
        reply.json
    }

    /// Attaches a file to a record (multipart POST to its attachment endpoint, with `data`).
    pub async fn attach(
        &self,
        auth: Auth<'_>,
        (bucket, collection, id): (&str, &str, &str),
        (filename, mimetype, bytes): (&str, &str, &[u8]),
        data: Value,
    ) -> Reply {
        let url = format!("{}/buckets/{bucket}/collections/{collection}/records/{id}/attachment", self.base);
        let part = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(filename.to_owned())
            .mime_str(mimetype)
            .expect("mimetype");
        let form = reqwest::multipart::Form::new().part("attachment", part).text("data", data.to_string());
        let mut request = self.http.post(url).multipart(form);
        request = self.authorize(request, auth);
        let response = request.send().await.expect("upload");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Reply { status, headers, json: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    /// The bytes this server serves for an attachment `location` (relative or absolute);
    /// `None` when it answers 404.
    pub async fn file(&self, location: &str) -> Option<Vec<u8>> {
        let url = if location.starts_with("http") {
            location.to_owned()
        } else {
            format!("http://{}/attachments/{location}", self.addr)
        };
        let response = self.http.get(&url).send().await.expect("file request");
        match response.status().as_u16() {
            404 => None,
            200 => Some(response.bytes().await.expect("file bytes").to_vec()),
            other => panic!("{url}: {other}"),
        }
    }

    /// Asserts that this server serves `bytes` at the attachment `location`.
    pub async fn assert_serves(&self, location: &str, bytes: &[u8], what: &str) {
        assert!(
            self.file(location).await.as_deref() == Some(bytes),
            "{} does not serve {what} at {location}",
            self.addr
        );
    }

    /// Creates an account (as the owner, who administers accounts with the defaults).
    pub async fn account(&self, (user, password): (&str, &str)) {
        self.ok(Method::PUT, &format!("/accounts/{user}"), Auth::Owner, Some(json!({"data": {"password": password}})))
            .await;
    }

    /// Creates a bucket and a collection.
    pub async fn collection(&self, auth: Auth<'_>, bucket: &str, collection: &str) {
        self.ok(Method::PUT, &format!("/buckets/{bucket}"), auth, None).await;
        self.ok(Method::PUT, &format!("/buckets/{bucket}/collections/{collection}"), auth, None).await;
    }

    /// PUTs records (id → fields) through `/batch`, 25 at a time.
    pub async fn put_records(&self, auth: Auth<'_>, bucket: &str, collection: &str, records: &[(String, Value)]) {
        for chunk in records.chunks(25) {
            let requests: Vec<Value> = chunk
                .iter()
                .map(|(id, data)| {
                    json!({"method": "PUT", "path": format!("/buckets/{bucket}/collections/{collection}/records/{id}"),
                           "body": {"data": data}})
                })
                .collect();
            self.batch(auth, requests).await;
        }
    }

    /// DELETEs records through `/batch`.
    pub async fn delete_records(&self, auth: Auth<'_>, bucket: &str, collection: &str, ids: &[String]) {
        for chunk in ids.chunks(25) {
            let requests: Vec<Value> = chunk
                .iter()
                .map(|id| json!({"method": "DELETE", "path": format!("/buckets/{bucket}/collections/{collection}/records/{id}")}))
                .collect();
            self.batch(auth, requests).await;
        }
    }

    async fn batch(&self, auth: Auth<'_>, requests: Vec<Value>) {
        let answer = self.ok(Method::POST, "/batch", auth, Some(json!({ "requests": requests }))).await;
        for response in answer["responses"].as_array().expect("responses") {
            let status = response["status"].as_u64().unwrap_or(0);
            assert!((200..300).contains(&status), "batch write: {response}");
        }
    }

    /// Every live record of a collection: id → fields (without `last_modified` and the
    /// `schema` stamp).
    pub async fn records(&self, auth: Auth<'_>, bucket: &str, collection: &str) -> BTreeMap<String, Value> {
        let mut records = BTreeMap::new();
        let mut url = format!("{}/buckets/{bucket}/collections/{collection}/records?_limit=1000", self.base);
        loop {
            let reply = self.call(Method::GET, &url, auth, None).await;
            assert_eq!(reply.status, 200, "{url}: {}", reply.json);
            for record in reply.json["data"].as_array().expect("data") {
                let mut fields: Map<String, Value> = record.as_object().cloned().expect("object");
                let id = fields.remove("id").and_then(|v| v.as_str().map(str::to_owned)).expect("id");
                fields.remove("last_modified");
                if fields.get("schema").is_some_and(Value::is_number) {
                    fields.remove("schema");
                }
                assert!(records.insert(id, Value::Object(fields)).is_none(), "a record listed twice");
            }
            match reply.header("next-page") {
                Some(next) => url = next.to_owned(),
                None => return records,
            }
        }
    }

    /// The records list's timestamp (its ETag).
    pub async fn records_timestamp(&self, auth: Auth<'_>, bucket: &str, collection: &str) -> i64 {
        let reply = self
            .call(Method::GET, &format!("/buckets/{bucket}/collections/{collection}/records?_limit=1"), auth, None)
            .await;
        reply.header("etag").and_then(|e| e.trim_matches('"').parse().ok()).expect("ETag")
    }

    /// Links a local collection to a remote one; the raw answer.
    pub async fn link(
        &self,
        remote: &Node,
        remote_coll: (&str, &str),
        local_coll: (&str, &str),
        direction: &str,
    ) -> Reply {
        let body = json!({
            "local": {"bucket": local_coll.0, "collection": local_coll.1},
            "remote": {"url": remote.base, "bucket": remote_coll.0, "collection": remote_coll.1,
                       "user": BOB.0, "password": BOB.1},
            "direction": direction,
        });
        self.call(Method::POST, "/__sync__/links", Auth::Owner, Some(body)).await
    }

    /// Links and waits for the first sync; the link id.
    pub async fn linked(
        &self,
        remote: &Node,
        remote_coll: (&str, &str),
        local_coll: (&str, &str),
        direction: &str,
    ) -> String {
        let reply = self.link(remote, remote_coll, local_coll, direction).await;
        assert_eq!(reply.status, 201, "link: {}", reply.json);
        let id = reply.json["data"]["id"].as_str().expect("link id").to_owned();
        self.wait_run(&id, 1).await;
        id
    }

    /// Syncs a link now and waits for that run; the link afterwards.
    pub async fn sync(&self, id: &str) -> Value {
        let started = self.ok(Method::POST, &format!("/__sync__/links/{id}/sync"), Auth::Owner, None).await;
        let run = started["data"]["run"].as_u64().expect("run");
        self.wait_run(id, run).await
    }

    /// Polls a link until run `run` finished (a hang guard of 10 minutes, not a timing check).
    pub async fn wait_run(&self, id: &str, run: u64) -> Value {
        for _ in 0..30_000 {
            let link = self.ok(Method::GET, &format!("/__sync__/links/{id}"), Auth::Owner, None).await;
            if link["data"]["progress"]["completed_run"].as_u64().unwrap_or(0) >= run {
                return link["data"].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("sync run {run} of {id} never finished");
    }

    pub async fn conflicts(&self, id: &str) -> Vec<Value> {
        let list = self.ok(Method::GET, &format!("/__sync__/links/{id}/conflicts"), Auth::Owner, None).await;
        list["data"].as_array().cloned().expect("conflicts")
    }

    pub async fn resolve(&self, id: &str, record: &str, body: Value) -> Value {
        self.ok(Method::POST, &format!("/__sync__/links/{id}/conflicts/{record}"), Auth::Owner, Some(body)).await
    }
}

/// A remote Kintoun with account `bob` owning bucket `shared` / collection `recipes`.
pub async fn remote(dir: &Path) -> Node {
    remote_with(dir, settings(dir, 500)).await
}

/// The same with other settings.
pub async fn remote_with(dir: &Path, settings: Settings) -> Node {
    let node = Node::start_with(dir, None, settings).await;
    node.account(BOB).await;
    node.collection(Auth::Basic(BOB.0, BOB.1), "shared", "recipes").await;
    node
}

pub fn bob() -> Auth<'static> {
    Auth::Basic(BOB.0, BOB.1)
}

/// `n` records `<prefix>-<i>` with a title and a number.
pub fn records(prefix: &str, n: usize) -> Vec<(String, Value)> {
    (0..n)
        .map(|i| (format!("{prefix}-{i}"), json!({"title": format!("{prefix} {i}"), "n": i, "tags": ["a", "b"]})))
        .collect()
}

/// A `kintoun serve` process on a data dir (secrets in files, no timer syncs, pull pages of
/// `page_size`); SIGKILLed when dropped.
pub struct Process {
    child: std::process::Child,
    pub addr: SocketAddr,
}

impl Process {
    pub fn start(dir: &Path, page_size: usize) -> Process {
        use std::io::{BufRead, BufReader};
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.with_extension("log")).expect("log");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kintoun"));
        command.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"]).arg(dir);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("KINTOUN_") || key.starts_with("KINTO_") {
                command.env_remove(key);
            }
        }
        command
            .env("KINTOUN_SECRETS_BACKEND", "file")
            .env("KINTOUN_SYNC_PAGE_SIZE", page_size.to_string())
            .env("KINTOUN_SYNC_INTERVAL_SECONDS", "3600")
            .env("KINTOUN_SYNC_LIVE", "false")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(log);
        let mut child = command.spawn().expect("spawn kintoun");
        let stdout = child.stdout.take().expect("stdout");
        let (found, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let (Some(found), Ok(port)) = (found.take(), digits.parse::<u16>()) {
                        let _ = found.send(port);
                    }
                }
            }
        });
        let port = port.recv_timeout(Duration::from_secs(60)).expect("kintoun serve prints its address");
        Process { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) }
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}
