//! Service endpoints: hello (URL-HELLO), heartbeats, `__version__`, `contribute.json`.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::state::AppState;
use crate::settings::{PolicyKind, Settings};

/// The capabilities this server has, as hello lists them (URL-CAPABILITIES).
fn capabilities(settings: &Settings, origin: &str) -> Value {
    let mut caps = Map::new();
    if settings.auth_policies.iter().any(|p| p.kind == PolicyKind::BasicAuth) {
        caps.insert(
            "basicauth".into(),
            json!({
                "description": "Very basic authentication sessions. Not for production use.",
                "url": "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html",
            }),
        );
    }
    let plugins: [(&str, bool, Value); 6] = [
        (
            "schema",
            settings.experimental_collection_schema_validation,
            json!({
                "description": "Validates collection records with JSON schemas.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/collections.html#collection-json-schema",
            }),
        ),
        (
            "flush_endpoint",
            settings.includes("flush"),
            json!({
                "description": "The __flush__ endpoint can be used to remove all data from all backends.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/flush.html",
            }),
        ),
        (
            "permissions_endpoint",
            crate::plugins::permissions::enabled(settings),
            json!({
                "description": "The permissions endpoint can be used to list all user objects permissions.",
                "url": "https://kinto.readthedocs.io/en/latest/configuration/settings.html#activating-the-permissions-endpoint",
            }),
        ),
        (
            "default_bucket",
            settings.includes("default_bucket"),
            json!({
                "description": "The default bucket is an alias for a personal bucket where collections are created implicitly.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/buckets.html#personal-bucket-default",
            }),
        ),
        (
            "accounts",
            settings.includes("accounts") && settings.auth_policies.iter().any(|p| p.kind == PolicyKind::Account),
            json!({
                "description": "Manage user accounts.",
                "url": "https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html",
                "validation_enabled": false,
            }),
        ),
        (
            "history",
            settings.includes("history"),
            json!({
                "description": "Track changes on data.",
                "url": "http://kinto.readthedocs.io/en/latest/api/1.x/history.html",
            }),
        ),
    ];
    for (name, enabled, capability) in plugins {
        if enabled {
            caps.insert(name.into(), capability);
        }
    }
    if settings.includes("admin") {
        caps.insert("admin".into(), crate::plugins::admin::capability());
    }
    if crate::resource::attach::enabled(settings) {
        caps.insert("attachments".into(), crate::resource::attach::capability(settings, origin));
    }
    Value::Object(caps)
}

/// `GET /v1/`.
pub async fn hello(state: &AppState, request: &ApiRequest, user_id: Option<String>) -> Result<ApiResponse, ApiError> {
    let settings = &state.settings;
    let mut body = Map::new();
    body.insert("project_name".into(), json!(settings.project_name));
    body.insert("project_version".into(), json!(settings.project_version));
    body.insert("http_api_version".into(), json!(settings.http_api_version));
    body.insert("project_docs".into(), json!(settings.project_docs));
    body.insert("url".into(), json!(format!("{}/v1/", crate::http::dispatch::public_origin(state, request))));
    body.insert("config".into(), Value::Null);
    if let Some(eos) = &settings.eos {
        body.insert("eos".into(), json!(eos));
    }
    body.insert(
        "settings".into(),
        json!({
            "batch_max_requests": settings.batch_max_requests,
            "readonly": settings.readonly,
            "explicit_permissions": settings.explicit_permissions,
        }),
    );
    if let Some(user_id) = user_id {
        let lookup = user_id.clone();
        let principals = state.store.read(move |tx| crate::auth::principals(tx, Some(&lookup))).await?;
        let mut user = json!({"id": user_id, "principals": principals});
        if settings.includes("default_bucket") {
            user["bucket"] =
                json!(crate::plugins::default_bucket::bucket_id(&settings.default_bucket_hmac_secret, &user_id));
        }
        body.insert("user".into(), user);
    }
    body.insert("capabilities".into(), capabilities(settings, &request.origin_url));
    let mut response = ApiResponse::json(200, &Value::Object(body));
    if settings.readonly {
        let seconds = settings.root_cache_expires_seconds.max(0) as u64;
        response.set_header("cache-control", format!("max-age={seconds}"));
        let expires = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
        response.set_header("expires", httpdate::fmt_http_date(expires));
    }
    Ok(response)
}

/// `GET /v1/__heartbeat__`: 200 when storage answers, else 503 with the same body.
pub async fn heartbeat(state: &AppState) -> ApiResponse {
    let store = state.store.clone();
    let healthy = tokio::task::spawn_blocking(move || store.healthy()).await.unwrap_or(false);
    let mut body = json!({"storage": healthy, "permission": healthy, "cache": true});
    let mut all = healthy;
    if crate::resource::attach::enabled(&state.settings) && !state.settings.readonly {
        let config = crate::plugins::attachments::AttachmentConfig::from_settings(&state.settings);
        let files = crate::resource::attach::file_store(&state.settings, &config);
        let ok = tokio::task::spawn_blocking(move || files.check()).await.unwrap_or(false);
        body["attachments"] = json!(ok);
        all &= ok;
    }
    ApiResponse::json(if all { 200 } else { 503 }, &body)
}

/// `GET /v1/__lbheartbeat__`.
pub fn lbheartbeat() -> ApiResponse {
    ApiResponse::json(200, &json!({}))
}

/// `GET /v1/__version__`: always a document (Kinto answers 500 without a file).
pub fn version() -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({
            "name": "kintoun",
            "version": env!("CARGO_PKG_VERSION"),
            "source": "https://github.com/kintoun/kintoun",
            "commit": option_env!("KINTOUN_COMMIT").unwrap_or("unknown"),
        }),
    )
}

/// `GET /v1/contribute.json`.
pub fn contribute() -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({
            "name": "Kintoun",
            "description": "A Kinto-compatible JSON storage server for the desktop.",
            "repository": {"url": "https://github.com/kintoun/kintoun", "license": "Apache-2.0", "tests": ""},
            "participate": {"home": "https://github.com/kintoun/kintoun", "docs": "https://kinto.readthedocs.io/"},
            "bugs": {"list": "https://github.com/kintoun/kintoun/issues", "report": "https://github.com/kintoun/kintoun/issues/new"},
            "keywords": ["json", "storage", "sync", "kinto", "desktop"],
        }),
    )
}

/// `GET /v1/permissions` (PERM-ENDPOINT), guarded by `permissions_read_principals`.
pub async fn permissions(
    state: &AppState,
    request: &ApiRequest,
    user_id: Option<String>,
) -> Result<ApiResponse, ApiError> {
    let query = request.query_pairs();
    // Entries have no timestamps: `last_modified` filters and sorts are ignored (PERM-ENDPOINT).
    let usable: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "_since" | "_before" | "_to"))
        .filter(|(name, _)| name != "last_modified" && !name.ends_with("_last_modified"))
        .map(|(name, value)| match name.as_str() {
            "_sort" => {
                let keys: Vec<&str> =
                    value.split(',').filter(|k| k.trim().trim_start_matches(['-', '+']) != "last_modified").collect();
                (name.clone(), keys.join(","))
            }
            _ => (name.clone(), value.clone()),
        })
        .collect();
    let params = crate::resource::query::ListParams::parse_closed(&usable, Some(crate::plugins::permissions::FIELDS));
    let settings = state.settings.clone();
    let head = request.method == http::Method::HEAD;
    let url = format!("{}/v1/permissions", request.origin_url);
    state
        .store
        .read(move |tx| {
            let principals = crate::auth::principals(tx, user_id.as_deref())?;
            if !crate::auth::permission::allowed_at_root(&settings, &principals, "permissions:read") {
                return Err(crate::auth::deny(&settings, user_id.as_deref()));
            }
            let params = params?;
            let response = crate::plugins::permissions::list(tx, &settings, &principals, &params, head, &url, &query)?;
            Ok(response.with_header("cache-control", "no-cache, no-store"))
        })
        .await
}

/// `GET /v1/buckets/{bid}/snapshot/collections/{cid}@{ts}` (HIST-SNAPSHOT), for readers of the
/// collection.
pub async fn snapshot(
    state: &AppState,
    user_id: Option<String>,
    bucket: String,
    collection: String,
    at: &str,
) -> Result<ApiResponse, ApiError> {
    let timestamp = at.parse::<i64>().ok().filter(|ts| *ts >= 0).ok_or_else(|| {
        ApiError::invalid(crate::error::Location::Path, Some("timestamp"), format!("Invalid timestamp '{at}'"))
    })?;
    let settings = state.settings.clone();
    state
        .store
        .read(move |tx| {
            let principals = crate::auth::principals(tx, user_id.as_deref())?;
            let place = crate::resource::kind::Place::object(
                crate::resource::kind::Kind::Collection,
                vec![bucket.clone()],
                collection.clone(),
            );
            if !crate::auth::permission::allowed(tx, &settings, &principals, &place, "read")? {
                return Err(crate::auth::deny(&settings, user_id.as_deref()));
            }
            let records = crate::plugins::history::snapshot(tx, &bucket, &collection, timestamp)?;
            Ok(ApiResponse::json(200, &json!({"data": records})))
        })
        .await
}

/// The counters now, with object counts read from the storage.
pub async fn stats_snapshot(state: &AppState) -> crate::stats::StatsSnapshot {
    let counts = state.store.read(|tx| tx.object_counts()).await.unwrap_or_default();
    let mut objects = crate::stats::ObjectCounts::default();
    for (kind, n) in counts {
        match kind.as_str() {
            "bucket" => objects.buckets = n,
            "collection" => objects.collections = n,
            "group" => objects.groups = n,
            "record" => objects.records = n,
            "account" => objects.accounts = n,
            _ => {}
        }
    }
    state.stats.snapshot(objects)
}

/// Refuses callers who are not among `admin_principals` (401 anonymous, 403 others).
pub async fn require_admin(state: &AppState, user_id: Option<String>) -> Result<(), ApiError> {
    let Some(user) = user_id else { return Err(crate::auth::deny(&state.settings, None)) };
    let admins = state.settings.admin_principals.clone();
    let allowed = state
        .store
        .read(move |tx| {
            let principals = crate::auth::principals(tx, Some(&user))?;
            Ok::<_, ApiError>(principals.iter().any(|p| admins.contains(p)))
        })
        .await?;
    if allowed { Ok(()) } else { Err(ApiError::Forbidden) }
}

/// `GET /v1/__stats__`: live figures, for `admin_principals` only.
pub async fn stats(state: &AppState, user_id: Option<String>) -> Result<ApiResponse, ApiError> {
    require_admin(state, user_id).await?;
    let snapshot = stats_snapshot(state).await;
    let body = serde_json::to_value(&snapshot).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(ApiResponse::json(200, &body))
}
