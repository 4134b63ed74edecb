//! Crash durability: every write the server acknowledged survives `kill -9`, and the database
//! file stays intact.
//!
//! The real `kintoun` binary runs on a temporary data dir; eight writers POST records as fast as
//! they can; once 300 writes are acknowledged the process gets SIGKILL while the writers are still
//! going. It is restarted on the same data dir, every acknowledged record must read back with its
//! value, and `PRAGMA integrity_check` must say "ok". Three kill/restart cycles.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const AUTH: (&str, &str) = ("alice", "secret");
const RECORDS: &str = "/v1/buckets/b1/collections/c1/records";
const WRITERS: usize = 8;
const CYCLES: usize = 3;
/// Kill once this many writes have been acknowledged in the cycle ...
const ACKS_BEFORE_KILL: usize = 300;
/// ... or after this long, whichever comes first (a safety net, not a timing assertion).
const SAFETY_TIMEOUT: Duration = Duration::from_secs(60);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A running `kintoun serve` process; killed (SIGKILL) when dropped.
struct Process {
    child: Child,
    root: String,
    log: PathBuf,
}

impl Process {
    /// Starts the binary on `data_dir` and waits for its "listening on" line.
    fn start(data_dir: &Path, log: &Path) -> Process {
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("open server log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kintoun"));
        command
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--config")
            .arg(repo_root().join("tests/compat/reference.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("KINTOUN_") || key.starts_with("KINTO_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("spawn kintoun");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = mpsc::channel();
        // Reads stdout to the end so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = parse_port(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(port);
                    }
                }
            }
        });
        let mut process = Process { child, root: String::new(), log: log.to_path_buf() };
        match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(port) => process.root = format!("http://127.0.0.1:{port}"),
            Err(_) => {
                let status = process.child.try_wait().ok().flatten();
                panic!(
                    "no `listening on http://127.0.0.1:PORT` line on stdout within {STARTUP_TIMEOUT:?} \
                     (exit status: {status:?}); server log:\n{}",
                    process.log_tail()
                );
            }
        }
        process
    }

    /// SIGKILL (what `Child::kill` sends on Unix) and reap.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The port in a line containing `listening on http://127.0.0.1:PORT`.
fn parse_port(line: &str) -> Option<u16> {
    const MARK: &str = "listening on http://127.0.0.1:";
    let rest = &line[line.find(MARK)? + MARK.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

async fn put(client: &Client, process: &Process, path: &str) {
    let response = client
        .put(format!("{}{path}", process.root))
        .basic_auth(AUTH.0, Some(AUTH.1))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("PUT request");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "PUT {path}: expected 2xx, got {status}: {text}");
}

/// What the writers share.
#[derive(Default)]
struct Shared {
    next_n: AtomicI64,
    acked_in_cycle: AtomicUsize,
    stop: AtomicBool,
    killed: AtomicBool,
    /// (record id, n) of every write answered with 2xx and a full body.
    acked: Mutex<Vec<(String, i64)>>,
    /// Anything unexpected before the kill: non-2xx answers, request errors, odd bodies.
    problems: Mutex<Vec<String>>,
}

impl Shared {
    fn problem(&self, text: String) {
        self.problems.lock().expect("problems lock").push(text);
    }
}

async fn writer(client: Client, url: String, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let n = shared.next_n.fetch_add(1, Ordering::SeqCst);
        let sent = client
            .post(&url)
            .basic_auth(AUTH.0, Some(AUTH.1))
            .header("Content-Type", "application/json")
            .body(json!({ "data": { "n": n } }).to_string())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                if !shared.killed.load(Ordering::SeqCst) {
                    shared.problem(format!("POST n={n}: request failed before the kill: {err}"));
                }
                return;
            }
        };
        let status = response.status();
        // A body cut short by the kill is not an acknowledgement.
        let text = match response.text().await {
            Ok(text) => text,
            Err(err) => {
                if !shared.killed.load(Ordering::SeqCst) {
                    shared.problem(format!("POST n={n}: {status}, body failed before the kill: {err}"));
                }
                return;
            }
        };
        if !status.is_success() {
            shared.problem(format!("POST n={n}: expected 2xx, got {status}: {text}"));
            continue;
        }
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match body["data"]["id"].as_str() {
            Some(id) => {
                shared.acked.lock().expect("acked lock").push((id.to_owned(), n));
                shared.acked_in_cycle.fetch_add(1, Ordering::SeqCst);
            }
            None => shared.problem(format!("POST n={n}: {status} without data.id: {text}")),
        }
    }
}

/// Every acknowledged record reads back with its `n`.
async fn verify_records(process: &Process, acked: &[(String, i64)]) {
    let client = client();
    let mut missing = Vec::new();
    for (id, n) in acked {
        let response = client
            .get(format!("{}{RECORDS}/{id}", process.root))
            .basic_auth(AUTH.0, Some(AUTH.1))
            .send()
            .await
            .expect("GET record");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status != StatusCode::OK || body["data"]["n"].as_i64() != Some(*n) {
            missing.push(format!("{id} (n={n}): {status} {text}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged records did not survive kill -9, e.g.:\n{}",
        missing.len(),
        acked.len(),
        missing.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// `PRAGMA integrity_check` on the database file says "ok".
fn verify_integrity(data_dir: &Path) {
    let path = data_dir.join("kintoun.sqlite");
    assert!(path.exists(), "no database file at {}", path.display());
    let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open database read-only");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    let mut stmt = conn.prepare("PRAGMA integrity_check").expect("prepare integrity_check");
    let rows: Vec<String> =
        stmt.query_map([], |row| row.get(0)).expect("integrity_check").collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows, vec!["ok".to_owned()], "PRAGMA integrity_check on {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let log = dir.path().join("server.log");
    let shared = Arc::new(Shared::default());
    let mut all_acked: Vec<(String, i64)> = Vec::new();

    for cycle in 0..CYCLES {
        let mut process = Process::start(&data_dir, &log);
        if cycle == 0 {
            let client = client();
            put(&client, &process, "/v1/buckets/b1").await;
            put(&client, &process, "/v1/buckets/b1/collections/c1").await;
        } else {
            verify_records(&process, &all_acked).await;
            verify_integrity(&data_dir);
        }

        shared.stop.store(false, Ordering::SeqCst);
        shared.killed.store(false, Ordering::SeqCst);
        shared.acked_in_cycle.store(0, Ordering::SeqCst);
        let url = format!("{}{RECORDS}", process.root);
        let writers: Vec<_> =
            (0..WRITERS).map(|_| tokio::spawn(writer(client(), url.clone(), shared.clone()))).collect();

        let started = Instant::now();
        while shared.acked_in_cycle.load(Ordering::SeqCst) < ACKS_BEFORE_KILL
            && started.elapsed() < SAFETY_TIMEOUT
            && !writers.iter().all(|w| w.is_finished())
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Kill while the writers are still sending.
        shared.killed.store(true, Ordering::SeqCst);
        process.kill();
        shared.stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.expect("writer task");
        }

        let acked = std::mem::take(&mut *shared.acked.lock().expect("acked lock"));
        assert!(
            !acked.is_empty(),
            "cycle {cycle}: no write was acknowledged; problems: {:?}\nserver log:\n{}",
            shared.problems.lock().expect("problems lock"),
            process.log_tail()
        );
        all_acked.extend(acked);
    }

    let process = Process::start(&data_dir, &log);
    verify_records(&process, &all_acked).await;
    verify_integrity(&data_dir);
    drop(process);

    let problems = shared.problems.lock().expect("problems lock");
    assert!(problems.is_empty(), "writes that failed before any kill:\n{}", problems.join("\n"));
}
