//! The LAN settings changed at run time through `GET/PATCH /v1/__devices__/settings`: sharing
//! turned on and off without a restart, the device name and port applied at once, a port in
//! use refused with the previous settings still running, wrong values and keys locked by an
//! environment variable refused by name, choices kept across a restart, and the device events'
//! serials going on across LAN restarts. mDNS stays off: the only interface named matches none.

use kintoun::Server;
use kintoun::secrets::SecretsBackend;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const NO_INTERFACE: &str = "kt-no-such-if";

fn settings(dir: &std::path::Path) -> kintoun::Settings {
    let mut settings = kintoun::Settings::default();
    settings.data_dir = Some(dir.to_path_buf());
    settings.secrets_backend = SecretsBackend::File;
    settings.lan_address = std::net::IpAddr::from([127, 0, 0, 1]);
    settings.lan_port = 0;
    settings.lan_interfaces = vec![NO_INTERFACE.into()];
    settings
}

struct Node {
    base: String,
    token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

impl Node {
    async fn start(settings: kintoun::Settings) -> Node {
        let server = Server::open(settings).await.expect("server opens");
        let token = server.session_token("account:admin");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let _ = server
                .run(listener, async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Node { base, token, stop, done }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut call = Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            call = call.json(&body);
        }
        let response = call.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn patch(&self, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, "/__devices__/settings", Some(body)).await
    }

    async fn settings(&self) -> Value {
        let (status, body) = self.call(Method::GET, "/__devices__/settings", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.done.await;
    }
}

fn listening(view: &Value) -> Option<std::net::SocketAddr> {
    view["listening"].as_str().map(|text| text.parse().expect("socket address"))
}

#[tokio::test]
async fn sharing_turns_on_and_off_at_run_time_and_the_choice_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::start(settings(dir.path())).await;

    let anonymous = Client::new().get(format!("{}/__devices__/settings", node.base)).send().await.expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let view = node.settings().await;
    assert_eq!(view["lan_sharing"], false);
    assert_eq!(view["listening"], Value::Null);
    assert_eq!(view["pinned"], json!({}));
    let interfaces = view["interfaces"].as_array().expect("interfaces");
    assert!(interfaces.iter().any(|i| i["name"] == "lo" && i["loopback"] == true), "{view}");

    let (status, view) = node.patch(json!({"lan_sharing": true, "device_name": "  Kitchen laptop "})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let first = listening(&view).expect("the LAN side listens");
    assert_eq!(view["device_name"], "Kitchen laptop");
    assert!(tokio::net::TcpStream::connect(first).await.is_ok());
    let (_, overview) = node.call(Method::GET, "/__devices__", None).await;
    assert_eq!(overview["lan_sharing"], true);
    assert_eq!(overview["this"]["name"], "Kitchen laptop");
    let (status, _) = node.call(Method::POST, "/__devices__/pairing", None).await;
    assert_eq!(status, StatusCode::CREATED, "pairing works once sharing is on");

    // A rename restarts the LAN side: events keep their serials.
    let (status, view) = node.patch(json!({"device_name": "Pantry"})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (_, overview) = node.call(Method::GET, "/__devices__", None).await;
    assert_eq!(overview["this"]["name"], "Pantry");
    let (status, _) = node.call(Method::POST, "/__devices__/pairing", None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, events) = node.call(Method::GET, "/__devices__/events?since=0", None).await;
    let started: Vec<u64> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "pairing_started")
        .filter_map(|e| e["serial"].as_u64())
        .collect();
    assert_eq!(started.len(), 2, "{events}");
    assert!(started[0] < started[1], "{events}");

    let (status, view) = node.patch(json!({"lan_sharing": false})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["listening"], Value::Null);
    let (status, body) = node.call(Method::POST, "/__devices__/pairing", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, view) = node.patch(json!({"lan_sharing": true})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    node.stop().await;

    // The saved choices win over the settings the server was started with.
    let node = Node::start(settings(dir.path())).await;
    let view = node.settings().await;
    assert_eq!(view["lan_sharing"], true, "{view}");
    assert_eq!(view["device_name"], "Pantry");
    assert!(listening(&view).is_some());
    node.stop().await;
}

#[tokio::test]
async fn a_port_in_use_is_refused_and_the_previous_settings_keep_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::start(settings(dir.path())).await;
    let (status, view) = node.patch(json!({"lan_sharing": true})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let before = listening(&view).expect("listening");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let (status, body) = node.patch(json!({"lan_port": port})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errno"], 107);
    assert_eq!(body["details"][0]["name"], "lan_port", "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains(&port.to_string()), "{body}");

    let view = node.settings().await;
    assert_eq!(view["lan_port"], 0, "nothing changed: {view}");
    let after = listening(&view).expect("still listening");
    assert_eq!(after, before);
    assert!(tokio::net::TcpStream::connect(after).await.is_ok());
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("lan-settings.json")).expect("saved")).expect("json");
    assert_eq!(saved, json!({"lan_sharing": true}), "the refused port was not saved");
    node.stop().await;
}

#[tokio::test]
async fn wrong_values_and_locked_keys_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    settings.from_env.insert("device_name".into(), "KINTOUN_DEVICE_NAME".into());
    settings.device_name = Some("Set by env".into());
    let node = Node::start(settings).await;

    let view = node.settings().await;
    assert_eq!(view["pinned"], json!({"device_name": "KINTOUN_DEVICE_NAME"}));
    let (status, body) = node.patch(json!({"device_name": "Other"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"][0]["name"], "device_name");
    assert!(body["message"].as_str().unwrap_or_default().contains("KINTOUN_DEVICE_NAME"), "{body}");
    let (status, body) = node.patch(json!({"device_name": "Set by env", "lan_port": 0})).await;
    assert_eq!(status, StatusCode::OK, "repeating a locked value is fine: {body}");

    for (body, key) in [
        (json!({"lan_port": -1}), "lan_port"),
        (json!({"lan_port": 65536}), "lan_port"),
        (json!({"lan_address": "kitchen"}), "lan_address"),
        (json!({"lan_sharing": "on"}), "lan_sharing"),
        (json!({"lan_interfaces": ["eth0", 3]}), "lan_interfaces"),
        (json!({"wifi_password": "x"}), "wifi_password"),
    ] {
        let (status, reply) = node.patch(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert_eq!(reply["errno"], 107, "{reply}");
        assert_eq!(reply["details"][0]["name"], key, "{reply}");
    }
    // The device endpoints go through Kinto's pipeline: the desktop window's origin may call
    // them (preflight included), other methods get Kinto's 405 body, stats count them.
    let preflight = Client::new()
        .request(Method::OPTIONS, format!("{}/__devices__/settings", node.base))
        .header("Origin", "tauri://localhost")
        .header("Access-Control-Request-Method", "PATCH")
        .header("Access-Control-Request-Headers", "authorization,content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "tauri://localhost");
    assert_eq!(preflight.headers()["access-control-allow-methods"], "GET,HEAD,PATCH,OPTIONS");
    let (status, body) = node.call(Method::PUT, "/__devices__/settings", Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["errno"], 115, "{body}");
    let (status, body) = node.call(Method::GET, "/__devices__/a/b/c", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["errno"], 111, "{body}");
    let (_, stats) = node.call(Method::GET, "/__stats__", None).await;
    assert!(stats["requests"].as_u64().unwrap_or_default() >= 10, "{stats}");

    let response = Client::new()
        .patch(format!("{}/__devices__/settings", node.base))
        .bearer_auth(&node.token)
        .header("Content-Type", "application/json")
        .body("{\"lan_port\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("lan-settings.json")).expect("saved")).expect("json");
    assert_eq!(saved, json!({"device_name": "Set by env", "lan_port": 0}), "only the accepted change was saved");
    node.stop().await;
}
