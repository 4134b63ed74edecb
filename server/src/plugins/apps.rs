//! Connected apps (browser extensions, local apps): a connect flow modelled on OAuth's
//! authorization code with PKCE. An app asks for scopes on collections; the owner approves
//! (desktop app, UI or `kintoun apps approve`); the app trades the code and its PKCE verifier for
//! a bearer token. Each app is the principal `app:<id>` and its scopes are plain Kinto
//! permissions, so every check stays Kinto's. Tokens are kept as SHA-256 digests, bound to the
//! origin that asked, may expire, and die with a revocation (which also clears the app's ACEs).
//!
//! Approved apps are stored as objects of the internal resource `app` (never routed).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::storage::{Acl, Stamp, StorageResult, Store, Tx};

/// Where approved apps live in the objects table.
const PARENT: &str = "";
const RESOURCE: &str = "app";
/// How long a connection request waits for the owner, and a code for its exchange.
const REQUEST_TTL_MS: i64 = 10 * 60 * 1000;
/// Pending requests at most (per origin / in all), so no page can flood the owner.
const MAX_PENDING_PER_ORIGIN: usize = 3;
const MAX_PENDING: usize = 50;
/// The token prefix: `kta_<app id>_<secret>`.
const TOKEN_PREFIX: &str = "kta_";

/// What an app may do on one collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

/// One requested scope: a collection, read or read-write; `create` asks for a new collection
/// (and bucket) made for the app when missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub bucket: String,
    pub collection: String,
    pub access: Access,
    #[serde(default)]
    pub create: bool,
}

impl Scope {
    fn collection_uri(&self) -> String {
        format!("/buckets/{}/collections/{}", self.bucket, self.collection)
    }
}

/// A connection request as the owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PendingRequest {
    pub id: String,
    pub name: String,
    /// The `Origin` the request came from (`null` for a local app without one).
    pub origin: Option<String>,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub expires_at: i64,
    pub status: RequestStatus,
    /// Lifetime of the token to issue, in seconds (`None`: until revoked).
    pub token_ttl_seconds: Option<u64>,
    #[serde(skip)]
    code_challenge: String,
    #[serde(skip)]
    code: Option<String>,
    #[serde(skip)]
    app_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    /// The token was issued.
    Completed,
}

/// An approved app as stored (the token digest never leaves the server).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectedApp {
    pub id: String,
    pub principal: String,
    pub name: String,
    pub origin: Option<String>,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// What a client sends to `POST /v1/connect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub code_challenge: String,
    #[serde(default = "default_method")]
    pub code_challenge_method: String,
    #[serde(default)]
    pub token_ttl_seconds: Option<u64>,
}

fn default_method() -> String {
    "S256".into()
}

/// In-memory state of the flow: pending requests and the origins of approved apps (for CORS).
#[derive(Default)]
pub struct AppRegistry {
    pending: Mutex<HashMap<String, PendingRequest>>,
    origins: RwLock<BTreeSet<String>>,
    listeners: RwLock<Vec<RequestListener>>,
}

/// Notified when a request arrives (the desktop app shows its consent dialog).
pub type RequestListener = Arc<dyn Fn(&PendingRequest) + Send + Sync>;

fn now_ms() -> i64 {
    crate::storage::sqlite::now_ms()
}

fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

fn digest_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// PKCE S256: `BASE64URL(SHA256(verifier)) == challenge`, compared in constant time.
fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    same_secret(&computed, challenge)
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_id(kind: crate::resource::kind::Kind, id: &str) -> bool {
    crate::resource::ids::is_valid(kind, id)
}

impl AppRegistry {
    /// Loads the origins of the approved apps (CORS allows them).
    pub async fn load(store: &Store) -> StorageResult<AppRegistry> {
        let apps = store.read(|tx| list_apps(tx)).await?;
        let registry = AppRegistry::default();
        if let Ok(mut origins) = registry.origins.write() {
            origins.extend(apps.into_iter().filter_map(|app| app.origin));
        }
        Ok(registry)
    }

    /// Calls `listener` for every new connection request (e.g. a desktop notification).
    pub fn on_request(&self, listener: RequestListener) {
        if let Ok(mut listeners) = self.listeners.write() {
            listeners.push(listener);
        }
    }

    /// Whether `origin` belongs to an approved app.
    pub fn origin_approved(&self, origin: &str) -> bool {
        self.origins.read().is_ok_and(|origins| origins.contains(origin))
    }

    /// Registers a connection request (`POST /v1/connect`).
    pub fn request(&self, body: ConnectBody, origin: Option<&str>) -> Result<PendingRequest, ApiError> {
        let name = body.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::invalid_body("name", "name: a name of 1 to 100 characters is required"));
        }
        if body.scopes.is_empty() || body.scopes.len() > 20 {
            return Err(ApiError::invalid_body("scopes", "scopes: between 1 and 20 scopes are required"));
        }
        for scope in &body.scopes {
            if !valid_id(crate::resource::kind::Kind::Bucket, &scope.bucket)
                || !valid_id(crate::resource::kind::Kind::Collection, &scope.collection)
            {
                return Err(ApiError::invalid_body("scopes", "scopes: invalid bucket or collection id"));
            }
        }
        if body.code_challenge_method != "S256" {
            return Err(ApiError::invalid_body(
                "code_challenge_method",
                "code_challenge_method: only S256 is supported",
            ));
        }
        let challenge_ok = (43..=128).contains(&body.code_challenge.len())
            && body.code_challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !challenge_ok {
            return Err(ApiError::invalid_body("code_challenge", "code_challenge: a base64url SHA-256 is required"));
        }
        let now = now_ms();
        let mut pending = self.pending.lock().map_err(|_| ApiError::Internal("apps registry poisoned".into()))?;
        pending.retain(|_, request| request.expires_at > now);
        let from_origin =
            pending.values().filter(|r| r.status == RequestStatus::Pending && r.origin.as_deref() == origin);
        if from_origin.count() >= MAX_PENDING_PER_ORIGIN || pending.len() >= MAX_PENDING {
            return Err(ApiError::BadRequest("Too many connection requests are waiting for approval.".into()));
        }
        let request = PendingRequest {
            // Letters and digits only: an id starting with '-' would read as an option on the
            // command line (`kintoun apps approve ID`).
            id: random_token(12).replace('-', "a").replace('_', "b"),
            name: name.to_owned(),
            origin: origin.map(str::to_owned),
            scopes: body.scopes,
            created_at: now,
            expires_at: now + REQUEST_TTL_MS,
            status: RequestStatus::Pending,
            token_ttl_seconds: body.token_ttl_seconds,
            code_challenge: body.code_challenge,
            code: None,
            app_id: None,
        };
        pending.insert(request.id.clone(), request.clone());
        drop(pending);
        tracing::info!(request = %request.id, name = %request.name, origin = ?request.origin, "connection request");
        if let Ok(listeners) = self.listeners.read() {
            for listener in listeners.iter() {
                listener(&request);
            }
        }
        Ok(request)
    }

    /// The requests waiting for the owner.
    pub fn pending(&self) -> Vec<PendingRequest> {
        let now = now_ms();
        let Ok(pending) = self.pending.lock() else { return Vec::new() };
        let mut list: Vec<_> =
            pending.values().filter(|r| r.status == RequestStatus::Pending && r.expires_at > now).cloned().collect();
        list.sort_by_key(|r| r.created_at);
        list
    }

    /// What the requesting client may know of its request: the status, and the code once
    /// approved. Only from the origin that asked.
    pub fn status(&self, id: &str, origin: Option<&str>) -> Result<Value, ApiError> {
        let request = self.find(id, origin)?;
        let mut body = json!({"id": request.id, "status": request.status, "expires_at": request.expires_at});
        if request.status == RequestStatus::Approved {
            body["code"] = json!(request.code);
        }
        Ok(body)
    }

    fn find(&self, id: &str, origin: Option<&str>) -> Result<PendingRequest, ApiError> {
        let now = now_ms();
        let pending = self.pending.lock().map_err(|_| ApiError::Internal("apps registry poisoned".into()))?;
        match pending.get(id) {
            Some(request) if request.expires_at > now && origin_fits(request.origin.as_deref(), origin) => {
                Ok(request.clone())
            }
            _ => Err(ApiError::ObjectNotFound { id: id.to_owned(), resource_name: "connection request" }),
        }
    }

    /// The owner's answer. Approval writes the app and its permissions in one transaction.
    pub async fn decide(&self, store: &Store, id: &str, approve: bool) -> Result<PendingRequest, ApiError> {
        let request = {
            let pending = self.pending.lock().map_err(|_| ApiError::Internal("apps registry poisoned".into()))?;
            match pending.get(id) {
                Some(r) if r.status == RequestStatus::Pending && r.expires_at > now_ms() => r.clone(),
                _ => return Err(ApiError::ObjectNotFound { id: id.to_owned(), resource_name: "connection request" }),
            }
        };
        let mut decided = request.clone();
        if approve {
            let app_id = random_token(9).to_ascii_lowercase().replace(['-', '_'], "x");
            let scopes = request.scopes.clone();
            let stored_id = app_id.clone();
            store.write(move |tx| grant(tx, &stored_id, &scopes)).await?;
            decided.status = RequestStatus::Approved;
            decided.code = Some(random_token(32));
            decided.app_id = Some(app_id);
        } else {
            decided.status = RequestStatus::Denied;
        }
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id.to_owned(), decided.clone());
        }
        tracing::info!(request = %id, approve, "connection request decided");
        Ok(decided)
    }

    /// Trades an approved request's code and PKCE verifier for the app's token (once).
    pub async fn exchange(
        &self,
        store: &Store,
        id: &str,
        origin: Option<&str>,
        code: &str,
        verifier: &str,
    ) -> Result<Value, ApiError> {
        let request = self.find(id, origin)?;
        let refused = || ApiError::invalid_body("code", "code: invalid or already used code or verifier");
        let (Some(expected), Some(app_id)) = (&request.code, &request.app_id) else { return Err(refused()) };
        if request.status != RequestStatus::Approved
            || !same_secret(expected, code)
            || !pkce_matches(&request.code_challenge, verifier)
        {
            return Err(refused());
        }
        if let Ok(mut pending) = self.pending.lock() {
            if let Some(stored) = pending.get_mut(id) {
                stored.status = RequestStatus::Completed;
                stored.code = None;
            }
        }
        let token = format!("{TOKEN_PREFIX}{app_id}_{}", random_token(32));
        let now = now_ms();
        let expires_at = request.token_ttl_seconds.map(|ttl| now.saturating_add((ttl as i64).saturating_mul(1000)));
        let mut data = Map::new();
        data.insert("name".into(), json!(request.name));
        data.insert("origin".into(), json!(request.origin));
        data.insert(
            "scopes".into(),
            serde_json::to_value(&request.scopes).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        data.insert("token_sha256".into(), json!(digest_hex(&token)));
        data.insert("created_at".into(), json!(now));
        data.insert("expires_at".into(), json!(expires_at));
        let stored_id = app_id.clone();
        store
            .write(move |tx| tx.put(PARENT, RESOURCE, &stored_id, data, Stamp::Now).map(|_| ()).map_err(ApiError::from))
            .await?;
        if let (Some(origin), Ok(mut origins)) = (&request.origin, self.origins.write()) {
            origins.insert(origin.clone());
        }
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "app_id": app_id,
            "principal": principal(app_id),
            "expires_at": expires_at,
            "scopes": request.scopes,
        }))
    }

    /// Forgets an app: its token stops working, its ACEs go, its origin leaves CORS.
    pub async fn revoke(&self, store: &Store, app_id: &str) -> Result<ConnectedApp, ApiError> {
        let id = app_id.to_owned();
        let app = store
            .write(move |tx| {
                let app = get_app(tx, &id)?.ok_or(ApiError::ObjectNotFound { id: id.clone(), resource_name: "app" })?;
                tx.remove_principal_aces(&app.principal)?;
                tx.delete(PARENT, RESOURCE, &id, Stamp::Now)?;
                Ok::<_, ApiError>(app)
            })
            .await?;
        let remaining = store.read(|tx| list_apps(tx)).await?;
        if let Ok(mut origins) = self.origins.write() {
            *origins = remaining.into_iter().filter_map(|a| a.origin).collect();
        }
        tracing::info!(app = %app.id, name = %app.name, "app revoked");
        Ok(app)
    }
}

/// The principal of an app.
pub fn principal(app_id: &str) -> String {
    format!("app:{app_id}")
}

/// Gives `app:<id>` its scopes, creating collections (and buckets) the app asked to create.
fn grant(tx: &mut dyn Tx, app_id: &str, scopes: &[Scope]) -> Result<(), ApiError> {
    let who = principal(app_id);
    for scope in scopes {
        let bucket_exists = tx.get("", "bucket", &scope.bucket)?.is_some_and(|o| !o.deleted);
        let bucket_uri = format!("/buckets/{}", scope.bucket);
        let collection_exists = tx.get(&bucket_uri, "collection", &scope.collection)?.is_some_and(|o| !o.deleted);
        let exists = bucket_exists && collection_exists;
        if !scope.create && !exists {
            return Err(ApiError::MissingParent { id: scope.collection_uri(), resource_name: "collection" });
        }
        if !bucket_exists {
            tx.put("", "bucket", &scope.bucket, Map::new(), Stamp::Now)?;
        }
        if !collection_exists {
            tx.put(&bucket_uri, "collection", &scope.collection, Map::new(), Stamp::Now)?;
        }
        let uri = scope.collection_uri();
        let mut acl: Acl = tx.acl(&uri)?;
        let permission = match scope.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        acl.entry(permission.to_owned()).or_default().insert(who.clone());
        tx.set_acl(&uri, &acl)?;
    }
    Ok(())
}

fn app_from(id: &str, data: &Map<String, Value>) -> ConnectedApp {
    ConnectedApp {
        id: id.to_owned(),
        principal: principal(id),
        name: data.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        origin: data.get("origin").and_then(Value::as_str).map(str::to_owned),
        scopes: data.get("scopes").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
        created_at: data.get("created_at").and_then(Value::as_i64).unwrap_or_default(),
        expires_at: data.get("expires_at").and_then(Value::as_i64),
    }
}

fn get_app(tx: &mut dyn Tx, id: &str) -> StorageResult<Option<ConnectedApp>> {
    Ok(tx.get(PARENT, RESOURCE, id)?.filter(|o| !o.deleted).map(|o| app_from(id, &o.data)))
}

/// Every approved app.
pub fn list_apps(tx: &mut dyn Tx) -> StorageResult<Vec<ConnectedApp>> {
    let objects = tx.list(PARENT, RESOURCE, &crate::storage::ListQuery::default())?;
    Ok(objects.into_iter().filter(|o| !o.deleted).map(|o| app_from(&o.id, &o.data)).collect())
}

/// Whether a request from `sent` (its `Origin` header) may use what `bound` asked for. Browsers
/// send `Origin` on every cross-origin request a script makes with an `Authorization` header, so
/// a web page always names itself; requests without one come from outside any web page (an
/// extension's own privileged pages omit it on GETs, native apps never send it) and pass.
fn origin_fits(bound: Option<&str>, sent: Option<&str>) -> bool {
    sent.is_none() || sent == bound
}

/// Why a bearer token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenCheck {
    /// Not an app token at all.
    NotApp,
    Valid(String),
    Refused(&'static str),
}

/// Checks an app token: known, not expired, and sent from the origin it is bound to.
pub async fn check_token(store: &Store, token: &str, origin: Option<&str>) -> TokenCheck {
    let Some(rest) = token.strip_prefix(TOKEN_PREFIX) else { return TokenCheck::NotApp };
    let Some((app_id, _)) = rest.split_once('_') else { return TokenCheck::Refused("Unknown or revoked token.") };
    let id = app_id.to_owned();
    let Ok(found) = store.read(move |tx| tx.get(PARENT, RESOURCE, &id)).await else {
        return TokenCheck::Refused("Unknown or revoked token.");
    };
    let Some(object) = found.filter(|o| !o.deleted) else { return TokenCheck::Refused("Unknown or revoked token.") };
    let expected = object.data.get("token_sha256").and_then(Value::as_str).unwrap_or_default();
    let actual = digest_hex(token);
    if !same_secret(expected, &actual) {
        return TokenCheck::Refused("Unknown or revoked token.");
    }
    if object.data.get("expires_at").and_then(Value::as_i64).is_some_and(|at| at <= now_ms()) {
        return TokenCheck::Refused("This token has expired.");
    }
    if !origin_fits(object.data.get("origin").and_then(Value::as_str), origin) {
        return TokenCheck::Refused("This token is bound to another origin.");
    }
    TokenCheck::Valid(principal(app_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The challenge computed independently (Python: urlsafe_b64encode(sha256(v)) without `=`).
    #[test]
    fn pkce_s256_challenge() {
        let challenge = "c4HeOHiGCIaLFLSX3oMhwR-_4GLnrX45Y4eKxhDhb1c";
        assert!(pkce_matches(challenge, "kintoun-pkce-test-verifier-0123456789"));
        assert!(!pkce_matches(challenge, "kintoun-pkce-test-verifier-0123456780"));
    }

    fn body(name: &str) -> ConnectBody {
        ConnectBody {
            name: name.into(),
            scopes: vec![Scope { bucket: "b".into(), collection: "c".into(), access: Access::Read, create: false }],
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            code_challenge_method: "S256".into(),
            token_ttl_seconds: None,
        }
    }

    #[test]
    fn requests_are_validated_and_limited_per_origin() {
        let registry = AppRegistry::default();
        assert!(registry.request(body(""), Some("chrome-extension://x")).is_err());
        let mut bad = body("ok");
        bad.code_challenge = "short".into();
        assert!(registry.request(bad, None).is_err());
        for _ in 0..MAX_PENDING_PER_ORIGIN {
            assert!(registry.request(body("ext"), Some("chrome-extension://x")).is_ok());
        }
        assert!(registry.request(body("ext"), Some("chrome-extension://x")).is_err());
        assert!(registry.request(body("other"), Some("moz-extension://y")).is_ok());
        assert_eq!(registry.pending().len(), MAX_PENDING_PER_ORIGIN + 1);
        let first = &registry.pending()[0];
        // Another origin cannot read the request's status.
        assert!(registry.status(&first.id, Some("https://evil.example")).is_err());
        assert!(registry.status(&first.id, first.origin.as_deref()).is_ok());
    }
}
