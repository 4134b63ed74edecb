//! The desktop-facing server API: the owner account created on first start (password in the
//! secrets store), per-launch session tokens, `/__stats__`, and transport identities given by
//! a second listener (as the LAN listener does).

use std::net::SocketAddr;

use kintoun::Server;
use kintoun::auth::TransportIdentity;
use kintoun::secrets::{SecretSource, SecretStore, SecretsBackend};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// Kintoun's own defaults (owner `admin`), secrets in files, in `dir`.
fn desktop_settings(dir: &std::path::Path) -> kintoun::Settings {
    let mut settings = kintoun::Settings::default();
    settings.data_dir = Some(dir.to_path_buf());
    settings.secrets_backend = SecretsBackend::File;
    settings
}

/// Runs `app` on a fresh loopback port until the returned sender fires.
async fn spawn(app: axum::Router) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, stop)
}

async fn get(url: &str, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut request = Client::new().get(url);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[tokio::test]
async fn first_start_creates_the_owner_and_later_starts_keep_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::open(desktop_settings(dir.path())).await.expect("open");
    let owner = server.owner().expect("an owner").clone();
    assert!(owner.created);
    assert_eq!(owner.user_id, "account:admin");
    let password = owner.password.clone().expect("a password");
    assert_eq!(password.len(), 32);
    let secret_file = dir.path().join("secrets").join("owner-password");
    assert_eq!(owner.source, Some(SecretSource::File(secret_file.clone())));
    assert_eq!(std::fs::read_to_string(&secret_file).expect("secret file"), password);

    let (addr, stop) = spawn(server.app()).await;
    let (status, hello) = get(&format!("http://{addr}/v1/"), Some(&basic("admin", &password))).await;
    assert_eq!(status, 200);
    assert_eq!(hello["user"]["id"], "account:admin");
    let (status, _) = get(&format!("http://{addr}/v1/accounts"), Some(&basic("admin", "wrong"))).await;
    assert_eq!(status, 401);
    let _ = stop.send(());
    drop(server);

    // The userid secret moved into the store too.
    let store = SecretStore::new(dir.path(), SecretsBackend::File);
    assert!(store.get("userid-hmac-secret").expect("store").is_some());

    // A restart neither recreates the account nor changes its password.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let again = Server::open(desktop_settings(dir.path())).await.expect("reopen");
    let owner = again.owner().expect("owner");
    assert!(!owner.created);
    assert_eq!(owner.password.as_deref(), Some(password.as_str()));
}

#[tokio::test]
async fn session_tokens_authenticate_as_their_user_and_stats_are_for_admins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::open(desktop_settings(dir.path())).await.expect("open");
    let token = server.session_token("account:admin");
    let other = server.session_token("account:bob");
    let (addr, stop) = spawn(server.app()).await;
    let root = format!("http://{addr}/v1");

    let (status, hello) = get(&format!("{root}/"), Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);
    assert_eq!(hello["user"]["id"], "account:admin");
    let (_, hello) = get(&format!("{root}/"), Some("Bearer not-a-live-token")).await;
    assert!(hello.get("user").is_none(), "an unknown token is anonymous: {hello}");

    let (status, body) = get(&format!("{root}/__stats__"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["errno"], 104);
    let (status, body) = get(&format!("{root}/__stats__"), Some(&format!("Bearer {other}"))).await;
    assert_eq!(status, 403);
    assert_eq!(body["errno"], 121);
    let (status, stats) = get(&format!("{root}/__stats__"), Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);
    assert!(stats["requests"].as_u64().expect("requests") >= 4, "{stats}");
    assert_eq!(stats["objects"]["accounts"], 1);
    assert!(stats["database_bytes"].as_u64().expect("database_bytes") > 0);
    assert_eq!(stats["data_dir"], dir.path().display().to_string());
    let _ = stop.send(());
}

#[tokio::test]
async fn a_transport_identity_authenticates_and_skips_the_host_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::open(desktop_settings(dir.path())).await.expect("open");
    let lan = server.app().layer(axum::Extension(TransportIdentity("device:TESTDEVICE".into())));
    let (lan_addr, stop_lan) = spawn(lan).await;
    let (loopback_addr, stop_loopback) = spawn(server.app()).await;

    let lan_hello = Client::new()
        .get(format!("http://{lan_addr}/v1/"))
        .header("Host", "192.168.1.20:8889")
        .header("Authorization", basic("admin", "whatever"))
        .send()
        .await
        .expect("request");
    assert_eq!(lan_hello.status(), 200);
    let lan_hello: Value = lan_hello.json().await.expect("json");
    assert_eq!(lan_hello["user"]["id"], "device:TESTDEVICE");

    // The loopback listener still refuses a foreign Host (DNS rebinding).
    let rebound = Client::new()
        .get(format!("http://{loopback_addr}/v1/"))
        .header("Host", "evil.example:8888")
        .send()
        .await
        .expect("request");
    assert_eq!(rebound.status(), 400);
    let _ = (stop_lan.send(()), stop_loopback.send(()));
}
