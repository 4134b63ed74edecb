//! `GET /v1/__api__` (URL-OPENAPI): a Swagger 2.0 description of the routes this server
//! really has, given its settings (plugins switched off are left out).

use serde_json::{Map, Value, json};

use crate::resource::attach;
use crate::settings::{PolicyKind, Settings};

/// One documented operation.
fn operation(summary: &str, tag: &str, responses: &[u16]) -> Value {
    let responses: Map<String, Value> = responses
        .iter()
        .map(|code| (code.to_string(), json!({"description": crate::error::reason_phrase(*code)})))
        .collect();
    json!({"summary": summary, "tags": [tag], "produces": ["application/json"], "responses": responses})
}

fn path_parameter(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "type": "string"})
}

/// The plural and object paths of one kind.
fn resource_paths(paths: &mut Map<String, Value>, plural: &str, object: &str, tag: &str, ids: &[&str]) {
    let parameters: Vec<Value> = ids.iter().map(|id| path_parameter(id)).collect();
    let (list_ids, object_ids) = (&parameters[..parameters.len() - 1], &parameters[..]);
    paths.insert(
        plural.to_owned(),
        json!({
            "parameters": list_ids,
            "get": operation(&format!("List {tag}"), tag, &[200, 304, 400, 401, 403, 406, 412]),
            "head": operation(&format!("Count {tag}"), tag, &[200, 304, 401, 403]),
            "post": operation(&format!("Create a {tag} object"), tag, &[200, 201, 400, 401, 403, 412, 415]),
            "delete": operation(&format!("Delete {tag}"), tag, &[200, 400, 401, 403, 412]),
        }),
    );
    paths.insert(
        object.to_owned(),
        json!({
            "parameters": object_ids,
            "get": operation(&format!("Get a {tag} object"), tag, &[200, 304, 401, 403, 404, 412]),
            "head": operation(&format!("Check a {tag} object"), tag, &[200, 304, 401, 403, 404]),
            "put": operation(&format!("Create or replace a {tag} object"), tag, &[200, 201, 400, 401, 403, 412, 415]),
            "patch": operation(&format!("Modify a {tag} object"), tag, &[200, 400, 401, 403, 404, 412, 415]),
            "delete": operation(&format!("Delete a {tag} object"), tag, &[200, 401, 403, 404, 412]),
        }),
    );
}

/// The document.
pub fn document(settings: &Settings, host: &str) -> Value {
    let mut paths = Map::new();
    paths.insert("/".into(), json!({"get": operation("Server information and capabilities", "Utilities", &[200])}));
    for (path, summary) in [
        ("/__heartbeat__", "Health of the backends"),
        ("/__lbheartbeat__", "Liveness for load balancers"),
        ("/__version__", "Version information"),
        ("/__api__", "This description"),
        ("/contribute.json", "Project information"),
    ] {
        paths.insert(path.into(), json!({"get": operation(summary, "Utilities", &[200])}));
    }
    paths.insert(
        "/batch".into(),
        json!({"post": operation("Run several requests in one transaction", "Batch", &[200, 400, 415])}),
    );
    resource_paths(&mut paths, "/buckets", "/buckets/{bid}", "Buckets", &["bid"]);
    resource_paths(
        &mut paths,
        "/buckets/{bid}/collections",
        "/buckets/{bid}/collections/{cid}",
        "Collections",
        &["bid", "cid"],
    );
    resource_paths(&mut paths, "/buckets/{bid}/groups", "/buckets/{bid}/groups/{gid}", "Groups", &["bid", "gid"]);
    resource_paths(
        &mut paths,
        "/buckets/{bid}/collections/{cid}/records",
        "/buckets/{bid}/collections/{cid}/records/{rid}",
        "Records",
        &["bid", "cid", "rid"],
    );
    if settings.includes("accounts") {
        resource_paths(&mut paths, "/accounts", "/accounts/{id}", "Accounts", &["id"]);
    }
    if settings.includes("history") {
        paths.insert(
            "/buckets/{bid}/history".into(),
            json!({
                "parameters": [path_parameter("bid")],
                "get": operation("List the changes in a bucket", "History", &[200, 400, 401, 403]),
                "head": operation("Count the changes in a bucket", "History", &[200, 401, 403]),
                "delete": operation("Purge the history of a bucket", "History", &[200, 401, 403]),
            }),
        );
    }
    if crate::plugins::permissions::enabled(settings) {
        paths.insert(
            "/permissions".into(),
            json!({"get": operation("List the caller's permissions", "Permissions", &[200, 400, 401, 403])}),
        );
    }
    if attach::enabled(settings) {
        paths.insert(
            "/buckets/{bid}/collections/{cid}/records/{rid}/attachment".into(),
            json!({
                "parameters": [path_parameter("bid"), path_parameter("cid"), path_parameter("rid")],
                "post": {
                    "summary": "Attach a file to a record (multipart/form-data: attachment, data, permissions)",
                    "tags": ["Attachments"],
                    "consumes": ["multipart/form-data"],
                    "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}, "400": {"description": "Bad Request"}},
                },
                "delete": operation("Remove a record's file", "Attachments", &[204, 401, 403, 404]),
            }),
        );
    }
    if settings.includes("flush") {
        paths.insert("/__flush__".into(), json!({"post": operation("Remove all data", "Utilities", &[202])}));
    }
    let mut security = Map::new();
    for policy in &settings.auth_policies {
        let kind = match policy.kind {
            PolicyKind::BasicAuth | PolicyKind::Account => "basic",
        };
        security.insert(policy.name.clone(), json!({"type": kind}));
    }
    json!({
        "swagger": "2.0",
        "info": {"title": settings.project_name, "version": settings.http_api_version},
        "host": host,
        "basePath": "/v1",
        "schemes": ["http"],
        "securityDefinitions": security,
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_enabled_plugins_only() {
        let mut settings = Settings::default();
        let document = document(&settings, "localhost:8888");
        assert_eq!(document["swagger"], "2.0");
        assert!(document["paths"]["/buckets/{bid}/history"].is_object());
        assert!(document["paths"]["/__flush__"].is_null());
        settings.includes.clear();
        let document = super::document(&settings, "localhost:8888");
        assert!(document["paths"]["/buckets/{bid}/history"].is_null());
        assert!(document["paths"]["/buckets/{bid}/collections/{cid}/records/{rid}"]["patch"].is_object());
    }
}
