//! The connect flow for browser extensions and local apps, and the desktop-safe web defaults:
//! consent, PKCE, scoped `app:<id>` tokens bound to their origin, revocation, CORS limited to
//! extensions and approved apps, and no anonymous writes.

mod common;

use base64::Engine;
use kintoun::Server;
use kintoun::secrets::SecretsBackend;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const EXTENSION: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";

struct Desktop {
    root: String,
    owner: String,
    http: Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Desktop {
    async fn start() -> Desktop {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = kintoun::Settings::default();
        settings.data_dir = Some(dir.path().to_path_buf());
        settings.secrets_backend = SecretsBackend::File;
        let server = Server::open(settings).await.expect("open");
        let owner = server.session_token("account:admin");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(listener, async move {
            let _ = stopped.await;
        }));
        Desktop { root: format!("http://{addr}/v1"), owner, http: Client::new(), _stop: stop, _dir: dir }
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.root))
    }

    fn as_owner(&self, method: Method, path: &str) -> RequestBuilder {
        self.req(method, path).bearer_auth(&self.owner)
    }
}

async fn send(request: RequestBuilder) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Runs the whole flow for `scopes` from `origin`; returns the token.
async fn connect(desktop: &Desktop, origin: &str, scopes: Value) -> String {
    let verifier = "a-long-enough-pkce-verifier-0123456789-abcdefghij";
    let body = json!({"name": "Recipes extension", "scopes": scopes, "code_challenge": challenge(verifier)});
    let (status, asked, _) = send(desktop.req(Method::POST, "/connect").header("Origin", origin).json(&body)).await;
    assert_eq!(status, 201, "{asked}");
    let id = asked["id"].as_str().expect("id").to_owned();
    let (_, polled, _) = send(desktop.req(Method::GET, &format!("/connect/{id}")).header("Origin", origin)).await;
    assert_eq!(polled["status"], "pending");
    assert!(polled.get("code").is_none());

    let (status, listing, _) = send(desktop.as_owner(Method::GET, "/__apps__")).await;
    assert_eq!(status, 200);
    assert_eq!(listing["pending"][0]["origin"], origin);
    let (status, _, _) =
        send(desktop.as_owner(Method::POST, &format!("/__apps__/requests/{id}")).json(&json!({"approve": true}))).await;
    assert_eq!(status, 200);

    let (_, polled, _) = send(desktop.req(Method::GET, &format!("/connect/{id}")).header("Origin", origin)).await;
    assert_eq!(polled["status"], "approved");
    let code = polled["code"].as_str().expect("code").to_owned();
    let token_path = format!("/connect/{id}/token");
    let wrong = json!({"code": code, "code_verifier": "not-the-verifier-not-the-verifier-0123456789"});
    let (status, _, _) = send(desktop.req(Method::POST, &token_path).header("Origin", origin).json(&wrong)).await;
    assert_eq!(status, 400);
    let right = json!({"code": code, "code_verifier": verifier});
    let (status, issued, _) = send(desktop.req(Method::POST, &token_path).header("Origin", origin).json(&right)).await;
    assert_eq!(status, 201, "{issued}");
    assert!(issued["principal"].as_str().expect("principal").starts_with("app:"));
    let (status, _, _) = send(desktop.req(Method::POST, &token_path).header("Origin", origin).json(&right)).await;
    assert_eq!(status, 400, "a code is used once");
    issued["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn an_approved_extension_reaches_its_collection_only_from_its_origin_until_revoked() {
    let desktop = Desktop::start().await;
    for path in ["/buckets/home", "/buckets/home/collections/recipes", "/buckets/home/collections/passwords"] {
        let (status, _, _) = send(desktop.as_owner(Method::PUT, path).json(&json!({}))).await;
        assert_eq!(status, 201, "{path}");
    }
    let token = connect(
        &desktop,
        EXTENSION,
        json!([{"bucket": "home", "collection": "recipes", "access": "write"},
               {"bucket": "home", "collection": "own", "access": "write", "create": true}]),
    )
    .await;
    let app = |method: Method, path: &str| desktop.req(method, path).bearer_auth(&token).header("Origin", EXTENSION);

    let (status, created, headers) =
        send(app(Method::POST, "/buckets/home/collections/recipes/records").json(&json!({"data": {"n": 1}}))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(EXTENSION));
    let (status, _, _) = send(app(Method::GET, "/buckets/home/collections/recipes/records")).await;
    assert_eq!(status, 200);
    let (status, _, _) =
        send(app(Method::POST, "/buckets/home/collections/own/records").json(&json!({"data": {}}))).await;
    assert_eq!(status, 201, "the collection it asked to create");
    let (status, _, _) = send(app(Method::GET, "/buckets/home/collections/passwords/records")).await;
    assert_eq!(status, 403, "another collection stays forbidden");

    // The same token from another origin is refused; without an Origin (not a web page: a
    // native app, or the extension's own GETs) it works.
    let (status, refused, _) = send(
        desktop
            .req(Method::GET, "/buckets/home/collections/recipes/records")
            .bearer_auth(&token)
            .header("Origin", "chrome-extension://anotherextensionanotherextension"),
    )
    .await;
    assert_eq!((status, refused["errno"].as_u64()), (401, Some(104)));
    assert_eq!(refused["message"], "This token is bound to another origin.");
    let (status, _, _) =
        send(desktop.req(Method::GET, "/buckets/home/collections/recipes/records").bearer_auth(&token)).await;
    assert_eq!(status, 200);

    // Revocation: the token dies and the app's ACEs go.
    let (_, listing, _) = send(desktop.as_owner(Method::GET, "/__apps__")).await;
    let app_id = listing["apps"][0]["id"].as_str().expect("app id").to_owned();
    let (status, _, _) = send(desktop.as_owner(Method::DELETE, &format!("/__apps__/{app_id}"))).await;
    assert_eq!(status, 200);
    let (status, _, _) = send(app(Method::GET, "/buckets/home/collections/recipes/records")).await;
    assert_eq!(status, 401);
    let (_, collection, _) = send(desktop.as_owner(Method::GET, "/buckets/home/collections/recipes")).await;
    let write = collection["permissions"]["write"].as_array().cloned().unwrap_or_default();
    assert!(!write.iter().any(|p| p.as_str().is_some_and(|p| p.starts_with("app:"))), "{collection}");
}

#[tokio::test]
async fn web_pages_cannot_read_or_write_and_anonymous_writes_are_refused() {
    let desktop = Desktop::start().await;
    let (status, _, _) = send(
        desktop
            .as_owner(Method::PUT, "/buckets/open")
            .json(&json!({"permissions": {"read": ["system.Everyone"], "write": ["system.Everyone"]}})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = send(desktop.as_owner(Method::PUT, "/buckets/open/collections/c").json(&json!({}))).await;
    assert_eq!(status, 201);
    let records = "/buckets/open/collections/c/records";

    // A web page: its Origin is not allowed, for reads and writes alike (and preflights).
    let evil = "https://evil.example";
    let (status, body, headers) = send(desktop.req(Method::GET, records).header("Origin", evil)).await;
    assert_eq!(status, 400, "{body}");
    assert!(headers.get("access-control-allow-origin").is_none());
    let form = desktop
        .req(Method::POST, records)
        .header("Origin", evil)
        .header("Content-Type", "text/plain")
        .body(r#"{"data": {"pwned": true}}"#);
    let (status, _, _) = send(form).await;
    assert!(status == 400 || status == 415, "{status}");
    let (status, _, _) = send(
        desktop.req(Method::OPTIONS, records).header("Origin", evil).header("Access-Control-Request-Method", "POST"),
    )
    .await;
    assert_eq!(status, 400);

    // No Authorization header: no write, even where the ACL lets everyone write.
    let (status, _, _) = send(desktop.req(Method::POST, records).json(&json!({"data": {"pwned": true}}))).await;
    assert_eq!(status, 401);
    let (status, _, _) = send(
        desktop.req(Method::POST, records).header("Content-Type", "text/plain").body(r#"{"data": {"pwned": true}}"#),
    )
    .await;
    assert!(status == 401 || status == 415, "{status}");
    let (_, listing, _) = send(desktop.as_owner(Method::GET, records)).await;
    assert_eq!(listing["data"], json!([]), "nothing was written");

    // An extension origin is allowed by CORS (reads of public data work).
    let (status, _, headers) = send(desktop.req(Method::GET, records).header("Origin", EXTENSION)).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(EXTENSION));

    // DNS rebinding: a foreign Host is refused.
    let (status, _, _) = send(desktop.req(Method::GET, "/").header("Host", "evil.example")).await;
    assert_eq!(status, 400);

    // The server's own origin (the admin UI it serves) is allowed.
    let own = desktop.root.trim_end_matches("/v1").to_owned();
    let (status, _, _) = send(desktop.as_owner(Method::GET, records).header("Origin", own)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn connect_requests_are_validated_and_only_the_owner_decides() {
    let desktop = Desktop::start().await;
    let (status, body, _) =
        send(desktop.req(Method::POST, "/connect").header("Origin", EXTENSION).json(&json!({"name": "x"}))).await;
    assert_eq!((status, body["errno"].as_u64()), (400, Some(107)));
    let asked = json!({"name": "x", "scopes": [{"bucket": "b", "collection": "c", "access": "read"}],
                       "code_challenge": challenge("verifier-verifier-verifier-verifier-verifier")});
    let (status, pending, _) =
        send(desktop.req(Method::POST, "/connect").header("Origin", EXTENSION).json(&asked)).await;
    assert_eq!(status, 201);
    let id = pending["id"].as_str().expect("id");
    let decide = format!("/__apps__/requests/{id}");
    let (status, _, _) = send(desktop.req(Method::POST, &decide).json(&json!({"approve": true}))).await;
    assert_eq!(status, 401);
    // Approving a scope on a missing collection (without `create`) fails and grants nothing.
    let (status, _, _) = send(desktop.as_owner(Method::POST, &decide).json(&json!({"approve": true}))).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(desktop.as_owner(Method::POST, &decide).json(&json!({"approve": false}))).await;
    assert_eq!(status, 200);
    let (_, polled, _) = send(desktop.req(Method::GET, &format!("/connect/{id}")).header("Origin", EXTENSION)).await;
    assert_eq!(polled["status"], "denied");
    // Another origin cannot even see the request.
    let (status, _, _) =
        send(desktop.req(Method::GET, &format!("/connect/{id}")).header("Origin", "moz-extension://x")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn without_an_owner_there_is_no_connect_flow() {
    let server = common::start().await;
    for (method, path) in [("POST", "/v1/connect"), ("GET", "/v1/__apps__"), ("DELETE", "/v1/__apps__/x")] {
        let reply = server.call(method.parse().expect("method"), path, Some("alice:pw"), None).await;
        assert_eq!((reply.status, reply.json["errno"].as_u64()), (404, Some(111)), "{method} {path}");
    }
}
