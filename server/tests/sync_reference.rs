//! The replicator with the REFERENCE Kinto 26.5.0 as the remote (memory backend, started with
//! `../shared/reference/start-ref.sh`): records both ways, deletions both ways, a conflict found
//! by a pull and one found by a push's 412 (Kinto's own `details.existing`), resolutions.
//!
//! Without the reference venv (`$KREF/venv`, see `../shared/reference/setup-ref.sh`) the test
//! prints why and passes, unless `KINTOUN_REQUIRE_REFERENCE=1`: `make test-sync-reference`
//! (part of `make test`) installs the reference and sets it.

mod sync_support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use sync_support::{Auth, BOB, Node, OwnerAuth, bob, records};

const LOCAL: (&str, &str) = ("home", "recipes");
const REMOTE: (&str, &str) = ("shared", "recipes");

fn reference_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/reference"))
}

/// The reference server; stopped (`kill`) when dropped.
struct Reference {
    pid: i32,
    addr: SocketAddr,
}

impl Reference {
    /// Starts it, or says why it cannot.
    fn start() -> Result<Reference, String> {
        let kref = PathBuf::from(std::env::var("KREF").unwrap_or_else(|_| "/tmp/kref".into()));
        let script = reference_dir().join("start-ref.sh");
        if !kref.join("venv/bin/kinto").exists() || !script.exists() {
            return Err(format!(
                "no reference Kinto ({} or {} missing; run `make reference`)",
                kref.join("venv/bin/kinto").display(),
                script.display()
            ));
        }
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let output = Command::new("bash").arg(&script).arg(port.to_string()).output().map_err(|e| e.to_string())?;
        let pid = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse::<i32>()
            .map_err(|_| format!("start-ref.sh failed: {}", String::from_utf8_lossy(&output.stderr)))?;
        Ok(Reference { pid, addr: SocketAddr::from(([127, 0, 0, 1], port)) })
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg("-c").arg(format!("kill {}", self.pid)).status();
    }
}

async fn both_sides(
    local: &Node,
    reference: &Node,
) -> (std::collections::BTreeMap<String, Value>, std::collections::BTreeMap<String, Value>) {
    (local.records(Auth::Owner, LOCAL.0, LOCAL.1).await, reference.records(bob(), REMOTE.0, REMOTE.1).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_both_ways_with_the_reference_kinto_including_conflicts() {
    let started = match Reference::start() {
        Ok(started) => started,
        Err(why) if std::env::var("KINTOUN_REQUIRE_REFERENCE").is_ok_and(|v| v == "1") => panic!("{why}"),
        Err(why) => {
            eprintln!("SKIPPED syncs_both_ways_with_the_reference_kinto_including_conflicts: {why}");
            return;
        }
    };
    let ldir = tempfile::tempdir().expect("dir");
    let reference = Node::api(started.addr, ldir.path(), OwnerAuth::Password(String::new()));
    // Kinto's accounts: anyone may create one with ref.ini.
    reference
        .ok(Method::PUT, &format!("/accounts/{}", BOB.0), Auth::Anonymous, Some(json!({"data": {"password": BOB.1}})))
        .await;
    reference.collection(bob(), REMOTE.0, REMOTE.1).await;
    reference.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 60)).await;

    let local = Node::start(&ldir.path().join("local"), None, 10).await;
    local.collection(Auth::Owner, LOCAL.0, LOCAL.1).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("l", 40)).await;
    let link = local.linked(&reference, REMOTE, LOCAL, "both").await;
    let first = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
    assert!(first["data"]["last_error"].is_null(), "{first}");
    let (mine, theirs) = both_sides(&local, &reference).await;
    assert_eq!(mine.len(), 100);
    assert_eq!(mine, theirs, "first sync with the reference");

    // Edits and deletions on both sides.
    reference.put_records(bob(), REMOTE.0, REMOTE.1, &[("l-1".into(), json!({"title": "edited on Kinto"}))]).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &[("r-1".into(), json!({"title": "edited on Kintoun"}))]).await;
    reference.delete_records(bob(), REMOTE.0, REMOTE.1, &["l-2".into(), "r-2".into()]).await;
    local.delete_records(Auth::Owner, LOCAL.0, LOCAL.1, &["l-3".into(), "r-3".into()]).await;
    let after = local.sync(&link).await;
    assert!(after["last_error"].is_null(), "{after}");
    let (mine, theirs) = both_sides(&local, &reference).await;
    assert_eq!(mine.len(), 96);
    assert_eq!(mine, theirs);
    assert_eq!(theirs["r-1"]["title"], "edited on Kintoun");
    assert_eq!(mine["l-1"]["title"], "edited on Kinto");

    // A conflict found by the pull: mine, theirs and the base; "mine" then goes to Kinto.
    let local_path = "/buckets/home/collections/recipes/records/r-5";
    let remote_path = "/buckets/shared/collections/recipes/records/r-5";
    local.ok(Method::PATCH, local_path, Auth::Owner, Some(json!({"data": {"title": "mine"}}))).await;
    reference.ok(Method::PATCH, remote_path, bob(), Some(json!({"data": {"title": "theirs"}}))).await;
    local.sync(&link).await;
    let conflicts = local.conflicts(&link).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["mine"]["title"], "mine");
    assert_eq!(conflicts[0]["theirs"]["title"], "theirs");
    assert_eq!(conflicts[0]["base"]["title"], "r 5");
    local.resolve(&link, "r-5", json!({"resolution": "mine"})).await;
    let resolved = local.sync(&link).await;
    assert!(resolved["last_error"].is_null(), "{resolved}");
    let (mine, theirs) = both_sides(&local, &reference).await;
    assert_eq!(theirs["r-5"]["title"], "mine");
    assert_eq!(mine, theirs);

    // A conflict found by the push: Kinto's 412 carries the version it holds.
    local
        .ok(
            Method::PATCH,
            "/buckets/home/collections/recipes/records/r-6",
            Auth::Owner,
            Some(json!({"data": {"title": "mine 6"}})),
        )
        .await;
    reference
        .ok(
            Method::PATCH,
            "/buckets/shared/collections/recipes/records/r-6",
            bob(),
            Some(json!({"data": {"title": "theirs 6"}})),
        )
        .await;
    reference.delete_records(bob(), REMOTE.0, REMOTE.1, &["r-7".into()]).await;
    local
        .ok(
            Method::PATCH,
            "/buckets/home/collections/recipes/records/r-7",
            Auth::Owner,
            Some(json!({"data": {"title": "mine 7"}})),
        )
        .await;
    let report = push_alone(&local, &link).await;
    assert_eq!((report.sent, report.conflicts), (2, 2));
    let conflicts = local.conflicts(&link).await;
    let six = conflicts.iter().find(|c| c["record_id"] == "r-6").expect("r-6");
    assert_eq!((six["mine"]["title"].clone(), six["theirs"]["title"].clone()), (json!("mine 6"), json!("theirs 6")));
    assert!(six["theirs_last_modified"].is_i64(), "{six}");
    let seven = conflicts.iter().find(|c| c["record_id"] == "r-7").expect("r-7");
    assert_eq!((seven["theirs"].clone(), seven["theirs_last_modified"].clone()), (Value::Null, Value::Null), "{seven}");
    local.resolve(&link, "r-6", json!({"resolution": "theirs"})).await;
    local.resolve(&link, "r-7", json!({"resolution": "mine"})).await;
    let done = local.sync(&link).await;
    assert!(done["last_error"].is_null(), "{done}");
    assert!(local.conflicts(&link).await.is_empty());
    let (mine, theirs) = both_sides(&local, &reference).await;
    assert_eq!(mine, theirs, "resolutions converge with the reference");
    assert_eq!(theirs["r-6"]["title"], "theirs 6");
    assert_eq!(theirs["r-7"]["title"], "mine 7", "re-created on Kinto with If-None-Match");

    // This reference runs without kinto-attachment: a record with a file waits in the inbox,
    // saying why, and the rest goes on.
    let (bucket, collection) = local_collection(&link, &local).await;
    let up =
        local.attach(Auth::Owner, (&bucket, &collection, "r-8"), ("a.txt", "text/plain", b"file"), json!({})).await;
    assert_eq!(up.status, 200, "{}", up.json);
    let done = local.sync(&link).await;
    assert!(done["last_error"].is_null(), "{done}");
    let conflicts = local.conflicts(&link).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert!(conflicts[0]["reason"].as_str().is_some_and(|r| r.contains("does not take attachments")), "{conflicts:?}");
    local.stop().await;
    drop(started);
}

/// The local collection of a link.
async fn local_collection(link: &str, local: &Node) -> (String, String) {
    let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
    let of = |name: &str| shown["data"]["local"][name].as_str().expect("local collection").to_owned();
    (of("bucket"), of("collection"))
}

/// Runs a push on its own (no pull first), as when a remote change lands between the phases.
async fn push_alone(local: &Node, link: &str) -> kintoun::sync::push::PushReport {
    use kintoun::sync::progress::Progress;
    use kintoun::sync::runner::Context;
    let id = link.to_owned();
    let (store, settings) = (local.store.clone().expect("store"), local.settings.clone().expect("settings"));
    let row = store.read(move |tx| tx.sync_link(&id)).await.expect("read").expect("link");
    let secrets = kintoun::secrets::SecretStore::new(&local.dir, kintoun::secrets::SecretsBackend::File);
    let replicator = kintoun::sync::Replicator::new(store.clone(), settings.clone(), secrets);
    let client = replicator.client_for(&row).await.expect("client");
    let collection = kintoun::sync::link::local_of(&row);
    let context = Context { store, settings, local: collection, client, page_size: 10, link: row };
    kintoun::sync::push::push(&context, &Progress::default()).await.expect("push")
}
