//! The replicator against another Kintoun as the remote (two real servers on 127.0.0.1, the
//! remote with an account): convergence of 1,000 records edited on both sides, deletions both
//! ways, a remote offline during 200 local changes, conflicts (found by a pull and by a push's
//! 412) and each resolution, a pull-only link that never writes, clear errors for bad
//! credentials and unreachable remotes, attachments following their records both ways.
//! Durations are printed, never asserted.

mod sync_support;

use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};
use sync_support::{Auth, Node, bob, records, remote};

const LOCAL: (&str, &str) = ("home", "recipes");
const REMOTE: (&str, &str) = ("shared", "recipes");

async fn local_records(local: &Node) -> std::collections::BTreeMap<String, Value> {
    local.records(Auth::Owner, LOCAL.0, LOCAL.1).await
}

async fn remote_records(remote: &Node) -> std::collections::BTreeMap<String, Value> {
    remote.records(bob(), REMOTE.0, REMOTE.1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_records_edited_on_both_sides_converge() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 500)).await;
    local.collection(Auth::Owner, LOCAL.0, LOCAL.1).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("l", 500)).await;

    let started = Instant::now();
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;
    let first = started.elapsed();
    let (mine, theirs) = (local_records(&local).await, remote_records(&remote).await);
    assert_eq!(mine.len(), 1000);
    assert_eq!(mine, theirs, "one sync makes both sides equal");
    let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
    let progress = &shown["data"]["progress"];
    assert_eq!((progress["pulled"].as_u64(), progress["pushed"].as_u64()), (Some(500), Some(500)), "{shown}");
    assert!(shown["data"]["last_error"].is_null() && shown["data"]["last_sync"].is_i64(), "{shown}");
    eprintln!(
        "MEASURE convergence of 1,000 records both ways (500 each side, pull pages of 100, batches of 25): {:.2} s",
        first.as_secs_f64()
    );

    // Edits on both sides (different records), then one sync.
    let remote_edits: Vec<(String, Value)> =
        (0..100).map(|i| (format!("l-{i}"), json!({"title": format!("edited there {i}"), "n": i}))).collect();
    let local_edits: Vec<(String, Value)> =
        (0..100).map(|i| (format!("r-{i}"), json!({"title": format!("edited here {i}"), "n": -i}))).collect();
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &remote_edits).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &local_edits).await;
    let started = Instant::now();
    let after = local.sync(&link).await;
    eprintln!("MEASURE 100 edits each side to converged: {:.2} s", started.elapsed().as_secs_f64());
    assert!(after["last_error"].is_null(), "{after}");
    let (mine, theirs) = (local_records(&local).await, remote_records(&remote).await);
    assert_eq!(mine, theirs);
    assert_eq!(mine["l-7"]["title"], "edited there 7");
    assert_eq!(theirs["r-7"]["title"], "edited here 7");
    assert!(local.conflicts(&link).await.is_empty());

    // A sync with nothing new writes nothing on either side: echoes are recognised.
    assert_quiet_sync(&local, &remote, &link).await;

    // The replicator's writes went through the engine: history names it.
    let history = local
        .ok(
            Method::GET,
            "/buckets/home/history?resource_name=record&record_id=r-7&_sort=last_modified",
            Auth::Owner,
            None,
        )
        .await;
    let authors: Vec<&str> =
        history["data"].as_array().expect("history").iter().filter_map(|e| e["user_id"].as_str()).collect();
    assert_eq!(authors.first(), Some(&"system:replicator"), "{history}");
    local.stop().await;
    remote.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_propagate_both_ways() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 20)).await;
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("l", 20)).await;
    local.sync(&link).await;
    assert_eq!(remote_records(&remote).await.len(), 40);

    let gone_here: Vec<String> = (0..5).map(|i| format!("r-{i}")).chain((0..3).map(|i| format!("l-{i}"))).collect();
    let gone_there: Vec<String> =
        (10..15).map(|i| format!("r-{i}")).chain((10..13).map(|i| format!("l-{i}"))).collect();
    local.delete_records(Auth::Owner, LOCAL.0, LOCAL.1, &gone_here).await;
    remote.delete_records(bob(), REMOTE.0, REMOTE.1, &gone_there).await;
    let after = local.sync(&link).await;
    assert!(after["last_error"].is_null(), "{after}");
    let (mine, theirs) = (local_records(&local).await, remote_records(&remote).await);
    assert_eq!(mine.len(), 24);
    assert_eq!(mine, theirs);
    for id in gone_here.iter().chain(&gone_there) {
        assert!(!mine.contains_key(id), "{id} still here");
    }
    // Local deletions left tombstones, as any delete does.
    let since = local.ok(Method::GET, "/buckets/home/collections/recipes/records?_since=0", Auth::Owner, None).await;
    let tombstones = since["data"].as_array().expect("list").iter().filter(|r| r["deleted"] == true).count();
    assert_eq!(tombstones, 16, "{since}");
    assert!(local.conflicts(&link).await.is_empty());
    local.stop().await;
    remote.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_offline_during_200_local_changes_catches_up() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote_node = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    remote_node.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 50)).await;
    let link = local.linked(&remote_node, REMOTE, LOCAL, "both").await;
    let addr = remote_node.addr;
    remote_node.stop().await;

    // 200 changes while the remote is away: 150 new records, 40 edits, 10 deletions.
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("offline", 150)).await;
    let edits: Vec<(String, Value)> =
        (0..40).map(|i| (format!("r-{i}"), json!({"title": "changed offline", "n": i}))).collect();
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &edits).await;
    let deleted: Vec<String> = (40..50).map(|i| format!("r-{i}")).collect();
    local.delete_records(Auth::Owner, LOCAL.0, LOCAL.1, &deleted).await;
    let before = local_records(&local).await;

    let failed = local.sync(&link).await;
    let error = failed["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot reach"), "a clear error: {failed}");
    assert_eq!(local_records(&local).await, before, "nothing lost while the remote is away");
    let listed = local.ok(Method::GET, "/__sync__/links", Auth::Owner, None).await;
    assert_eq!(listed["data"][0]["last_error"].as_str(), Some(error));

    let remote_node = Node::start(rdir.path(), Some(addr), 500).await;
    let started = Instant::now();
    let caught_up = local.sync(&link).await;
    eprintln!("MEASURE 200 offline changes pushed after reconnection: {:.2} s", started.elapsed().as_secs_f64());
    assert!(caught_up["last_error"].is_null(), "{caught_up}");
    assert_eq!(caught_up["progress"]["pushed"], 200, "{caught_up}");
    let theirs = remote_records(&remote_node).await;
    assert_eq!(theirs, before);
    assert_eq!(theirs.len(), 190);
    local.stop().await;
    remote_node.stop().await;
}

/// Edits the same records on both sides before a sync.
async fn concurrent_edits(local: &Node, remote: &Node, ids: &[&str]) {
    for id in ids {
        let path = format!("/buckets/{}/collections/{}/records/{id}", LOCAL.0, LOCAL.1);
        local.ok(Method::PATCH, &path, Auth::Owner, Some(json!({"data": {"title": format!("mine {id}")}}))).await;
        let path = format!("/buckets/{}/collections/{}/records/{id}", REMOTE.0, REMOTE.1);
        remote.ok(Method::PATCH, &path, bob(), Some(json!({"data": {"title": format!("theirs {id}")}}))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_land_in_the_inbox_and_each_resolution_converges() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    let base: Vec<(String, Value)> =
        ["x", "y", "z", "w"].iter().map(|id| (id.to_string(), json!({"title": "base", "n": 1}))).collect();
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &base).await;
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;

    // One record edited on both sides: exactly one conflict, with mine, theirs and the base.
    concurrent_edits(&local, &remote, &["x"]).await;
    local.sync(&link).await;
    let conflicts = local.conflicts(&link).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let conflict = &conflicts[0];
    assert_eq!(conflict["record_id"], "x");
    assert_eq!(conflict["mine"], json!({"title": "mine x", "n": 1}));
    assert_eq!(conflict["theirs"], json!({"title": "theirs x", "n": 1}));
    assert_eq!(conflict["base"], json!({"title": "base", "n": 1}));
    assert_eq!(conflict["reason"], "concurrent_edit");
    // Neither side was overwritten, and the local version was not pushed.
    assert_eq!(local_records(&local).await["x"]["title"], "mine x");
    assert_eq!(remote_records(&remote).await["x"]["title"], "theirs x");
    let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
    assert_eq!(shown["data"]["conflicts"], 1);

    // More conflicts: an edit on both sides of y and z, and w deleted here but edited there.
    concurrent_edits(&local, &remote, &["y", "z"]).await;
    local.ok(Method::DELETE, "/buckets/home/collections/recipes/records/w", Auth::Owner, None).await;
    remote
        .ok(Method::PATCH, "/buckets/shared/collections/recipes/records/w", bob(), Some(json!({"data": {"n": 2}})))
        .await;
    local.sync(&link).await;
    let conflicts = local.conflicts(&link).await;
    let ids: Vec<&str> = conflicts.iter().filter_map(|c| c["record_id"].as_str()).collect();
    assert_eq!(ids.len(), 4, "{conflicts:?}");
    let w = conflicts.iter().find(|c| c["record_id"] == "w").expect("w");
    assert_eq!((w["mine"].clone(), w["theirs"].clone()), (Value::Null, json!({"title": "base", "n": 2})));

    // Each resolution kind.
    let kept = local.resolve(&link, "x", json!({"resolution": "mine"})).await;
    assert_eq!(kept["data"]["push"], true);
    let taken = local.resolve(&link, "y", json!({"resolution": "theirs"})).await;
    assert_eq!(taken["data"]["push"], false);
    local.resolve(&link, "z", json!({"resolution": "merge", "data": {"title": "merged", "n": 3}})).await;
    local.resolve(&link, "w", json!({"resolution": "theirs"})).await;
    let bad = local
        .call(
            Method::POST,
            &format!("/__sync__/links/{link}/conflicts/x"),
            Auth::Owner,
            Some(json!({"resolution": "mine"})),
        )
        .await;
    assert_eq!(bad.status, 404, "settled already: {}", bad.json);
    let invalid = local
        .call(
            Method::POST,
            &format!("/__sync__/links/{link}/conflicts/x"),
            Auth::Owner,
            Some(json!({"resolution": "both"})),
        )
        .await;
    assert_eq!((invalid.status, invalid.json["errno"].as_u64()), (400, Some(107)), "{}", invalid.json);

    let after = local.sync(&link).await;
    assert!(after["last_error"].is_null(), "{after}");
    assert!(local.conflicts(&link).await.is_empty());
    let (mine, theirs) = (local_records(&local).await, remote_records(&remote).await);
    assert_eq!(mine, theirs, "resolutions converge");
    assert_eq!(mine["x"]["title"], "mine x");
    assert_eq!(mine["y"]["title"], "theirs y");
    assert_eq!(mine["z"], json!({"title": "merged", "n": 3}));
    assert_eq!(mine["w"], json!({"title": "base", "n": 2}));
    local.stop().await;
    remote.stop().await;
}

/// The push's 412 path: the remote changes a record after the pull read it (the push is run on
/// its own, as it would be when the change lands between the two phases of a sync).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_412_on_push_keeps_both_versions() {
    use kintoun::sync::progress::Progress;
    use kintoun::sync::runner::Context;
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &[("x".to_owned(), json!({"title": "base"}))]).await;
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;
    local
        .ok(
            Method::PUT,
            "/buckets/home/collections/recipes/records/x",
            Auth::Owner,
            Some(json!({"data": {"title": "mine"}})),
        )
        .await;
    local
        .ok(
            Method::PUT,
            "/buckets/home/collections/recipes/records/fresh",
            Auth::Owner,
            Some(json!({"data": {"title": "new"}})),
        )
        .await;
    remote
        .ok(
            Method::PUT,
            "/buckets/shared/collections/recipes/records/x",
            bob(),
            Some(json!({"data": {"title": "theirs"}})),
        )
        .await;

    let id = link.clone();
    let (store, settings) = (local.store.clone().expect("store"), local.settings.clone().expect("settings"));
    let row = store.read(move |tx| tx.sync_link(&id)).await.expect("read").expect("link");
    let secrets = kintoun::secrets::SecretStore::new(&local.dir, kintoun::secrets::SecretsBackend::File);
    let replicator = kintoun::sync::Replicator::new(store.clone(), settings.clone(), secrets);
    let client = replicator.client_for(&row).await.expect("client");
    let local_collection = kintoun::sync::link::local_of(&row);
    let context = Context { store, settings, local: local_collection, client, page_size: 100, link: row };
    let report = kintoun::sync::push::push(&context, &Progress::default()).await.expect("push");
    assert_eq!((report.sent, report.conflicts), (2, 1));

    let conflicts = local.conflicts(&link).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(
        (conflicts[0]["mine"].clone(), conflicts[0]["theirs"].clone()),
        (json!({"title": "mine"}), json!({"title": "theirs"}))
    );
    assert_eq!(conflicts[0]["base"], json!({"title": "base"}));
    let theirs = remote_records(&remote).await;
    assert_eq!(theirs["x"]["title"], "theirs", "the 412 left the remote alone");
    assert_eq!(theirs["fresh"]["title"], "new", "the rest of the batch went through");
    // A later sync neither loses the conflict nor pushes mine.
    local.sync(&link).await;
    assert_eq!(local.conflicts(&link).await.len(), 1);
    assert_eq!(remote_records(&remote).await["x"]["title"], "theirs");
    local.stop().await;
    remote.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_only_link_never_writes_to_the_remote() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 1000)).await;
    let remote_ts = remote.records_timestamp(bob(), REMOTE.0, REMOTE.1).await;

    let started = Instant::now();
    let link = local.linked(&remote, REMOTE, LOCAL, "pull").await;
    let elapsed = started.elapsed().as_secs_f64();
    let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
    let pages = shown["data"]["progress"]["pages"].as_u64().unwrap_or(0);
    eprintln!(
        "MEASURE pull of 1,000 records in {pages} pages of 100: {elapsed:.2} s, {:.1} pages/s, {:.0} records/s",
        pages as f64 / elapsed,
        1000.0 / elapsed
    );
    assert_eq!(local_records(&local).await, remote_records(&remote).await);

    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("local-only", 10)).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &[("r-1".to_owned(), json!({"title": "local edit"}))]).await;
    local.delete_records(Auth::Owner, LOCAL.0, LOCAL.1, &["r-2".to_owned()]).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &[("r-3".to_owned(), json!({"title": "upstream edit"}))]).await;
    let remote_ts = remote.records_timestamp(bob(), REMOTE.0, REMOTE.1).await.max(remote_ts);
    let after = local.sync(&link).await;
    assert!(after["last_error"].is_null(), "{after}");
    assert_eq!(after["progress"]["pushed"], 0);
    assert_eq!(remote.records_timestamp(bob(), REMOTE.0, REMOTE.1).await, remote_ts, "the remote was never written");
    let (mine, theirs) = (local_records(&local).await, remote_records(&remote).await);
    assert_eq!(mine["r-3"]["title"], "upstream edit", "upstream changes still arrive");
    assert_eq!(mine["r-1"]["title"], "local edit", "local edits stay local");
    assert!(!theirs.contains_key("local-only-1") && theirs.contains_key("r-2"));
    local.stop().await;
    remote.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_unreachable_remotes_are_clear_errors_and_lose_nothing() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    let body = |url: &str, user: &str, password: &str, collection: &str| {
        json!({"local": {"bucket": "home", "collection": "recipes"},
               "remote": {"url": url, "bucket": "shared", "collection": collection, "user": user, "password": password}})
    };
    let create = |body: Value| local.call(Method::POST, "/__sync__/links", Auth::Owner, Some(body));

    let wrong = create(body(&remote.base, BOB_USER, "not-the-password", "recipes")).await;
    assert_eq!((wrong.status, wrong.json["errno"].as_u64()), (400, Some(107)), "{}", wrong.json);
    assert!(wrong.json["message"].as_str().unwrap_or_default().contains("credentials"), "{}", wrong.json);
    let missing = create(body(&remote.base, BOB_USER, sync_support::BOB.1, "nope")).await;
    assert_eq!(missing.status, 400, "{}", missing.json);
    assert_eq!(missing.json["details"][0]["name"], "remote.collection", "{}", missing.json);
    let nowhere = create(body("http://127.0.0.1:9", BOB_USER, "x", "recipes")).await;
    assert_eq!(nowhere.status, 400, "{}", nowhere.json);
    assert!(nowhere.json["message"].as_str().unwrap_or_default().contains("cannot reach"), "{}", nowhere.json);
    let not_kinto = create(body(&format!("http://{}/v1/__sync__", local.addr), BOB_USER, "x", "recipes")).await;
    assert_eq!(not_kinto.status, 400, "{}", not_kinto.json);
    let garbage = local.call(Method::POST, "/__sync__/links", Auth::Owner, Some(json!({"local": 3}))).await;
    assert_eq!(garbage.status, 400, "{}", garbage.json);
    let anonymous = local.call(Method::GET, "/__sync__/links", Auth::Anonymous, None).await;
    assert_eq!((anonymous.status, anonymous.json["errno"].as_u64()), (401, Some(104)));
    local.account(("carol", "carol-password")).await;
    let other = local.call(Method::GET, "/__sync__/links", Auth::Basic("carol", "carol-password"), None).await;
    assert_eq!(other.status, 403);
    let wrong_method = local.call(Method::PUT, "/__sync__/links", Auth::Owner, None).await;
    assert_eq!((wrong_method.status, wrong_method.json["errno"].as_u64()), (405, Some(115)));
    let unknown = local.call(Method::GET, "/__sync__/links/nope", Auth::Owner, None).await;
    assert_eq!(unknown.status, 404);
    assert!(
        local.ok(Method::GET, "/__sync__/links", Auth::Owner, None).await["data"].as_array().is_some_and(Vec::is_empty)
    );

    // A link whose credentials stop working: the error shows, local data stays.
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 5)).await;
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;
    remote.ok(Method::PUT, "/accounts/bob", Auth::Owner, Some(json!({"data": {"password": "changed-password"}}))).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("l", 3)).await;
    let before = local_records(&local).await;
    let failed = local.sync(&link).await;
    assert!(failed["last_error"].as_str().unwrap_or_default().contains("401"), "{failed}");
    assert_eq!(local_records(&local).await, before);
    let removed = local.ok(Method::DELETE, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
    assert_eq!(removed["data"]["deleted"], true);
    assert_eq!(local_records(&local).await, before, "removing a link keeps the data");
    let acl = local.ok(Method::GET, "/buckets/home/collections/recipes", Auth::Owner, None).await;
    assert!(!acl["permissions"]["write"].to_string().contains("system:replicator"), "{acl}");
    assert!(!local.dir.join("secrets").join(format!("sync-{link}")).exists(), "credentials forgotten");
    local.stop().await;
    remote.stop().await;
}

const BOB_USER: &str = sync_support::BOB.0;

/// What the crashed process left in its database: the link's checkpoints, how many records
/// have a sync state, and how many remote-origin (`r-*`) records are stored locally.
fn left_behind(dir: &std::path::Path) -> (i64, i64, i64, i64) {
    let db = rusqlite::Connection::open(dir.join(kintoun::DATABASE_FILE)).expect("database");
    let (remote_cp, local_cp): (i64, i64) = db
        .query_row("SELECT remote_checkpoint, local_checkpoint FROM sync_links", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("link row");
    let states: i64 = db.query_row("SELECT COUNT(*) FROM sync_records", [], |r| r.get(0)).expect("states");
    let pulled: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM objects WHERE parent_id = '/buckets/home/collections/recipes' \
             AND resource_name = 'record' AND id LIKE 'r-%' AND deleted = 0",
            [],
            |r| r.get(0),
        )
        .expect("records");
    (remote_cp, local_cp, states, pulled)
}

/// History entries of a bucket: (action, record id, user id) of record changes.
async fn record_history(node: &Node, auth: Auth<'_>, bucket: &str) -> Vec<(String, String, String)> {
    let mut entries = Vec::new();
    let mut url = format!("{}/buckets/{bucket}/history?resource_name=record&_limit=1000", node.base);
    loop {
        let reply = node.call(Method::GET, &url, auth, None).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        for entry in reply.json["data"].as_array().expect("entries") {
            let text = |key: &str| entry[key].as_str().unwrap_or_default().to_owned();
            entries.push((text("action"), text("record_id"), text("user_id")));
        }
        match reply.header("next-page") {
            Some(next) => url = next.to_owned(),
            None => return entries,
        }
    }
}

/// Kill -9 the local server in the middle of a pull, restart it, kill it again in the middle
/// of the push, restart: every page was applied whole (records = checkpoint), nothing is lost
/// and nothing was applied or pushed twice (one `create` per record in each side's history).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_pull_and_mid_push_neither_loses_nor_duplicates() {
    use sync_support::Process;
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let data = ldir.path().join("data");
    let remote = remote(rdir.path()).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 2000)).await;
    let remote_times: Vec<i64> = {
        let mut times = Vec::new();
        let mut url = format!("{}/buckets/shared/collections/recipes/records?_limit=1000", remote.base);
        loop {
            let reply = remote.call(Method::GET, &url, bob(), None).await;
            times.extend(
                reply.json["data"].as_array().expect("data").iter().filter_map(|r| r["last_modified"].as_i64()),
            );
            match reply.header("next-page") {
                Some(next) => url = next.to_owned(),
                None => break times,
            }
        }
    };

    let mut process = Process::start(&data, 10);
    let local = Node::external(process.addr, &data);
    local.collection(Auth::Owner, LOCAL.0, LOCAL.1).await;
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &records("l", 1000)).await;
    let reply = local.link(&remote, REMOTE, LOCAL, "both").await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    let link = reply.json["data"]["id"].as_str().expect("id").to_owned();

    // Kill during the pull (2,000 records in pages of 10).
    loop {
        let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
        if shown["data"]["progress"]["pulled"].as_u64().unwrap_or(0) >= 300 {
            break;
        }
        assert!(shown["data"]["progress"]["completed_run"].as_u64().unwrap_or(0) < 1, "the sync ended first: {shown}");
    }
    process.kill();
    let (remote_cp, _, states, pulled) = left_behind(&data);
    let applied = remote_times.iter().filter(|ts| **ts <= remote_cp).count() as i64;
    eprintln!("MEASURE crash 1: killed mid-pull with {pulled} of 2000 records applied");
    assert!(0 < pulled && pulled < 2000, "the kill came mid-pull ({pulled} applied)");
    assert_eq!((pulled, states), (applied, applied), "whole pages only: records = states = checkpoint");

    // Restart (the link syncs on start), kill during the push (1,000 records in batches of 25).
    let mut process = Process::start(&data, 10);
    let local = Node::external(process.addr, &data);
    loop {
        let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
        if shown["data"]["progress"]["pushed"].as_u64().unwrap_or(0) >= 200 {
            break;
        }
        assert!(shown["data"]["progress"]["completed_run"].as_u64().unwrap_or(0) < 1, "the sync ended first: {shown}");
    }
    process.kill();
    let (remote_cp, local_cp, _, pulled) = left_behind(&data);
    eprintln!("MEASURE crash 2: killed mid-push (local checkpoint {local_cp})");
    assert_eq!(pulled, 2000);
    assert_eq!(remote_cp, remote_times.iter().copied().max().unwrap_or(0));

    // Restart once more: the sync on start finishes the job.
    let process = Process::start(&data, 10);
    let local = Node::external(process.addr, &data);
    let done = local.wait_run(&link, 1).await;
    assert!(done["last_error"].is_null(), "{done}");
    let again = local.sync(&link).await;
    assert!(again["last_error"].is_null(), "{again}");
    let (mine, theirs) = (local_records(&local).await, remote_records(&remote).await);
    assert_eq!(mine.len(), 3000);
    assert_eq!(mine, theirs);
    assert!(local.conflicts(&link).await.is_empty());

    let here = record_history(&local, Auth::Owner, LOCAL.0).await;
    let pulled_creates =
        here.iter().filter(|(a, id, u)| a == "create" && id.starts_with("r-") && u == "system:replicator").count();
    let pulled_others = here.iter().filter(|(a, id, _)| a != "create" && id.starts_with("r-")).count();
    assert_eq!((pulled_creates, pulled_others), (2000, 0), "each remote record written here once");
    let there = record_history(&remote, bob(), REMOTE.0).await;
    let pushed_creates = there.iter().filter(|(a, id, _)| a == "create" && id.starts_with("l-")).count();
    let pushed_others = there.iter().filter(|(a, id, _)| a != "create" && id.starts_with("l-")).count();
    assert_eq!((pushed_creates, pushed_others), (1000, 0), "each local record written there once");
    drop(process);
    remote.stop().await;
}

/// Runs `kintoun <args>` against the server of `data` at `addr`, with `stdin`; (success, stdout).
async fn cli(data: &std::path::Path, addr: std::net::SocketAddr, args: &[&str], stdin: &str) -> (bool, String) {
    let (data, args, stdin) =
        (data.to_path_buf(), args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), stdin.to_owned());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kintoun"));
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("KINTOUN_") || key.starts_with("KINTO_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args(&args)
            .env("KINTOUN_BIND", addr.to_string())
            .env("KINTOUN_DATA_DIR", &data)
            .env("KINTOUN_SECRETS_BACKEND", "file")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn kintoun");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        let output = child.wait_with_output().expect("kintoun output");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    })
    .await
    .expect("cli task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_commands_add_list_sync_show_resolve_and_remove() {
    use sync_support::Process;
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let data = ldir.path().join("data");
    let remote = remote(rdir.path()).await;
    remote.put_records(bob(), REMOTE.0, REMOTE.1, &records("r", 10)).await;
    let process = Process::start(&data, 100);
    let local = Node::external(process.addr, &data);
    let addr = process.addr;

    let args = [
        "sync",
        "add",
        remote.base.as_str(),
        "shared/recipes",
        "--into",
        "home/recipes",
        "--user",
        "bob",
        "--password-stdin",
    ];
    let (ok, out) = cli(&data, addr, &args, &format!("{}\n", sync_support::BOB.1)).await;
    assert!(ok, "{out}");
    assert!(out.contains("linked: ") && out.contains("done: pulled 10, pushed 0"), "{out}");
    let (ok, out) = cli(&data, addr, &["sync"], "").await;
    assert!(ok, "{out}");
    let line = out.lines().next().unwrap_or_default().to_owned();
    assert!(line.contains(&format!("home/recipes <-> {} shared/recipes  both  last sync", remote.base)), "{line}");
    let link = line.split_whitespace().next().unwrap_or_default().to_owned();

    local
        .ok(
            Method::PATCH,
            "/buckets/home/collections/recipes/records/r-1",
            Auth::Owner,
            Some(json!({"data": {"title": "mine"}})),
        )
        .await;
    remote
        .ok(
            Method::PATCH,
            "/buckets/shared/collections/recipes/records/r-1",
            bob(),
            Some(json!({"data": {"title": "theirs"}})),
        )
        .await;
    let (ok, out) = cli(&data, addr, &["sync", "now", &link], "").await;
    assert!(ok && out.contains("conflicts 1"), "{out}");
    let (ok, out) = cli(&data, addr, &["sync", "conflicts", &link], "").await;
    assert!(ok && out.contains("r-1  (concurrent_edit)") && out.contains("\"title\":\"theirs\""), "{out}");
    let (ok, out) = cli(&data, addr, &["sync", "resolve", &link, "r-1", "theirs"], "").await;
    assert!(ok && out.contains("kept theirs for r-1"), "{out}");
    assert_eq!(local_records(&local).await["r-1"]["title"], "theirs");
    let (ok, out) = cli(&data, addr, &["sync", "resolve", &link, "r-1", "both"], "").await;
    assert!(!ok, "{out}");
    let (ok, out) = cli(&data, addr, &["sync", "remove", &link], "").await;
    assert!(ok && out.contains("removed link"), "{out}");
    let (ok, out) = cli(&data, addr, &["sync", "now", &link], "").await;
    assert!(!ok && out.contains("404"), "{out}");
    drop(process);
    remote.stop().await;
}

/// A remote that answers with `Backoff: 2` is left alone for two seconds: the next sync waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_backoff_header_is_respected() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut settings = sync_support::settings(rdir.path(), 500);
    settings.backoff = Some(2);
    let remote = sync_support::remote_with(rdir.path(), settings).await;
    let local = Node::start(ldir.path(), None, 100).await;
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;
    let started = local.ok(Method::POST, &format!("/__sync__/links/{link}/sync"), Auth::Owner, None).await;
    let run = started["data"]["run"].as_u64().expect("run");
    let mut phases = Vec::new();
    let done = loop {
        let shown = local.ok(Method::GET, &format!("/__sync__/links/{link}"), Auth::Owner, None).await;
        let phase = shown["data"]["progress"]["phase"].as_str().unwrap_or_default().to_owned();
        if phases.last() != Some(&phase) {
            phases.push(phase);
        }
        if shown["data"]["progress"]["completed_run"].as_u64().unwrap_or(0) >= run {
            break shown;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(phases.iter().any(|p| p == "waiting"), "the sync waited for the Backoff: {phases:?}");
    assert!(done["data"]["last_error"].is_null(), "{done}");
    local.stop().await;
    remote.stop().await;
}

/// A sync with nothing new pushes nothing and writes nothing on either side.
async fn assert_quiet_sync(local: &Node, remote: &Node, link: &str) {
    let (remote_ts, local_ts) = (
        remote.records_timestamp(bob(), REMOTE.0, REMOTE.1).await,
        local.records_timestamp(Auth::Owner, LOCAL.0, LOCAL.1).await,
    );
    let quiet = local.sync(link).await;
    assert_eq!(quiet["progress"]["pushed"], 0, "{quiet}");
    assert_eq!(remote.records_timestamp(bob(), REMOTE.0, REMOTE.1).await, remote_ts);
    assert_eq!(local.records_timestamp(Auth::Owner, LOCAL.0, LOCAL.1).await, local_ts);
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Records without their attachments' `location` (each server keeps its own copy of a file).
fn without_locations(records: std::collections::BTreeMap<String, Value>) -> std::collections::BTreeMap<String, Value> {
    records
        .into_iter()
        .map(|(id, mut fields)| {
            if let Some(field) = fields.get_mut("attachment").and_then(Value::as_object_mut) {
                field.remove("location");
            }
            (id, fields)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_follow_their_records_both_ways() {
    let (rdir, ldir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let remote = remote(rdir.path()).await;
    let local = Node::start(ldir.path(), None, 100).await;
    let photo: Vec<u8> = b"\x89PNG not really a photo ".repeat(2000);
    let record = |id| (REMOTE.0, REMOTE.1, id);
    let mine = |id| (LOCAL.0, LOCAL.1, id);

    // A file attached there comes here, and this server serves its own copy.
    let up = remote.attach(bob(), record("photo"), ("dish.png", "image/png", &photo), json!({"title": "soup"})).await;
    assert_eq!(up.status, 201, "{}", up.json);
    let started = Instant::now();
    let link = local.linked(&remote, REMOTE, LOCAL, "both").await;
    eprintln!(
        "MEASURE first sync with a {} KB attachment: {:.3} s",
        photo.len() / 1024,
        started.elapsed().as_secs_f64()
    );
    let here = local_records(&local).await;
    let field = &here["photo"]["attachment"];
    assert_eq!(here["photo"]["title"], "soup");
    assert_eq!((field["hash"].as_str(), field["filename"].as_str()), (Some(sha256(&photo).as_str()), Some("dish.png")));
    let location = field["location"].as_str().expect("location").to_owned();
    assert!(!location.contains(&remote.addr.port().to_string()), "points at this server's copy: {location}");
    local.assert_serves(&location, &photo, "photo").await;

    // A file replaced here goes there; the remote drops its old file.
    let old_there = remote_records(&remote).await["photo"]["attachment"]["location"].as_str().expect("loc").to_owned();
    let photo2: Vec<u8> = b"JFIF another picture ".repeat(3000);
    let up = local.attach(Auth::Owner, mine("photo"), ("dish-2.jpg", "image/jpeg", &photo2), json!({})).await;
    assert_eq!(up.status, 200, "{}", up.json);
    let after = local.sync(&link).await;
    assert!(after["last_error"].is_null(), "{after}");
    let there = remote_records(&remote).await;
    let field = &there["photo"]["attachment"];
    assert_eq!(
        (field["hash"].as_str(), field["filename"].as_str()),
        (Some(sha256(&photo2).as_str()), Some("dish-2.jpg"))
    );
    let there_location = field["location"].as_str().expect("location").to_owned();
    remote.assert_serves(&there_location, &photo2, "photo2").await;
    assert!(remote.file(&old_there).await.is_none(), "the remote's old file is gone");
    assert!(local.conflicts(&link).await.is_empty());

    // Editing other fields keeps the file: nothing is uploaded again.
    let current = local_records(&local).await["photo"].clone();
    let mut edited = current.as_object().cloned().expect("fields");
    edited.insert("title".into(), json!("soup, second try"));
    local.put_records(Auth::Owner, LOCAL.0, LOCAL.1, &[("photo".to_owned(), Value::Object(edited))]).await;
    local.sync(&link).await;
    let there = remote_records(&remote).await;
    assert_eq!(there["photo"]["title"], "soup, second try");
    assert_eq!(there["photo"]["attachment"]["location"], json!(there_location), "same file there");

    // A new record with a file here is created there whole.
    let notes = b"hello notes".to_vec();
    let up = local.attach(Auth::Owner, mine("notes"), ("notes.txt", "text/plain", &notes), json!({"title": "n"})).await;
    assert_eq!(up.status, 201, "{}", up.json);
    local.sync(&link).await;
    let there = remote_records(&remote).await;
    assert_eq!(there["notes"]["title"], "n");
    let notes_there = there["notes"]["attachment"]["location"].as_str().expect("location");
    remote.assert_serves(notes_there, &notes, "notes").await;

    // A file removed there is removed here, and the local copy is collected.
    let here_photo = local_records(&local).await["photo"]["attachment"]["location"].as_str().expect("loc").to_owned();
    remote.ok(Method::DELETE, "/buckets/shared/collections/recipes/records/photo/attachment", bob(), None).await;
    local.sync(&link).await;
    let here = local_records(&local).await;
    assert!(here["photo"]["attachment"].is_null(), "{}", here["photo"]);
    assert!(local.file(&here_photo).await.is_none(), "no record uses the local copy any more");
    assert_eq!(without_locations(here), without_locations(remote_records(&remote).await));

    // A sync with nothing new writes nothing: the remote's own fields are recognised.
    assert_quiet_sync(&local, &remote, &link).await;

    // Files replaced on both sides: a conflict; keeping theirs brings their file here.
    let theirs_bytes = b"their version of the notes".to_vec();
    let mine_bytes = b"my version of the notes".to_vec();
    remote.attach(bob(), record("notes"), ("notes.txt", "text/plain", &theirs_bytes), json!({})).await;
    local.attach(Auth::Owner, mine("notes"), ("notes.txt", "text/plain", &mine_bytes), json!({})).await;
    local.sync(&link).await;
    let conflicts = local.conflicts(&link).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["theirs"]["attachment"]["hash"], json!(sha256(&theirs_bytes)));
    assert_eq!(conflicts[0]["mine"]["attachment"]["hash"], json!(sha256(&mine_bytes)));
    local.resolve(&link, "notes", json!({"resolution": "theirs"})).await;
    local.sync(&link).await;
    let here = local_records(&local).await;
    let location = here["notes"]["attachment"]["location"].as_str().expect("location");
    local.assert_serves(location, &theirs_bytes, "theirs_bytes").await;
    assert_eq!(without_locations(here), without_locations(remote_records(&remote).await));

    // A record whose file cannot be had is refused here; the rest of the sync goes on.
    let missing = json!({"title": "broken", "attachment": {"filename": "x.png", "hash": "00".repeat(32),
                          "location": "00/missing.png", "mimetype": "image/png", "size": 3}});
    remote
        .put_records(bob(), REMOTE.0, REMOTE.1, &[("broken".to_owned(), missing), ("fine".to_owned(), json!({"t": 1}))])
        .await;
    let after = local.sync(&link).await;
    assert!(after["last_error"].is_null(), "{after}");
    let conflicts = local.conflicts(&link).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["record_id"], "broken");
    assert!(conflicts[0]["reason"].as_str().is_some_and(|r| r.contains("not on this server")), "{conflicts:?}");
    assert!(local_records(&local).await.contains_key("fine"));
    local.stop().await;
    remote.stop().await;
}
