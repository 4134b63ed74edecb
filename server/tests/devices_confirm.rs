//! The pairing confirmation contract over the owner's HTTP endpoints, with two servers in this
//! process on loopback (joined by `ip:port`, so no mDNS: their only interface name matches
//! nothing): after the PAKE both sides list the peer as pending with the same check string and
//! keep their data ports shut to it; a rejection on one side is final; confirming on both sides
//! pins the peer. Also the pairing QR code as SVG, and sharing collections with a paired device
//! (`/__devices__/{id}/shares`, `shared`, `shared-with-me`).

use kintoun::Server;
use kintoun::secrets::SecretsBackend;
use kintoun::sharing::peer::request;
use kintoun::sharing::{DeviceId, DeviceIdentity};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

fn settings(dir: &std::path::Path, name: &str) -> kintoun::Settings {
    let mut settings = kintoun::Settings::default();
    settings.data_dir = Some(dir.to_path_buf());
    settings.secrets_backend = SecretsBackend::File;
    settings.lan_sharing = true;
    settings.device_name = Some(name.into());
    settings.lan_address = std::net::IpAddr::from([127, 0, 0, 1]);
    settings.lan_port = 0;
    settings.lan_interfaces = vec!["kt-no-such-if".into()];
    settings
}

/// One server: its owner API, its device identity (to probe the other's data port) and LAN address.
struct Node {
    base: String,
    token: String,
    id: DeviceId,
    identity: DeviceIdentity,
    lan: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Node {
    async fn start(name: &str) -> Node {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::open(settings(dir.path(), name)).await.expect("server opens");
        let id = server.devices().identity().id();
        let seed = kintoun::sharing::attach::device_key_seed(server.secrets()).expect("device key");
        let identity = DeviceIdentity::from_seed_hex(&seed).expect("identity");
        assert_eq!(identity.id(), id);
        let token = server.session_token("account:admin");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(listener, async move {
            let _ = stopped.await;
        }));
        let mut node = Node { base, token, id, identity, lan: "127.0.0.1:9".parse().expect("addr"), stop, _dir: dir };
        let overview = node.ok(Method::GET, "/__devices__", None).await;
        node.lan = overview["this"]["address"].as_str().unwrap_or_default().parse().expect("LAN address");
        node
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, String, String) {
        let mut call = Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            call = call.json(&body);
        }
        let response = call.send().await.expect("owner request");
        let status = response.status();
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, kind, response.text().await.expect("body"))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, _, text) = self.call(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).expect("json")
    }

    /// Whether this device gets an answer from `other`'s data port.
    async fn reaches(&self, other: &Node) -> bool {
        request(&self.identity, other.id, other.lan, http::Method::GET, "/v1/", None).await.is_ok()
    }

    async fn pending(&self) -> Vec<Value> {
        self.ok(Method::GET, "/__devices__", None).await["pending"].as_array().cloned().unwrap_or_default()
    }

    async fn paired(&self) -> Vec<String> {
        let overview = self.ok(Method::GET, "/__devices__", None).await;
        overview["paired"].as_array().into_iter().flatten().filter_map(|d| d["id"].as_str().map(String::from)).collect()
    }

    async fn event_types(&self) -> Vec<String> {
        let events = self.ok(Method::GET, "/__devices__/events", None).await;
        events["events"].as_array().into_iter().flatten().filter_map(|e| e["type"].as_str().map(String::from)).collect()
    }
}

/// A shows a code and B joins it: returns A's pairing view and B's join answer.
async fn pair(a: &Node, b: &Node) -> (Value, Value) {
    let invitation = a.ok(Method::POST, "/__devices__/pairing", None).await;
    (invitation.clone(), join(&invitation, b).await)
}

/// B joins the code in A's pairing view.
async fn join(invitation: &Value, b: &Node) -> Value {
    let target = format!("127.0.0.1:{}", invitation["pairing_port"]);
    let body = json!({ "device": target, "code": invitation["code"] });
    let (status, _, text) = b.call(Method::POST, "/__devices__/join", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_waits_for_both_users_and_a_rejection_is_final() {
    let a = Node::start("alpha").await;
    let b = Node::start("bravo").await;

    // Before any code there is no QR; anonymous callers get nothing either.
    let (status, _, text) = a.call(Method::GET, "/__devices__/pairing/qr.svg", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let error: Value = serde_json::from_str(&text).expect("Kinto error body");
    assert_eq!(error["code"], 400);

    let invitation = a.ok(Method::POST, "/__devices__/pairing", None).await;
    // The QR code of the live invitation, as SVG, encodes exactly the payload.
    let (status, kind, svg) = a.call(Method::GET, "/__devices__/pairing/qr.svg", None).await;
    assert_eq!(status, StatusCode::OK, "{svg}");
    assert_eq!(kind, "image/svg+xml");
    let payload = invitation["qr_payload"].as_str().expect("payload");
    assert!(payload.starts_with(&format!("kintoun:1?d={}&p=", a.id.compact())), "{payload}");
    let expected = qrcode::QrCode::new(payload.as_bytes())
        .expect("qr")
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    assert_eq!(svg, expected);
    let other = qrcode::QrCode::new(b"kintoun:1?d=X&p=1&c=00000000").expect("qr");
    assert_ne!(svg, other.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build());
    let anonymous = Client::new().get(format!("{}/__devices__/pairing/qr.svg", a.base)).send().await.expect("get");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let joined = join(&invitation, &b).await;
    assert_eq!(joined["device"], a.id.compact());
    assert_eq!(joined["name"], "alpha");
    assert_eq!(joined["display_id"], a.id.display());
    // The code is used: no more QR.
    let (status, _, _) = a.call(Method::GET, "/__devices__/pairing/qr.svg", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Both sides hold the other as pending, with the same check string; nothing is pinned.
    let (a_pending, b_pending) = (a.pending().await, b.pending().await);
    assert_eq!(a_pending.len(), 1, "{a_pending:?}");
    assert_eq!(b_pending.len(), 1, "{b_pending:?}");
    assert_eq!(a_pending[0]["device"], b.id.compact());
    assert_eq!(a_pending[0]["name"], "bravo");
    assert_eq!(b_pending[0]["device"], a.id.compact());
    assert_eq!(a_pending[0]["sas"], joined["sas"]);
    assert_eq!(b_pending[0]["sas"], joined["sas"]);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis();
    let expires_at = a_pending[0]["expires_at"].as_u64().expect("expires_at") as u128;
    assert!(expires_at > now_ms && expires_at <= now_ms + 120_000, "{expires_at} vs {now_ms}");
    assert!(a.paired().await.is_empty() && b.paired().await.is_empty());
    assert!(a.event_types().await.contains(&"pairing_confirm".to_owned()));
    assert!(b.event_types().await.contains(&"pairing_confirm".to_owned()));
    assert!(!b.reaches(&a).await, "B got through A's data port before anyone confirmed");
    assert!(!a.reaches(&b).await, "A got through B's data port before anyone confirmed");

    // B confirms, A's user rejects: B never gets in, and A cannot change its mind.
    let confirmed = b.ok(Method::POST, &format!("/__devices__/{}/confirm", a.id.compact()), None).await;
    assert_eq!(
        confirmed,
        json!({"device": a.id.compact(), "display_id": a.id.display(), "name": "alpha", "state": "paired"})
    );
    assert!(b.paired().await.contains(&a.id.compact()));
    let rejected = a.ok(Method::DELETE, &format!("/__devices__/{}", b.id.compact()), None).await;
    assert_eq!(rejected["state"], "rejected");
    assert!(a.pending().await.is_empty());
    assert!(a.event_types().await.contains(&"pairing_failed".to_owned()));
    let (status, _, text) = a.call(Method::POST, &format!("/__devices__/{}/confirm", b.id.compact()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    assert!(a.paired().await.is_empty());
    assert!(!b.reaches(&a).await, "a rejected device got through");
    let (status, _, _) = b.call(Method::POST, &format!("/__devices__/{}/confirm", a.id.compact()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "confirmed twice");

    // A fresh code, confirmed on both sides: both pinned, the data port answers.
    let (_, joined) = pair(&a, &b).await;
    assert_eq!(b.pending().await.len(), 1);
    assert!(!b.reaches(&a).await);
    a.ok(Method::POST, &format!("/__devices__/{}/confirm", b.id.compact()), None).await;
    b.ok(Method::POST, &format!("/__devices__/{}/confirm", a.id.compact()), None).await;
    assert!(a.paired().await.contains(&b.id.compact()));
    assert!(b.reaches(&a).await, "a confirmed device is refused");
    assert!(a.reaches(&b).await, "a confirmed device is refused");
    assert!(a.pending().await.is_empty() && b.pending().await.is_empty());
    assert_eq!(joined["name"], "alpha");

    // Confirming something that is not pending, or a malformed id, is a clean 4xx.
    let (status, _, _) = a.call(Method::POST, &format!("/__devices__/{}/confirm", b.id.compact()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, text) = a.call(Method::POST, "/__devices__/not-an-id/confirm", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let _ = (a.stop.send(()), b.stop.send(()));
}

async fn shares(node: &Node, of: &Node) -> Value {
    node.ok(Method::GET, &format!("/__devices__/{}/shares", of.id.compact()), None).await["shares"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_device_sees_what_is_shared_with_it() {
    let a = Node::start("alpha").await;
    let b = Node::start("bravo").await;
    pair(&a, &b).await;
    a.ok(Method::POST, &format!("/__devices__/{}/confirm", b.id.compact()), None).await;
    b.ok(Method::POST, &format!("/__devices__/{}/confirm", a.id.compact()), None).await;

    a.ok(Method::PUT, "/buckets/home", Some(json!({}))).await;
    a.ok(Method::PUT, "/buckets/home/collections/recipes", Some(json!({"data": {"title": "Recipes"}}))).await;
    a.ok(Method::PUT, "/buckets/home/collections/chores", Some(json!({}))).await;
    a.ok(Method::PUT, "/buckets/home/collections/recipes/records/soup", Some(json!({"data": {"name": "Soup"}}))).await;
    a.ok(Method::PUT, "/buckets/family", Some(json!({}))).await;
    a.ok(Method::PUT, "/buckets/family/collections/photos", Some(json!({}))).await;

    // Nothing shared yet.
    assert_eq!(shares(&a, &b).await, json!([]));
    let mine = b.ok(Method::GET, "/__devices__/shared-with-me", None).await;
    assert_eq!(mine["devices"][0]["device"], a.id.compact());
    assert_eq!(mine["devices"][0]["reachable"], true, "{mine}");
    assert_eq!(mine["devices"][0]["shares"], json!([]));

    // The owner shares one collection read+write (by the display id), and a bucket through
    // plain Kinto permissions: both count.
    let path = format!("/__devices__/{}/shares/home/recipes", b.id.display());
    let answer = a.ok(Method::PUT, &path, Some(json!({"access": "write"}))).await;
    assert_eq!(answer["access"], "write");
    let principal = b.id.principal();
    a.ok(Method::PATCH, "/buckets/family", Some(json!({"permissions": {"read": [principal]}}))).await;
    let expected = json!([
        {"bucket": "family", "collection": "photos", "access": "read", "via": "/buckets/family"},
        {"bucket": "home", "collection": "recipes", "access": "write", "via": "/buckets/home/collections/recipes", "title": "Recipes"},
    ]);
    assert_eq!(shares(&a, &b).await, expected);
    let mine = b.ok(Method::GET, "/__devices__/shared-with-me", None).await;
    assert_eq!(mine["devices"][0]["shares"], expected, "{mine}");
    assert_eq!(mine["devices"][0]["name"], "alpha");

    // B reads the shared records over the LAN; the unshared collection stays closed.
    let records = "/v1/buckets/home/collections/recipes/records";
    let (status, body) = request(&b.identity, a.id, a.lan, http::Method::GET, records, None).await.expect("LAN read");
    assert_eq!(status, http::StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (status, _) =
        request(&b.identity, a.id, a.lan, http::Method::GET, "/v1/buckets/home/collections/chores/records", None)
            .await
            .expect("LAN read");
    assert_eq!(status, http::StatusCode::FORBIDDEN);
    // A paired device may ask what is shared with it, but not change shares.
    let (status, _) =
        request(&b.identity, a.id, a.lan, http::Method::GET, "/v1/__devices__/shared", None).await.expect("LAN read");
    assert_eq!(status, http::StatusCode::OK);
    let grab = format!("/v1/__devices__/{}/shares/home/chores", b.id.compact());
    let (status, _) = request(&b.identity, a.id, a.lan, http::Method::PUT, &grab, Some(&json!({"access": "write"})))
        .await
        .expect("LAN request");
    assert_eq!(status, http::StatusCode::FORBIDDEN);
    // The owner is not a device: `shared` is for devices only.
    let (status, _, _) = a.call(Method::GET, "/__devices__/shared", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Read-only now, then not shared at all.
    a.ok(Method::PUT, &path, Some(json!({"access": "read"}))).await;
    assert_eq!(shares(&a, &b).await[1]["access"], "read");
    a.ok(Method::DELETE, &path, None).await;
    assert_eq!(shares(&a, &b).await, json!([expected[0].clone()]));
    let (status, _) = request(&b.identity, a.id, a.lan, http::Method::GET, records, None).await.expect("LAN read");
    assert_eq!(status, http::StatusCode::FORBIDDEN);

    // Clean 4xx for what does not exist or makes no sense.
    for (method, path, body, expected) in [
        (Method::PUT, format!("/__devices__/{}/shares/home/nothing", b.id.compact()), json!({"access": "read"}), 404),
        (
            Method::PUT,
            format!("/__devices__/{}/shares/nobucket/recipes", b.id.compact()),
            json!({"access": "read"}),
            404,
        ),
        (Method::PUT, "/__devices__/not-a-device/shares/home/recipes".to_owned(), json!({"access": "read"}), 404),
        (Method::PUT, format!("/__devices__/{}/shares/home/recipes", a.id.compact()), json!({"access": "read"}), 404),
        (Method::PUT, format!("/__devices__/{}/shares/home/recipes", b.id.compact()), json!({"access": "admin"}), 400),
        (Method::PUT, format!("/__devices__/{}/shares/home/recipes", b.id.compact()), json!({}), 400),
        (Method::POST, format!("/__devices__/{}/shares/home/recipes", b.id.compact()), json!({}), 405),
    ] {
        let (status, _, text) = a.call(method.clone(), &path, Some(body)).await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {text}");
        let error: Value = serde_json::from_str(&text).expect("Kinto error body");
        assert_eq!(error["code"], expected);
    }
    let anonymous =
        Client::new().get(format!("{}/__devices__/{}/shares", a.base, b.id.compact())).send().await.expect("get");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let _ = (a.stop.send(()), b.stop.send(()));
}
