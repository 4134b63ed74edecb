//! Shared collections between three devices on a LAN of network namespaces (see
//! `lan_support`): A shares a collection read+write with B and C, which mirror it through
//! `kintoun sync add device:alpha ...`; 1,000 records written on all three converge everywhere,
//! deletions propagate, C offline during 200 changes catches up, a concurrent edit of one record
//! lands in B's conflict inbox with both versions and a merge converges on all three, and
//! revoking B on A stops B's replication while C goes on. HTTP calls run inside the namespaces
//! through a helper mode of this test binary. Convergence times are printed, not asserted.

mod lan_support;

use std::time::{Duration, Instant};

use lan_support::{Lan, Node, PASSWORD, in_ns, stdout};
use serde_json::{Value, json};

/// Runs requests against the node's own API inside its namespace (helper mode of this binary):
/// `(method, path, body)` → `(status, body)` each.
fn api(node: &Node, requests: &[(&str, String, Value)]) -> Vec<(u16, Value)> {
    let script = serde_json::to_string(
        &requests.iter().map(|(m, p, b)| json!({"method": m, "path": p, "body": b})).collect::<Vec<_>>(),
    )
    .expect("script");
    let out = in_ns(&node.ns, std::env::current_exe().expect("test binary").to_str().unwrap_or_default())
        .args(["--ignored", "--exact", "http_helper", "--nocapture", "--test-threads=1"])
        .env("KT_SCRIPT", script)
        .output()
        .expect("helper");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let answers: Vec<(u16, Value)> = text
        .lines()
        .filter_map(|line| line.find("KT ").map(|at| &line[at + 3..]))
        .filter_map(|rest| {
            let (status, body) = rest.split_once(' ')?;
            Some((status.parse().ok()?, serde_json::from_str(body).unwrap_or(Value::Null)))
        })
        .collect();
    assert_eq!(answers.len(), requests.len(), "helper output: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    answers
}

fn ok(node: &Node, method: &str, path: &str, body: Value) -> Value {
    let (status, answer) = api(node, &[(method, path.to_owned(), body)]).remove(0);
    assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
    answer
}

/// Writes records through `/batch` (25 per request).
fn put_records(node: &Node, collection: &str, records: &[(String, Value)]) {
    let batches: Vec<(&str, String, Value)> = records
        .chunks(25)
        .map(|chunk| {
            let requests: Vec<Value> = chunk
                .iter()
                .map(|(id, data)| json!({"method": "PUT", "path": format!("{collection}/records/{id}"), "body": {"data": data}}))
                .collect();
            ("POST", "/batch".to_owned(), json!({"requests": requests}))
        })
        .collect();
    for (status, answer) in api(node, &batches) {
        assert_eq!(status, 200, "{answer}");
        for response in answer["responses"].as_array().into_iter().flatten() {
            assert!(response["status"].as_u64().is_some_and(|s| s < 300), "{response}");
        }
    }
}

fn delete_records(node: &Node, collection: &str, ids: &[String]) {
    let batches: Vec<(&str, String, Value)> = ids
        .chunks(25)
        .map(|chunk| {
            let requests: Vec<Value> = chunk
                .iter()
                .map(|id| json!({"method": "DELETE", "path": format!("{collection}/records/{id}")}))
                .collect();
            ("POST", "/batch".to_owned(), json!({"requests": requests}))
        })
        .collect();
    api(node, &batches);
}

/// The live records of a collection, id → data without `last_modified`.
fn records(node: &Node, collection: &str) -> std::collections::BTreeMap<String, Value> {
    let answer = ok(node, "GET", &format!("{collection}/records?_limit=10000"), Value::Null);
    answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|record| {
            let mut record = record.clone();
            if let Some(object) = record.as_object_mut() {
                object.remove("last_modified");
            }
            (record["id"].as_str().unwrap_or_default().to_owned(), record)
        })
        .collect()
}

fn generated(prefix: &str, n: usize, round: u32) -> Vec<(String, Value)> {
    (0..n).map(|i| (format!("{prefix}-{i}"), json!({"title": format!("{prefix} {i}"), "round": round}))).collect()
}

/// Waits until every node holds the same records (a 3-minute hang guard, not a timing check).
fn converge(nodes: &[(&Node, &str)], expected: usize, what: &str) -> Duration {
    let started = Instant::now();
    loop {
        let sets: Vec<_> = nodes.iter().map(|(node, collection)| records(node, collection)).collect();
        if sets.iter().all(|set| set.len() == expected) && sets.windows(2).all(|w| w[0] == w[1]) {
            let took = started.elapsed();
            println!("MEASURED {what}: converged in {took:?}");
            return took;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{what}: no convergence: {:?}",
            sets.iter().map(|s| s.len()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn link_id(node: &Node) -> String {
    let links = ok(node, "GET", "/__sync__/links", Value::Null);
    links["data"][0]["id"].as_str().expect("a link").to_owned()
}

/// Pairs `joiner` with `inviter` (named `name`) through the CLI, both confirming.
fn pair(inviter: &Node, joiner: &Node, name: &str) {
    let (prompted, code, _) = inviter.invite(true);
    let joined = joiner.cli(&["pair", name, &code, "--yes"]);
    assert!(joined.status.success(), "{}", stdout(&joined));
    let (invited, says) = prompted.finish();
    assert!(invited, "{says}");
}

#[test]
fn three_devices_share_one_collection() {
    if let Err(reason) = lan_support::can_create_namespaces() {
        println!("SKIPPED sync_lan: {reason}");
        return;
    }
    let lan = match Lan::create(&["a", "b", "c"]) {
        Ok(lan) => lan,
        Err(reason) => {
            println!("SKIPPED sync_lan: cannot create network namespaces: {reason}");
            return;
        }
    };
    let sync_every = [("KINTOUN_SYNC_INTERVAL_SECONDS", "60")];
    let a = Node::start_with(lan.ns("a"), "alpha", &sync_every).expect("A starts");
    let b = Node::start_with(lan.ns("b"), "bravo", &sync_every).expect("B starts");
    let mut c = Node::start_with(lan.ns("c"), "charlie", &sync_every).expect("C starts");
    pair(&a, &b, "alpha");
    pair(&a, &c, "alpha");

    let shared = "/buckets/home/collections/recipes";
    ok(&a, "PUT", "/buckets/home", json!({}));
    ok(&a, "PUT", shared, json!({"data": {"title": "Recipes"}}));
    put_records(&a, shared, &generated("a", 200, 1));
    for (node, name) in [(&b, "bravo"), (&c, "charlie")] {
        let out = a.cli(&["share", "home/recipes", name, "--write"]);
        assert!(out.status.success(), "{}", stdout(&out));
        let listed = node.cli(&["shared"]);
        assert!(stdout(&listed).contains("alpha: home/recipes \"Recipes\"  read and write"), "{}", stdout(&listed));
        let added = node.cli(&["sync", "add", "device:alpha", "home/recipes", "--into", "kitchen/recipes"]);
        assert!(added.status.success(), "{}", stdout(&added));
    }
    let mirror = "/buckets/kitchen/collections/recipes";
    converge(&[(&a, shared), (&b, mirror), (&c, mirror)], 200, "first mirror of 200 records on B and C");

    // 1,000 records written on the three devices at once.
    put_records(&a, shared, &generated("a", 400, 2));
    put_records(&b, mirror, &generated("b", 300, 2));
    put_records(&c, mirror, &generated("c", 300, 2));
    converge(&[(&a, shared), (&b, mirror), (&c, mirror)], 1000, "1,000 records written on A, B and C");

    // Deletions propagate both ways.
    delete_records(&b, mirror, &(0..50).map(|i| format!("a-{i}")).collect::<Vec<_>>());
    delete_records(&a, shared, &(0..50).map(|i| format!("c-{i}")).collect::<Vec<_>>());
    converge(&[(&a, shared), (&b, mirror), (&c, mirror)], 900, "100 deletions on A and B");

    // C offline during 200 changes, then back: it catches up.
    let _ = c.child.kill();
    let _ = c.child.wait();
    let c_down = Instant::now();
    put_records(&a, shared, &generated("a", 100, 3));
    put_records(&b, mirror, &generated("b", 100, 3));
    converge(
        &[(&a, shared), (&b, mirror)],
        950,
        "200 changes while C is offline (50 of them re-create deleted records)",
    );
    let c = c.restart(&sync_every).expect("C restarts");
    println!("C was offline for {:?}", c_down.elapsed());
    converge(&[(&a, shared), (&b, mirror), (&c, mirror)], 950, "C catching up after 200 changes");

    // A concurrent edit of one record: B is cut off while A and B both edit it.
    lan.link(&b, false).expect("cut B off");
    ok(&a, "PATCH", &format!("{shared}/records/a-100"), json!({"data": {"title": "from A", "servings": 4}}));
    ok(&b, "PATCH", &format!("{mirror}/records/a-100"), json!({"data": {"title": "from B", "spicy": true}}));
    lan.link(&b, true).expect("B back");
    let id = link_id(&b);
    let started = Instant::now();
    let conflict = loop {
        ok(&b, "POST", &format!("/__sync__/links/{id}/sync"), Value::Null);
        let list = ok(&b, "GET", &format!("/__sync__/links/{id}/conflicts"), Value::Null);
        if let Some(conflict) = list["data"].as_array().and_then(|l| l.first()).cloned() {
            break conflict;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no conflict on B");
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("MEASURED conflict in B's inbox: {:?} after B came back", started.elapsed());
    assert_eq!(conflict["mine"]["title"], "from B", "{conflict}");
    assert_eq!(conflict["theirs"]["title"], "from A", "{conflict}");
    let record = conflict["record_id"].as_str().unwrap_or("a-100");
    let merged =
        json!({"resolution": "merge", "data": {"title": "from A and B", "servings": 4, "spicy": true, "round": 1}});
    ok(&b, "POST", &format!("/__sync__/links/{id}/conflicts/{record}"), merged);
    converge(&[(&a, shared), (&b, mirror), (&c, mirror)], 950, "the merge of one conflict, on A, B and C");
    for (node, collection) in [(&a, shared), (&b, mirror), (&c, mirror)] {
        assert_eq!(records(node, collection)["a-100"]["title"], "from A and B");
    }

    // A revokes B: B's next sync fails at once, C goes on.
    let revoked = a.cli(&["devices", "revoke", &b.id]);
    assert!(revoked.status.success(), "{}", stdout(&revoked));
    put_records(&a, shared, &generated("late", 5, 4));
    let after = ok(&b, "POST", &format!("/__sync__/links/{id}/sync"), Value::Null);
    assert!(after["data"]["run"].is_u64(), "{after}");
    let started = Instant::now();
    loop {
        let link = ok(&b, "GET", &format!("/__sync__/links/{id}"), Value::Null);
        if link["data"]["last_error"].is_string() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "B kept syncing after its revocation: {link}");
        std::thread::sleep(Duration::from_millis(100));
    }
    converge(&[(&a, shared), (&c, mirror)], 955, "A and C after B's revocation");
    assert_eq!(records(&b, mirror).len(), 950, "B keeps its copy but gets nothing new");
}

/// Not a test: runs inside a namespace for `api` (env `KT_SCRIPT`, a JSON list of requests).
#[tokio::test]
#[ignore = "helper of three_devices_share_one_collection"]
async fn http_helper() {
    let Ok(script) = std::env::var("KT_SCRIPT") else { return };
    let requests: Vec<Value> = serde_json::from_str(&script).expect("script");
    let client = reqwest::Client::new();
    for request in requests {
        let method =
            reqwest::Method::from_bytes(request["method"].as_str().unwrap_or("GET").as_bytes()).expect("method");
        let url = format!("http://127.0.0.1:8888/v1{}", request["path"].as_str().unwrap_or("/"));
        let mut call = client.request(method, url).basic_auth("admin", Some(PASSWORD));
        if !request["body"].is_null() {
            call = call.json(&request["body"]);
        }
        match call.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default().replace('\n', " ");
                println!("KT {status} {}", if text.is_empty() { "null".to_owned() } else { text });
            }
            Err(err) => println!("KT 0 {}", json!(err.to_string())),
        }
    }
}
