//! Shared collections between two paired devices on loopback (no namespaces: pairing goes by
//! `ip:port`, and the only interface named matches nothing, so mDNS stays off): A shares a
//! collection with B, B mirrors it into a bucket of its own through a `device` sync link (the
//! replicator's client pinned to A's key, authenticated as `device:<B>`), edits converge both
//! ways (attachments too), a read-only share never takes B's writes, and revoking B stops its
//! replication.

mod sync_support;

use reqwest::Method;
use serde_json::{Value, json};
use sync_support::{Auth, Node, records, settings};

fn lan_settings(dir: &std::path::Path, name: &str) -> kintoun::Settings {
    let mut settings = settings(dir, 100);
    settings.lan_sharing = true;
    settings.device_name = Some(name.into());
    settings.lan_address = std::net::IpAddr::from([127, 0, 0, 1]);
    settings.lan_port = 0;
    settings.lan_interfaces = vec!["kt-no-such-if".into()];
    settings
}

async fn device_id(node: &Node) -> String {
    node.ok(Method::GET, "/__devices__", Auth::Owner, None).await["this"]["id"].as_str().expect("id").to_owned()
}

/// A shows a code, B joins it by address, both confirm.
async fn pair(a: &Node, b: &Node) -> (String, String) {
    let (a_id, b_id) = (device_id(a).await, device_id(b).await);
    let invitation = a.ok(Method::POST, "/__devices__/pairing", Auth::Owner, None).await;
    let target = format!("127.0.0.1:{}", invitation["pairing_port"]);
    let joined = b
        .call(
            Method::POST,
            "/__devices__/join",
            Auth::Owner,
            Some(json!({"device": target, "code": invitation["code"]})),
        )
        .await;
    assert_eq!(joined.status, 201, "{}", joined.json);
    a.ok(Method::POST, &format!("/__devices__/{b_id}/confirm"), Auth::Owner, None).await;
    b.ok(Method::POST, &format!("/__devices__/{a_id}/confirm"), Auth::Owner, None).await;
    (a_id, b_id)
}

/// B mirrors A's `bucket/collection` into its own `into/collection`.
async fn mirror(
    b: &Node,
    a_id: &str,
    (bucket, collection): (&str, &str),
    into: &str,
    direction: &str,
) -> sync_support::Reply {
    let body = json!({
        "local": {"bucket": into, "collection": collection},
        "remote": {"kind": "device", "device": a_id, "bucket": bucket, "collection": collection},
        "direction": direction,
    });
    b.call(Method::POST, "/__sync__/links", Auth::Owner, Some(body)).await
}

fn data_only(records: std::collections::BTreeMap<String, Value>) -> Vec<(String, Value)> {
    records
        .into_iter()
        .map(|(id, mut record)| {
            if let Some(object) = record.as_object_mut() {
                object.remove("last_modified");
            }
            (id, record)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_collection_syncs_both_ways_between_paired_devices() {
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let a = Node::start_with(dir_a.path(), None, lan_settings(dir_a.path(), "kitchen")).await;
    let b = Node::start_with(dir_b.path(), None, lan_settings(dir_b.path(), "study")).await;
    let (a_id, b_id) = pair(&a, &b).await;

    a.collection(Auth::Owner, "home", "recipes").await;
    a.collection(Auth::Owner, "home", "chores").await;
    a.put_records(Auth::Owner, "home", "recipes", &records("a", 300)).await;

    // Not shared yet: the link is refused, naming the collection.
    let refused = mirror(&b, &a_id, ("home", "recipes"), "kitchen", "both").await;
    assert_eq!(refused.status, 400, "{}", refused.json);
    assert_eq!(refused.json["details"][0]["name"], "remote.collection", "{}", refused.json);

    a.ok(
        Method::PUT,
        &format!("/__devices__/{b_id}/shares/home/recipes"),
        Auth::Owner,
        Some(json!({"access": "write"})),
    )
    .await;
    let started = std::time::Instant::now();
    let link = mirror(&b, &a_id, ("home", "recipes"), "kitchen", "both").await;
    assert_eq!(link.status, 201, "{}", link.json);
    let id = link.json["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(link.json["data"]["remote"]["kind"], "device");
    assert_eq!(link.json["data"]["remote"]["device"], a_id);
    let first = b.wait_run(&id, 1).await;
    assert_eq!(first["last_error"], Value::Null, "{first}");
    assert_eq!(b.records(Auth::Owner, "kitchen", "recipes").await.len(), 300, "{first}");
    println!("first mirror of 300 records over the LAN: {:?}", started.elapsed());

    // Edits on both sides, and deletions, converge.
    b.put_records(Auth::Owner, "kitchen", "recipes", &records("b", 200)).await;
    a.put_records(Auth::Owner, "home", "recipes", &records("a2", 100)).await;
    let gone: Vec<String> = (0..20).map(|i| format!("a-{i}")).collect();
    a.delete_records(Auth::Owner, "home", "recipes", &gone).await;
    let started = std::time::Instant::now();
    b.sync(&id).await;
    let (on_a, on_b) =
        (a.records(Auth::Owner, "home", "recipes").await, b.records(Auth::Owner, "kitchen", "recipes").await);
    assert_eq!(on_a.len(), 300 + 200 + 100 - 20);
    assert_eq!(data_only(on_a), data_only(on_b));
    println!("converged 320 changes both ways: {:?}", started.elapsed());

    // Attachments follow their records over the LAN, both ways (each device serves its copy).
    let photo = b"a photo of the soup ".repeat(500);
    let up = a.attach(Auth::Owner, ("home", "recipes", "a-100"), ("soup.png", "image/png", &photo), json!({})).await;
    assert_eq!(up.status, 200, "{}", up.json);
    let after = b.sync(&id).await;
    assert!(after["last_error"].is_null(), "{after}");
    let on_b = b.records(Auth::Owner, "kitchen", "recipes").await;
    let location = on_b["a-100"]["attachment"]["location"].as_str().expect("attachment here").to_owned();
    b.assert_serves(&location, &photo, "its own copy of A's photo").await;
    let sketch = b"a sketch of the table ".repeat(300);
    let up = b.attach(Auth::Owner, ("kitchen", "recipes", "b-7"), ("table.png", "image/png", &sketch), json!({})).await;
    assert_eq!(up.status, 200, "{}", up.json);
    let after = b.sync(&id).await;
    assert!(after["last_error"].is_null(), "{after}");
    let on_a = a.records(Auth::Owner, "home", "recipes").await;
    let location = on_a["b-7"]["attachment"]["location"].as_str().expect("attachment there").to_owned();
    a.assert_serves(&location, &sketch, "B's sketch").await;
    assert!(b.conflicts(&id).await.is_empty());

    // A read-only share: B's mirror never writes to A, and A refuses writes B tries anyway.
    a.ok(Method::PUT, &format!("/__devices__/{b_id}/shares/home/chores"), Auth::Owner, Some(json!({"access": "read"})))
        .await;
    a.put_records(Auth::Owner, "home", "chores", &records("c", 10)).await;
    let before = a.records_timestamp(Auth::Owner, "home", "chores").await;
    let pulled = mirror(&b, &a_id, ("home", "chores"), "kitchen", "pull").await;
    assert_eq!(pulled.status, 201, "{}", pulled.json);
    let chores = pulled.json["data"]["id"].as_str().expect("id").to_owned();
    b.wait_run(&chores, 1).await;
    b.put_records(Auth::Owner, "kitchen", "chores", &records("mine", 5)).await;
    b.sync(&chores).await;
    assert_eq!(a.records_timestamp(Auth::Owner, "home", "chores").await, before, "a read-only mirror wrote");
    assert_eq!(b.records(Auth::Owner, "kitchen", "chores").await.len(), 15);
    let pushed = mirror(&b, &a_id, ("home", "chores"), "kitchen2", "both").await;
    assert_eq!(pushed.status, 201, "{}", pushed.json);
    let both = pushed.json["data"]["id"].as_str().expect("id").to_owned();
    b.wait_run(&both, 1).await;
    b.put_records(Auth::Owner, "kitchen2", "chores", &records("try", 3)).await;
    let after = b.sync(&both).await;
    assert!(after["last_error"].as_str().unwrap_or_default().contains("403"), "{after}");
    assert_eq!(a.records_timestamp(Auth::Owner, "home", "chores").await, before, "A took a write on a read share");

    // Revoking B on A: B's next sync fails at once and nothing on B is lost.
    a.ok(Method::DELETE, &format!("/__devices__/{b_id}"), Auth::Owner, None).await;
    a.put_records(Auth::Owner, "home", "recipes", &records("late", 5)).await;
    let after = b.sync(&id).await;
    assert!(after["last_error"].is_string(), "{after}");
    assert_eq!(b.records(Auth::Owner, "kitchen", "recipes").await.len(), 580);
    // And once B forgets A too, its links say so.
    b.ok(Method::DELETE, &format!("/__devices__/{a_id}"), Auth::Owner, None).await;
    let after = b.sync(&id).await;
    assert!(after["last_error"].as_str().unwrap_or_default().contains("no longer paired"), "{after}");
    a.stop().await;
    b.stop().await;
}
