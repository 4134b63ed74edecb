//! The request pipeline: version prefix and trailing-slash redirects, routing, 404/405,
//! CORS, readonly mode, Content-Type/Accept checks, then the endpoint; every response gets the
//! common headers (GEN-RESP-HEADERS, CORS-EXPOSE, ERR-BACKOFF, ERR-ALERT-EOL).

use std::sync::Arc;

use http::Method;

use crate::auth;
use crate::error::ApiError;
use crate::http::cors;
use crate::http::guards;
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::routes::{Route, match_route};
use crate::http::service;
use crate::http::state::AppState;
use crate::plugins::attachments::SERVE_PREFIX;
use crate::plugins::default_bucket;
use crate::resource::attach::{self, AttachmentOp};
use crate::resource::body::BodyInput;
use crate::resource::kind::Kind;
use crate::resource::params::Preconditions;
use crate::resource::patch::{Behavior, PatchFormat};
use crate::resource::query::ListParams;
use crate::resource::{self, Call};

const JSON_TYPES: &[&str] = &["application/json"];
const PATCH_TYPES: &[&str] = &["application/json", "application/json-patch+json", "application/merge-patch+json"];

/// Runs a request through the whole pipeline: the response, and for an event stream its body
/// (the response then holds the head only).
pub async fn dispatch(state: &AppState, request: ApiRequest) -> (ApiResponse, Option<axum::body::Body>) {
    let (mut response, stream) = match route_request(state, &request).await {
        Ok(answered) => answered,
        Err(err) => {
            (ApiResponse::from_error(&err, &state.settings.error_info_link, state.settings.retry_after_seconds), None)
        }
    };
    finish(state, &request, &mut response);
    (response, stream)
}

/// Kinto's error response with the common headers, for failures before dispatching.
pub fn error_response(state: &AppState, request: &ApiRequest, err: &ApiError) -> ApiResponse {
    let mut response =
        ApiResponse::from_error(err, &state.settings.error_info_link, state.settings.retry_after_seconds);
    finish(state, request, &mut response);
    response
}

/// Origins allowed besides `cors_origins`: the server's own (the admin UI it serves), those of
/// approved apps, and any origin on the connect endpoints (the owner's consent decides there).
fn origin_also_allowed(state: &AppState, request: &ApiRequest, origin: &str) -> bool {
    origin == request.origin_url
        || state.apps.origin_approved(origin)
        || request.path == "/v1/connect"
        || request.path.starts_with("/v1/connect/")
}

/// Adds the headers every response carries.
pub fn finish(state: &AppState, request: &ApiRequest, response: &mut ApiResponse) {
    let settings = &state.settings;
    response.set_header("x-content-type-options", "nosniff");
    if !response.headers.contains_key("content-security-policy") {
        response.set_header("content-security-policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; ");
    }
    response.set_header("access-control-expose-headers", cors::EXPOSED_HEADERS);
    if let Some(origin) = request.header("origin") {
        if let Ok(allowed) = cors::allow_origin(settings, origin, origin_also_allowed(state, request, origin)) {
            response.set_header("access-control-allow-origin", allowed);
        }
    }
    if let Some(seconds) = guards::backoff(settings) {
        response.set_header("backoff", seconds.to_string());
    }
    if let Some(hard) = guards::end_of_service(settings) {
        response.set_header("alert", guards::eos_alert(settings, hard));
    }
    if request.method == Method::HEAD {
        response.body = bytes::Bytes::new();
    }
}

/// A redirect to an absolute URL, with the configured cache lifetime (`ttl` < 0: none), and
/// the short text body Kinto's web framework writes (HTML when the client prefers it).
fn redirect(location: String, ttl: i64, accept: Option<&str>) -> ApiResponse {
    let target = location.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])).unwrap_or("/");
    let message = format!("The resource has been moved to {target}; you should be redirected automatically.");
    let (content_type, body) = if accept.is_some_and(|a| a.contains("text/html")) {
        (
            "text/html; charset=UTF-8",
            format!(
                "<html>\n <head>\n  <title>307 Temporary Redirect</title>\n </head>\n <body>\n  \
                 <h1>307 Temporary Redirect</h1>\n  {message}\n\n\n </body>\n</html>"
            ),
        )
    } else {
        ("text/plain; charset=UTF-8", format!("307 Temporary Redirect\n\n{message}\n\n"))
    };
    let mut response = ApiResponse::empty(307).with_header("location", location);
    response.set_header("content-type", content_type);
    response.body = bytes::Bytes::from(body);
    if ttl > 0 {
        response.set_header("cache-control", format!("max-age={ttl}"));
        let expires = std::time::SystemTime::now() + std::time::Duration::from_secs(ttl as u64);
        response.set_header("expires", httpdate::fmt_http_date(expires));
    } else if ttl == 0 {
        response.set_header("cache-control", "no-cache");
    }
    response
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

/// The media type of a header value, without parameters, lower-cased.
fn media_type(value: &str) -> String {
    value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Whether an `Accept` header admits JSON.
fn accepts_json(accept: &str) -> bool {
    accept
        .split(',')
        .map(media_type)
        .any(|range| matches!(range.as_str(), "*/*" | "application/*" | "application/json"))
}

/// What a request turns into once the common checks passed.
pub enum Prepared {
    /// Answered already (redirects, preflights, static endpoints).
    Done(ApiResponse),
    /// A service endpoint that needs the state.
    Service(Route, Option<String>),
    /// A call on a resource, run in a storage job.
    Resource(Box<Call>),
    /// `POST /v1/batch`.
    Batch,
}

/// The DNS-rebinding guard; a peer the listener authenticated itself (mutual TLS on the LAN)
/// reaches us by a LAN address and is exempt.
fn check_host(settings: &crate::settings::Settings, request: &ApiRequest) -> Result<(), ApiError> {
    match request.transport_identity {
        Some(_) => Ok(()),
        None => guards::check_host(settings, request.header("host")),
    }
}

/// Answers a request (an event stream comes with its body).
async fn route_request(
    state: &AppState,
    request: &ApiRequest,
) -> Result<(ApiResponse, Option<axum::body::Body>), ApiError> {
    if state.settings.includes("admin") && crate::plugins::admin::handles(&request.path) {
        check_host(&state.settings, request)?;
        return crate::plugins::admin::serve(request, &public_origin(state, request)).map(|r| (r, None));
    }
    if let Some(location) = request.path.strip_prefix(SERVE_PREFIX) {
        if attach::enabled(&state.settings) && matches!(request.method, Method::GET | Method::HEAD) {
            check_host(&state.settings, request)?;
            let config = crate::plugins::attachments::AttachmentConfig::from_settings(&state.settings);
            let store = attach::file_store(&state.settings, &config);
            return Ok((crate::plugins::attachments::serve_file(&store, location).await, None));
        }
    }
    match prepare(state, request).await? {
        Prepared::Service(Route::Events(scope), user_id) => {
            crate::http::events::open(state, request, &scope, user_id).await.map(|(head, body)| (head, Some(body)))
        }
        prepared => answer(state, request, prepared).await.map(|response| (response, None)),
    }
}

/// Answers a prepared request.
async fn answer(state: &AppState, request: &ApiRequest, prepared: Prepared) -> Result<ApiResponse, ApiError> {
    match prepared {
        Prepared::Done(response) => Ok(response),
        Prepared::Service(route, user_id) => service_response(state, request, &route, user_id).await,
        Prepared::Resource(call) if call.attachment.is_some() => {
            crate::http::attachment::run(state, request, *call).await
        }
        Prepared::Resource(call) => run_call(state, *call).await,
        Prepared::Batch => crate::http::batch::run(state, request).await,
    }
}

/// Answers a service endpoint.
pub async fn service_response(
    state: &AppState,
    request: &ApiRequest,
    route: &Route,
    user_id: Option<String>,
) -> Result<ApiResponse, ApiError> {
    match route {
        Route::Hello => service::hello(state, request, user_id).await,
        Route::Heartbeat => Ok(service::heartbeat(state).await),
        Route::LbHeartbeat => Ok(service::lbheartbeat()),
        Route::Version => Ok(service::version()),
        Route::Contribute => Ok(service::contribute()),
        Route::OpenApi => {
            let host = request.origin_url.split_once("://").map_or("", |(_, host)| host);
            Ok(ApiResponse::json(200, &crate::http::openapi::document(&state.settings, host)))
        }
        Route::Permissions => service::permissions(state, request, user_id).await,
        Route::Stats => service::stats(state, user_id).await,
        Route::Connect
        | Route::ConnectRequest(_)
        | Route::ConnectToken(_)
        | Route::Apps
        | Route::AppRequest(_)
        | Route::App(_) => crate::http::connect::answer(state, request, route, user_id).await,
        Route::Snapshot { bucket, collection, at } => {
            service::snapshot(state, user_id, bucket.clone(), collection.clone(), at).await
        }
        Route::Flush => {
            state.store.write(|tx| tx.flush().map_err(ApiError::from)).await?;
            tracing::warn!("storage flushed (POST /__flush__)");
            Ok(ApiResponse::json(202, &serde_json::json!({})))
        }
        Route::Events(_) => Err(ApiError::BadRequest("Event streams cannot be read in a batch.".into())),
        Route::Extension(_) => crate::http::extension::forward(state, request).await,
        Route::Batch | Route::Resource(_) | Route::Attachment(_) => {
            Err(ApiError::Internal("not a service endpoint".into()))
        }
    }
}

/// The checks every request goes through, in Kinto's order: end of service, Host, version
/// prefix, routing, preflight, Origin, method, readonly, Content-Type, Accept; then
/// authentication and the typed call.
pub async fn prepare(state: &AppState, request: &ApiRequest) -> Result<Prepared, ApiError> {
    let settings = &state.settings;
    if guards::end_of_service(settings) == Some(true) {
        return Err(ApiError::Gone);
    }
    check_host(settings, request)?;

    // Version prefix (URL-VERSION-REDIRECT, URL-VERSION-404).
    let path = request.path.as_str();
    let Some(after_v) = path.strip_prefix("/v") else {
        return version_redirect(state, request).map(Prepared::Done);
    };
    let digits = after_v.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !(after_v.len() == digits || after_v[digits..].starts_with('/')) {
        return version_redirect(state, request).map(Prepared::Done);
    }
    if &after_v[..digits] != "1" {
        return Err(ApiError::VersionNotAvailable);
    }
    let rest = &after_v[digits..];
    if rest.is_empty() {
        let target = format!("{}/v1/", public_origin(state, request));
        return Ok(Prepared::Done(redirect(
            with_query(&target, &request.query),
            settings.trailing_slash_redirect_ttl_seconds,
            request.header("accept"),
        )));
    }

    let Some(route) = match_route(rest)? else {
        if settings.trailing_slash_redirect_enabled && rest.len() > 1 && rest.ends_with('/') {
            let target = format!("{}/v1{}", public_origin(state, request), rest.trim_end_matches('/'));
            return Ok(Prepared::Done(redirect(
                with_query(&target, &request.query),
                settings.trailing_slash_redirect_ttl_seconds,
                request.header("accept"),
            )));
        }
        return Err(ApiError::UnknownRoute);
    };

    let plugin_off = |kind: Kind, plugin: &str| {
        matches!(&route, Route::Resource(place) if place.kind == kind) && !settings.includes(plugin)
    };
    let permissions_off = (route == Route::Permissions && !crate::plugins::permissions::enabled(settings))
        || (route == Route::Flush && !settings.includes("flush"))
        || (matches!(route, Route::Snapshot { .. }) && !settings.includes("history"))
        || (matches!(route, Route::Attachment(_)) && !attach::enabled(settings))
        || (route.is_connect_flow() && crate::plugins::owner::owner_account(settings).is_none());
    if permissions_off || plugin_off(Kind::Account, "accounts") || plugin_off(Kind::History, "history") {
        return Err(ApiError::UnknownRoute);
    }

    if request.method == Method::OPTIONS {
        let also = request.header("origin").is_some_and(|origin| origin_also_allowed(state, request, origin));
        return cors::preflight(settings, request, &route, also).map(Prepared::Done);
    }
    if let Some(origin) = request.header("origin") {
        cors::allow_origin(settings, origin, origin_also_allowed(state, request, origin))?;
    }
    if !route.methods().contains(&request.method) || !endpoint_enabled(state, &route, &request.method) {
        return Err(ApiError::MethodNotAllowed { allow: route.allow_header(", ") });
    }
    if settings.readonly && resource::writes(&request.method) {
        return Err(ApiError::MethodNotAllowed { allow: route.allow_header(", ") });
    }
    let multipart = matches!(route, Route::Attachment(_));
    if matches!(request.method, Method::POST | Method::PUT | Method::PATCH) && !multipart {
        let allowed = if request.method == Method::PATCH { PATCH_TYPES } else { JSON_TYPES };
        if let Some(content_type) = request.header("content-type") {
            if !allowed.contains(&media_type(content_type).as_str()) {
                return Err(ApiError::UnsupportedMediaType { allowed });
            }
        }
    }
    if let (Route::Resource(_), Some(accept)) = (&route, request.header("accept")) {
        if !accepts_json(accept) {
            return Err(ApiError::NotAcceptable);
        }
    }

    if percent_encoding::percent_decode_str(&request.query.replace('+', " ")).decode_utf8().is_err() {
        return Err(ApiError::BadRequest(format!(
            "A request with an incorrect encoding in the querystring wasreceived. Please make sure your requests \
             are encoded in UTF-8: {}",
            request.query
        )));
    }
    let anonymous_write = resource::writes(&request.method)
        && request.transport_identity.is_none()
        && request.header("authorization").is_none()
        && !matches!(route, Route::Connect | Route::ConnectToken(_));
    if settings.writes_require_authorization && anonymous_write {
        return Err(auth::deny(settings, None));
    }
    let presented = auth::Presented { headers: &request.headers, transport: request.transport_identity.as_deref() };
    let user_id = auth::authenticate(
        presented,
        settings,
        &state.userid_secret,
        &state.store,
        &state.verified_accounts,
        &state.sessions,
    )
    .await?;
    let (mut place, attachment) = match route {
        Route::Batch => return Ok(Prepared::Batch),
        Route::Resource(place) => (place, None),
        Route::Attachment(place) => {
            let op = if request.method == Method::DELETE { AttachmentOp::Remove } else { AttachmentOp::Authorize };
            (place, Some(op))
        }
        other => return Ok(Prepared::Service(other, user_id)),
    };
    let mut body = if attachment.is_some() {
        BodyInput::parse(b"")
    } else if matches!(request.method, Method::POST | Method::PUT | Method::PATCH) {
        BodyInput::parse(&request.body)
    } else {
        BodyInput::parse(b"")
    };
    let mut path = rest.to_owned();
    let mut implicit = None;
    if settings.includes("default_bucket") && default_bucket::addresses_default(&place) {
        let Some(user) = &user_id else { return Err(auth::deny(settings, None)) };
        if settings.readonly {
            return Err(ApiError::MethodNotAllowed { allow: Route::Resource(place).allow_header(", ") });
        }
        let real = default_bucket::bucket_id(&settings.default_bucket_hmac_secret, user);
        implicit = Some(default_bucket::rewrite(&mut place, &real, request.method == Method::PUT)?);
        if let BodyInput::Json(value) = &mut body {
            default_bucket::rewrite_body_id(value, &real);
        }
        path = path.replacen("/buckets/default", &format!("/buckets/{real}"), 1);
    }
    let query = request.query_pairs();
    Ok(Prepared::Resource(Box::new(Call {
        method: request.method.clone(),
        head: request.method == Method::HEAD,
        patch_format: PatchFormat::from_content_type(request.header("content-type")),
        behavior: Behavior::parse(request.header("response-behavior")),
        body,
        preconditions: Preconditions::parse(&request.headers),
        params: match (&place.id, place.kind) {
            (Some(_), _) => ListParams::parse_for_object(&query),
            (None, Kind::History) => ListParams::parse_closed(&query, Some(crate::plugins::history::FIELDS)),
            (None, _) => ListParams::parse(&query),
        },
        user_id,
        url: format!("{}/v1{}", public_origin(state, request), path),
        query,
        place,
        implicit,
        attachment,
    })))
}

/// `{plural|object}_{kind}_{method}_enabled = false` removes a method (URL-ENDPOINT-TOGGLE).
fn endpoint_enabled(state: &AppState, route: &Route, method: &Method) -> bool {
    let Route::Resource(place) = route else { return true };
    let scope = if place.id.is_some() { "object" } else { "plural" };
    let key = format!("{scope}_{}_{}_enabled", place.kind.name(), method.as_str().to_ascii_lowercase());
    state.settings.extra_bool(&key, true)
}

/// `http_scheme`/`http_host` override what the client used, for absolute URLs.
pub fn public_origin(state: &AppState, request: &ApiRequest) -> String {
    let settings = &state.settings;
    match (&settings.http_scheme, &settings.http_host) {
        (None, None) => request.origin_url.clone(),
        (scheme, host) => {
            let (default_scheme, default_host) = request.origin_url.split_once("://").unwrap_or(("http", ""));
            format!("{}://{}", scheme.as_deref().unwrap_or(default_scheme), host.as_deref().unwrap_or(default_host))
        }
    }
}

/// Paths outside `/vN`: redirect under `/v1`, or a bare 200 for preflights.
fn version_redirect(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    if request.method == Method::OPTIONS {
        return Ok(ApiResponse::empty(200).with_header("content-type", "text/html; charset=UTF-8"));
    }
    if !state.settings.version_prefix_redirect_enabled {
        return Err(ApiError::UnknownRoute);
    }
    let target = format!("{}/v1{}", public_origin(state, request), request.path);
    Ok(redirect(
        with_query(&target, &request.query),
        state.settings.version_prefix_redirect_ttl_seconds,
        request.header("accept"),
    ))
}

/// Accounts: a password sent in `data` is stored as its bcrypt hash (hashed here, off the
/// writer thread). JSON-Patch bodies are stored as sent, as in Kinto.
pub async fn hash_account_password(call: &mut Call) -> Result<(), ApiError> {
    let writes_data = matches!(call.method, Method::PUT | Method::POST | Method::PATCH);
    if call.place.kind != Kind::Account || !writes_data || call.patch_format == PatchFormat::JsonPatch {
        return Ok(());
    }
    let BodyInput::Json(body) = &mut call.body else { return Ok(()) };
    let Some(password) = body.get_mut("data").and_then(|d| d.get_mut("password")) else { return Ok(()) };
    if let serde_json::Value::String(plain) = password {
        *password = serde_json::Value::String(crate::plugins::accounts::hash_password(plain.clone()).await?);
    }
    Ok(())
}

/// Runs a resource call: reads on a snapshot (replayed on the writer if they must write),
/// writes on the writer thread.
pub async fn run_call(state: &AppState, mut call: Call) -> Result<ApiResponse, ApiError> {
    hash_account_password(&mut call).await?;
    let call = Arc::new(call);
    let settings = state.settings.clone();
    if !resource::writes(&call.method) && call.attachment.is_none() {
        let (read_call, read_settings) = (call.clone(), settings.clone());
        match state.store.read(move |tx| resource::execute(tx, &read_settings, &read_call)).await {
            Err(ApiError::NeedsWrite) => {}
            other => return other,
        }
    }
    let (response, orphans) = state.store.write(move |tx| resource::execute_with_effects(tx, &settings, &call)).await?;
    remove_orphans(state, orphans).await;
    Ok(response)
}

/// Removes attachment files that committed changes left unused (see `resource::attach`).
pub async fn remove_orphans(state: &AppState, orphans: Vec<String>) {
    if orphans.is_empty() {
        return;
    }
    let settings = state.settings.clone();
    let result = state.store.write(move |tx| attach::collect_orphans(tx, &settings, &orphans)).await;
    if let Err(err) = result {
        tracing::warn!(%err, "could not collect unused attachment files");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers() {
        assert!(accepts_json("application/json"));
        assert!(accepts_json("text/html, */*;q=0.1"));
        assert!(accepts_json("application/*"));
        assert!(!accepts_json("text/html"));
    }

    #[test]
    fn media_types_ignore_parameters() {
        assert_eq!(media_type("Application/JSON; charset=utf-8"), "application/json");
    }
}
