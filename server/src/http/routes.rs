//! The route table (URL-ENDPOINTS): which path under `/v1` is which endpoint, and the methods
//! each one allows.

use http::Method;
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::http::events::follow::Scope;
use crate::resource::kind::{Kind, Place};

/// An endpoint under `/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Hello,
    Heartbeat,
    LbHeartbeat,
    Version,
    Contribute,
    OpenApi,
    Batch,
    Permissions,
    Flush,
    /// `/__stats__`: live figures for the owner (Kintoun).
    Stats,
    /// `/connect`: an app asks for access (Kintoun's connect flow).
    Connect,
    /// `/connect/{id}`: the app polls its request.
    ConnectRequest(String),
    /// `/connect/{id}/token`: the app trades its code and PKCE verifier for a token.
    ConnectToken(String),
    /// `/__apps__`: pending requests and connected apps, for the owner.
    Apps,
    /// `/__apps__/requests/{id}`: the owner approves or denies a request.
    AppRequest(String),
    /// `/__apps__/{id}`: the owner revokes an app.
    App(String),
    /// `/buckets/{bid}/snapshot/collections/{cid}@{ts}` (history plugin).
    Snapshot {
        bucket: String,
        collection: String,
        at: String,
    },
    Resource(Place),
    /// `.../records/{rid}/attachment` (kinto-attachment); the place is the record.
    Attachment(Place),
    /// `/buckets/{bid}/events`, `/buckets/{bid}/collections/{cid}/events`: live changes (Kintoun).
    Events(Scope),
    /// An endpoint of a layer with its own axum router (`/__devices__/...`, the device layer),
    /// reached after the common checks (CORS, Host, methods, Content-Type) through
    /// `AppState::extensions`; it authorises the caller itself.
    Extension(&'static [Method]),
}

const PLURAL_METHODS: &[Method] = &[Method::HEAD, Method::GET, Method::POST, Method::DELETE];
const OBJECT_METHODS: &[Method] = &[Method::GET, Method::HEAD, Method::PUT, Method::PATCH, Method::DELETE];
const READ_METHODS: &[Method] = &[Method::GET, Method::HEAD];
const BATCH_METHODS: &[Method] = &[Method::POST];
const HISTORY_METHODS: &[Method] = &[Method::HEAD, Method::GET, Method::DELETE];
const ATTACHMENT_METHODS: &[Method] = &[Method::POST, Method::DELETE];
const DELETE_METHODS: &[Method] = &[Method::DELETE];
const STREAM_METHODS: &[Method] = &[Method::GET];
const SETTINGS_METHODS: &[Method] = &[Method::GET, Method::HEAD, Method::PATCH];
const SHARE_METHODS: &[Method] = &[Method::PUT, Method::DELETE];
const SYNC_LINKS_METHODS: &[Method] = &[Method::GET, Method::HEAD, Method::POST];
const SYNC_LINK_METHODS: &[Method] = &[Method::GET, Method::HEAD, Method::DELETE];

impl Route {
    /// The methods this endpoint answers (OPTIONS aside).
    pub fn methods(&self) -> &'static [Method] {
        match self {
            Route::Resource(place) if place.kind == Kind::History => HISTORY_METHODS,
            Route::Resource(place) if place.id.is_none() => PLURAL_METHODS,
            Route::Resource(_) => OBJECT_METHODS,
            Route::Batch | Route::Flush | Route::Connect | Route::ConnectToken(_) | Route::AppRequest(_) => {
                BATCH_METHODS
            }
            Route::App(_) => DELETE_METHODS,
            Route::Events(_) => STREAM_METHODS,
            Route::Attachment(_) => ATTACHMENT_METHODS,
            Route::Extension(methods) => methods,
            _ => READ_METHODS,
        }
    }

    /// The connect flow's endpoints: there only when an owner can approve.
    pub fn is_connect_flow(&self) -> bool {
        matches!(
            self,
            Route::Connect
                | Route::ConnectRequest(_)
                | Route::ConnectToken(_)
                | Route::Apps
                | Route::AppRequest(_)
                | Route::App(_)
        )
    }

    /// The `Allow` header value, e.g. `GET, HEAD, PUT, PATCH, DELETE, OPTIONS`.
    pub fn allow_header(&self, separator: &str) -> String {
        let mut names: Vec<&str> = self.methods().iter().map(Method::as_str).collect();
        names.push("OPTIONS");
        names.join(separator)
    }
}

/// Decodes one path segment; `None` when it is not UTF-8 once decoded.
fn decode(segment: &str) -> Option<String> {
    percent_decode_str(segment).decode_utf8().ok().map(|s| s.into_owned())
}

/// Matches the path after `/v1` (`""`, `/`, `/buckets/b1`...). `Ok(None)`: no route.
pub fn match_route(path: &str) -> Result<Option<Route>, ApiError> {
    let route = match path {
        "/" => Some(Route::Hello),
        "/__heartbeat__" => Some(Route::Heartbeat),
        "/__lbheartbeat__" => Some(Route::LbHeartbeat),
        "/__version__" => Some(Route::Version),
        "/contribute.json" => Some(Route::Contribute),
        "/__api__" => Some(Route::OpenApi),
        "/batch" => Some(Route::Batch),
        "/permissions" => Some(Route::Permissions),
        "/__flush__" => Some(Route::Flush),
        "/__stats__" => Some(Route::Stats),
        _ => None,
    };
    if route.is_some() {
        return Ok(route);
    }
    let Some(rest) = path.strip_prefix('/') else { return Ok(None) };
    let raw: Vec<&str> = rest.split('/').collect();
    if raw.iter().any(|s| s.is_empty()) {
        return Ok(None);
    }
    let mut segments = Vec::with_capacity(raw.len());
    for segment in raw {
        segments.push(decode(segment).ok_or_else(|| ApiError::BadRequest("Invalid URL path.".into()))?);
    }
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let place = match s.as_slice() {
        ["buckets"] => Place::list(Kind::Bucket, vec![]),
        ["accounts"] => Place::list(Kind::Account, vec![]),
        ["accounts", a] => Place::object(Kind::Account, vec![], a.to_string()),
        ["buckets", b] => Place::object(Kind::Bucket, vec![], b.to_string()),
        ["buckets", b, "collections"] => Place::list(Kind::Collection, vec![b.to_string()]),
        ["buckets", b, "collections", c] => Place::object(Kind::Collection, vec![b.to_string()], c.to_string()),
        ["buckets", b, "groups"] => Place::list(Kind::Group, vec![b.to_string()]),
        ["buckets", b, "history"] => Place::list(Kind::History, vec![b.to_string()]),
        ["connect"] => return Ok(Some(Route::Connect)),
        ["connect", id] => return Ok(Some(Route::ConnectRequest(id.to_string()))),
        ["connect", id, "token"] => return Ok(Some(Route::ConnectToken(id.to_string()))),
        ["__apps__"] => return Ok(Some(Route::Apps)),
        ["__apps__", "requests", id] => return Ok(Some(Route::AppRequest(id.to_string()))),
        ["__apps__", id] => return Ok(Some(Route::App(id.to_string()))),
        ["__devices__", rest @ ..] => return Ok(devices_route(rest)),
        ["__sync__", rest @ ..] => return Ok(sync_route(rest)),
        ["buckets", b, "snapshot", "collections", at] => {
            let (collection, at) = at.rsplit_once('@').unwrap_or((at, ""));
            return Ok(Some(Route::Snapshot {
                bucket: b.to_string(),
                collection: collection.to_owned(),
                at: at.to_owned(),
            }));
        }
        ["buckets", b, "events"] => return Ok(Some(Route::Events(Scope::Bucket { bucket: b.to_string() }))),
        ["buckets", b, "collections", c, "events"] => {
            return Ok(Some(Route::Events(Scope::Collection { bucket: b.to_string(), collection: c.to_string() })));
        }
        ["buckets", b, "groups", g] => Place::object(Kind::Group, vec![b.to_string()], g.to_string()),
        ["buckets", b, "collections", c, "records"] => Place::list(Kind::Record, vec![b.to_string(), c.to_string()]),
        ["buckets", b, "collections", c, "records", r] => {
            Place::object(Kind::Record, vec![b.to_string(), c.to_string()], r.to_string())
        }
        ["buckets", b, "collections", c, "records", r, "attachment"] => {
            return Ok(Some(Route::Attachment(Place::object(
                Kind::Record,
                vec![b.to_string(), c.to_string()],
                r.to_string(),
            ))));
        }
        _ => return Ok(None),
    };
    Ok(Some(Route::Resource(place)))
}

/// The device layer's owner endpoints (`crate::sharing::admin`) and their methods.
fn devices_route(rest: &[&str]) -> Option<Route> {
    let methods = match rest {
        [] | ["events"] | ["pairing", "qr.svg"] | ["shared"] | ["shared-with-me"] | [_, "shares"] => READ_METHODS,
        [_, "shares", _, _] => SHARE_METHODS,
        ["pairing"] => PLURAL_METHODS,
        ["join"] | ["notices"] | [_, "confirm"] => BATCH_METHODS,
        ["settings"] => SETTINGS_METHODS,
        [_] => DELETE_METHODS,
        _ => return None,
    };
    Some(Route::Extension(methods))
}

/// The replicator's owner endpoints (`crate::sync::admin`) and their methods.
fn sync_route(rest: &[&str]) -> Option<Route> {
    let methods = match rest {
        ["links"] => SYNC_LINKS_METHODS,
        ["links", _] => SYNC_LINK_METHODS,
        ["links", _, "sync"] | ["links", _, "conflicts", _] => BATCH_METHODS,
        ["links", _, "conflicts"] => READ_METHODS,
        _ => return None,
    };
    Some(Route::Extension(methods))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_resources_and_decodes_ids() -> Result<(), ApiError> {
        assert_eq!(match_route("/")?, Some(Route::Hello));
        assert_eq!(
            match_route("/buckets/b%201/collections/c/records")?,
            Some(Route::Resource(Place::list(Kind::Record, vec!["b 1".into(), "c".into()])))
        );
        assert_eq!(match_route("/buckets/b/")?, None);
        assert_eq!(
            match_route("/buckets/b/collections/c/events")?,
            Some(Route::Events(Scope::Collection { bucket: "b".into(), collection: "c".into() }))
        );
        assert_eq!(match_route("/buckets/b/events")?, Some(Route::Events(Scope::Bucket { bucket: "b".into() })));
        // A collection may be called `events`.
        assert_eq!(
            match_route("/buckets/b/collections/events")?,
            Some(Route::Resource(Place::object(Kind::Collection, vec!["b".into()], "events".into())))
        );
        assert_eq!(match_route("/nothing")?, None);
        assert_eq!(match_route("/__devices__/settings")?, Some(Route::Extension(SETTINGS_METHODS)));
        assert_eq!(match_route("/__devices__/ABC/confirm")?, Some(Route::Extension(BATCH_METHODS)));
        assert_eq!(match_route("/__devices__/ABC/nothing")?, None);
        assert_eq!(match_route("/__sync__/links/abc/conflicts/r1")?, Some(Route::Extension(BATCH_METHODS)));
        assert_eq!(match_route("/__sync__/links/abc/nothing")?, None);
        assert!(match_route("/buckets/%FF").is_err());
        Ok(())
    }

    #[test]
    fn allow_headers_list_the_route_methods() -> Result<(), ApiError> {
        let plural = match_route("/buckets")?.expect("route");
        assert_eq!(plural.allow_header(", "), "HEAD, GET, POST, DELETE, OPTIONS");
        let object = match_route("/buckets/b")?.expect("route");
        assert_eq!(object.allow_header(", "), "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
        Ok(())
    }
}
