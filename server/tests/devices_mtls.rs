//! The LAN listener on loopback (no namespaces, no mDNS needed): a paired device's requests
//! authenticate as `device:<id>` through the pinned mutual-TLS handshake, so Kinto's
//! permissions decide what it reads; the owner-only `/__devices__` endpoints refuse it; a
//! device that is not paired cannot even finish the handshake.

use kintoun::Server;
use kintoun::secrets::SecretsBackend;
use kintoun::sharing::DeviceIdentity;
use kintoun::sharing::peer::request;
use kintoun::storage::{DeviceRow, StorageError};
use reqwest::Client;
use serde_json::{Value, json};

fn settings(dir: &std::path::Path) -> kintoun::Settings {
    let mut settings = kintoun::Settings::default();
    settings.data_dir = Some(dir.to_path_buf());
    settings.secrets_backend = SecretsBackend::File;
    settings.lan_sharing = true;
    settings.device_name = Some("server".into());
    settings.lan_address = std::net::IpAddr::from([127, 0, 0, 1]);
    settings.lan_port = 0;
    settings.lan_interfaces = vec!["kt-no-such-if".into()];
    settings
}

async fn owner_call(base: &str, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut call = Client::new().request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(body) = body {
        call = call.json(&body);
    }
    let response = call.send().await.expect("owner request");
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paired_device_reads_what_is_shared_with_it_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::open(settings(dir.path())).await.expect("server opens");
    let server_id = server.devices().identity().id();
    let me = DeviceIdentity::from_seed_hex(&DeviceIdentity::generate_seed_hex()).expect("device");
    let stranger = DeviceIdentity::from_seed_hex(&DeviceIdentity::generate_seed_hex()).expect("stranger");
    let row = DeviceRow {
        id: me.id().compact(),
        spki: me.spki().to_vec(),
        name: "phone".into(),
        address: "127.0.0.1:9".into(),
        paired_at: 1,
    };
    server.store().write(move |tx| tx.put_device(&row)).await.map_err(|e: StorageError| e).expect("paired");
    let token = server.session_token("account:admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async move {
        let _ = stopped.await;
    }));

    let overview = owner_call(&base, &token, reqwest::Method::GET, "/__devices__", None).await;
    assert_eq!(overview["lan_sharing"], true);
    assert_eq!(overview["this"]["id"], server_id.compact());
    let lan: std::net::SocketAddr =
        overview["this"]["address"].as_str().unwrap_or_default().parse().expect("LAN address");
    let principal = me.id().principal();
    owner_call(&base, &token, reqwest::Method::PUT, "/buckets/family", None).await;
    let shared = json!({ "permissions": { "read": [principal] } });
    owner_call(&base, &token, reqwest::Method::PUT, "/buckets/family/collections/shared", Some(shared)).await;
    owner_call(&base, &token, reqwest::Method::PUT, "/buckets/family/collections/private", None).await;
    let record = json!({ "data": { "title": "milk" } });
    owner_call(
        &base,
        &token,
        reqwest::Method::POST,
        "/buckets/family/collections/shared/records",
        Some(record.clone()),
    )
    .await;
    owner_call(&base, &token, reqwest::Method::POST, "/buckets/family/collections/private/records", Some(record)).await;

    let get = |path: &'static str| request(&me, server_id, lan, http::Method::GET, path, None);
    let (status, body) = get("/v1/").await.expect("hello over the LAN");
    assert_eq!(status, 200);
    let hello: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(hello["user"]["id"], principal.as_str(), "{hello}");

    let (status, body) = get("/v1/buckets/family/collections/shared/records").await.expect("shared");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let records: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(records["data"][0]["title"], "milk", "{records}");

    let (status, body) = get("/v1/buckets/family/collections/private/records").await.expect("private");
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let (status, _) = get("/v1/__devices__").await.expect("owner endpoint");
    assert_eq!(status, 403, "a device is not an admin principal");

    let refused = request(&stranger, server_id, lan, http::Method::GET, "/v1/", None).await;
    assert!(refused.is_err(), "an unpaired device got an answer: {refused:?}");

    let _ = stop.send(());
    running.await.expect("server task").expect("server stops cleanly");
}
