//! The attachments plugin (KINTO_API.md §14, ATT-*): capability, multipart uploads, the record's
//! `attachment` field, downloads from Kintoun's own file server, deletion, the files' lifecycle
//! and the upload errors. Expected bodies were checked against kinto-attachment 8.0.0 on Kinto
//! 26.5.0, except Kintoun's deliberate choices: relative, content-addressed `location`s
//! (`ab/<sha256>.<ext>`) shared between identical uploads, files served at `/attachments/`, and a
//! default upload limit.

mod common;

use std::path::PathBuf;

use common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The reference plugins plus kinto-attachment.
const PLUGINS: &str = "includes = [\"default_bucket\", \"accounts\", \"history\", \"kinto_attachment\"]";
const BOUNDARY: &str = "----kintoun-test-7MA4YWxkTrZu0gW";
const ALICE: &str = "alice:secret";
const BOB: &str = "bob:secret";
const RECORDS: &str = "/v1/buckets/b/collections/c/records";

/// A server with the attachments plugin and `extra` settings (TOML, top-level dotted keys).
async fn server_with(extra: &str) -> TestServer {
    common::start_with(&format!("{PLUGINS}\n{extra}")).await
}

/// A server with the plugin, bucket `b` and collection `c` owned by alice.
async fn server_with_collection(extra: &str) -> TestServer {
    let s = server_with(extra).await;
    for path in ["/v1/buckets/b", "/v1/buckets/b/collections/c"] {
        let r = s.call(Method::PUT, path, Some(ALICE), None).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text);
    }
    s
}

/// One part of a multipart body.
struct Part<'a> {
    name: &'a str,
    filename: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
}

/// The `attachment` file part.
fn file<'a>(filename: &'a str, content_type: &'a str, body: &'a [u8]) -> Part<'a> {
    Part { name: "attachment", filename: Some(filename), content_type: Some(content_type), body }
}

/// A text field (`data`, `permissions`, ...).
fn field<'a>(name: &'a str, value: &'a str) -> Part<'a> {
    Part { name, filename: None, content_type: None, body: value.as_bytes() }
}

/// A `multipart/form-data` body with [`BOUNDARY`].
fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(filename) = part.filename {
            disposition.push_str(&format!("; filename=\"{filename}\""));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(content_type) = part.content_type {
            out.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Sends raw bytes with an optional Content-Type and Basic auth `user:password`.
async fn send(
    s: &TestServer,
    method: Method,
    path: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut builder = s.req(method, path);
    if let Some(auth) = auth {
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        builder = builder.basic_auth(user, Some(password));
    }
    if let Some(content_type) = content_type {
        builder = builder.header("Content-Type", content_type);
    }
    Reply::from(builder.body(body).send().await.expect("request")).await
}

/// POSTs a multipart body to `<RECORDS>/<rid>/attachment`.
async fn upload(s: &TestServer, rid: &str, auth: Option<&str>, parts: &[Part<'_>]) -> Reply {
    let path = format!("{RECORDS}/{rid}/attachment");
    send(s, Method::POST, &path, auth, Some(&multipart_type()), multipart(parts)).await
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Kintoun's content-addressed location of `bytes` stored with extension `ext`.
fn location_of(bytes: &[u8], ext: &str) -> String {
    let hash = sha256_hex(bytes);
    format!("{}/{hash}.{ext}", &hash[..2])
}

/// The stored file behind a relative location.
fn stored_path(s: &TestServer, location: &str) -> PathBuf {
    s.dir.path().join("attachments").join(location)
}

/// Every stored file (relative locations, sorted), temporary files excluded.
fn stored_files(s: &TestServer) -> Vec<String> {
    let root = s.dir.path().join("attachments");
    let mut found = Vec::new();
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return found;
    };
    for dir in dirs.flatten() {
        let dir_name = dir.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for entry in files.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().is_file() {
                found.push(format!("{dir_name}/{name}"));
            }
        }
    }
    found.sort();
    found
}

/// GET `<root>/attachments/<location>`.
async fn download(s: &TestServer, location: &str) -> reqwest::Response {
    s.req(Method::GET, &format!("/attachments/{location}")).send().await.expect("download")
}

/// The principal of a Basic auth user.
async fn principal(s: &TestServer, auth: &str) -> String {
    let r = s.call(Method::GET, "/v1/", Some(auth), None).await;
    r.json["user"]["id"].as_str().expect("user id").to_owned()
}

#[tokio::test]
async fn capability_is_advertised() {
    let s = server_with("").await;
    let r = s.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["capabilities"]["attachments"],
        json!({"description": "Add file attachments to records",
               "url": "https://github.com/Kinto/kinto-attachment/",
               "version": "8.0.0",
               "base_url": format!("{}/attachments/", s.root)})
    );
    s.stop().await;

    // Without the plugin: no capability.
    let s = common::start().await;
    let r = s.call(Method::GET, "/v1/", None, None).await;
    assert!(r.json["capabilities"].get("attachments").is_none(), "{}", r.text);
    s.stop().await;

    // A configured base URL is advertised with a trailing slash; `extra.base_url` wins.
    let s = server_with("attachment.base_url = \"https://cdn.example/files\"").await;
    let r = s.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(r.json["capabilities"]["attachments"]["base_url"], json!("https://cdn.example/files/"));
    s.stop().await;
    let s = server_with(
        "attachment.base_url = \"https://cdn.example/files/\"\nattachment.extra.base_url = \"https://mirror.example/x\"",
    )
    .await;
    let r = s.call(Method::GET, "/v1/", None, None).await;
    assert_eq!(r.json["capabilities"]["attachments"]["base_url"], json!("https://mirror.example/x/"));
    s.stop().await;
}

#[tokio::test]
async fn post_creates_then_replaces_the_record() {
    let s = server_with_collection("").await;
    let alice = principal(&s, ALICE).await;
    let text = b"hello world\n";
    let r = upload(
        &s,
        "r1",
        Some(ALICE),
        &[
            file("notes.txt", "text/plain", text),
            field("data", r#"{"title": "hello", "tags": ["a"]}"#),
            field("permissions", r#"{"read": ["system.Everyone"]}"#),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hash = sha256_hex(text);
    assert_eq!(hash, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
    let location = location_of(text, "txt");
    let attachment =
        json!({"filename": "notes.txt", "location": location, "hash": hash, "mimetype": "text/plain", "size": 12});
    // The body is the attachment object itself, not wrapped in `data`.
    assert_eq!(r.json, attachment);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("location"), Some(format!("{}{RECORDS}/r1", s.root).as_str()));
    let created = r.etag();
    assert!(r.header("last-modified").is_some());

    // The record holds the data, the attachment and the permissions.
    let r = s.call(Method::GET, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"data": {"title": "hello", "tags": ["a"], "attachment": attachment, "id": "r1", "last_modified": created},
               "permissions": {"write": [alice], "read": ["system.Everyone"]}})
    );
    assert_eq!(r.etag(), created);
    // Anonymous readers may read it now.
    let r = s.call(Method::GET, &format!("{RECORDS}/r1"), None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The file is stored content-addressed and downloadable at base_url + location.
    assert_eq!(stored_files(&s), vec![location.clone()]);
    assert_eq!(std::fs::read(stored_path(&s, &location)).expect("stored file"), text);
    let hello = s.call(Method::GET, "/v1/", None, None).await;
    let base_url = hello.json["capabilities"]["attachments"]["base_url"].as_str().expect("base_url").to_owned();
    let response = s.client.get(format!("{base_url}{location}")).send().await.expect("download");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), text);

    // Replacing: 200, the other fields are kept (PATCH semantics), the old file goes.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake image";
    let r =
        upload(&s, "r1", Some(ALICE), &[file("Image.PNG", "image/png", png), field("data", r#"{"stars": 3}"#)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_location = location_of(png, "png");
    let new_attachment = json!({"filename": "Image.PNG", "location": new_location, "hash": sha256_hex(png),
                                "mimetype": "image/png", "size": png.len()});
    assert_eq!(r.json, new_attachment);
    assert_eq!(r.header("location"), Some(format!("{}{RECORDS}/r1", s.root).as_str()));
    let replaced = r.etag();
    assert!(replaced > created);
    let r = s.call(Method::GET, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(
        r.json["data"],
        json!({"title": "hello", "tags": ["a"], "stars": 3, "attachment": new_attachment, "id": "r1",
               "last_modified": replaced})
    );
    assert_eq!(r.json["permissions"], json!({"write": [alice], "read": ["system.Everyone"]}));
    assert_eq!(stored_files(&s), vec![new_location.clone()]);
    assert!(!stored_path(&s, &location).exists());
    let response = download(&s, &location).await;
    assert_eq!(response.status().as_u16(), 404);
    let response = download(&s, &new_location).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), png);

    // The listing shows the record with its attachment.
    let r = s.call(Method::GET, RECORDS, Some(ALICE), None).await;
    assert_eq!(r.json["data"][0]["attachment"], new_attachment);
}

#[tokio::test]
async fn mimetype_comes_from_the_part() {
    let s = server_with_collection("").await;
    // No Content-Type on the part: text/plain (Python's cgi default).
    let untyped = Part { name: "attachment", filename: Some("a.txt"), content_type: None, body: b"hello" };
    let r = upload(&s, "m1", Some(ALICE), &[untyped]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["mimetype"], json!("text/plain"));
    assert_eq!(r.json["location"], json!(location_of(b"hello", "txt")));
    // Parameters dropped, case kept.
    let r = upload(&s, "m2", Some(ALICE), &[file("a.txt", "Text/Plain; charset=utf-8", b"hello")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["mimetype"], json!("Text/Plain"));
    // Same content and extension: the same stored file.
    assert_eq!(stored_files(&s), vec![location_of(b"hello", "txt")]);
    // `attachment` in the data part is overwritten by the real metadata.
    let r =
        upload(&s, "m3", Some(ALICE), &[file("a.txt", "text/plain", b"hello"), field("data", r#"{"attachment": 1}"#)])
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let record = s.call(Method::GET, &format!("{RECORDS}/m3"), Some(ALICE), None).await;
    assert_eq!(record.json["data"]["attachment"], r.json);
}

#[tokio::test]
async fn absolute_locations_with_a_base_url() {
    let s = server_with_collection("attachment.base_url = \"https://cdn.example/files/\"").await;
    let r = upload(&s, "r1", Some(ALICE), &[file("a.txt", "text/plain", b"cdn")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let location = location_of(b"cdn", "txt");
    assert_eq!(r.json["location"], json!(format!("https://cdn.example/files/{location}")));
    assert_eq!(stored_files(&s), vec![location.clone()]);
    // The absolute location still maps back to the stored file.
    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(stored_files(&s).is_empty());
}

#[tokio::test]
async fn upload_permissions() {
    let s = server_with_collection("").await;
    let alice = principal(&s, ALICE).await;
    let bob = principal(&s, BOB).await;
    let parts = || [file("a.txt", "text/plain", b"secret")];

    let r = upload(&s, "r1", None, &parts()).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 401, "errno": 104, "error": "Unauthorized",
               "message": "Please authenticate yourself to use this endpoint."})
    );
    let forbidden = json!({"code": 403, "errno": 121, "error": "Forbidden",
                           "message": "This user cannot access this resource."});
    let r = upload(&s, "r1", Some(BOB), &parts()).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json, forbidden);

    let r = send(
        &s,
        Method::POST,
        "/v1/buckets/b/collections/nope/records/r1/attachment",
        Some(ALICE),
        Some(&multipart_type()),
        multipart(&parts()),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 404, "errno": 111, "error": "Not Found", "details": {"id": "nope", "resource_name": "collection"}})
    );
    // In an unknown bucket: 404 for the collection, as a record PUT (and the DELETE endpoint)
    // answer; kinto-attachment's POST answers 403 there (its own permission check runs first).
    let r = send(
        &s,
        Method::POST,
        "/v1/buckets/nope/collections/c/records/r1/attachment",
        Some(ALICE),
        Some(&multipart_type()),
        multipart(&parts()),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 404, "errno": 111, "error": "Not Found", "details": {"id": "c", "resource_name": "collection"}})
    );
    // Nothing stored by refused uploads.
    assert!(stored_files(&s).is_empty(), "{:?}", stored_files(&s));

    // alice's record: bob may not replace or delete its attachment.
    let r = upload(&s, "r1", Some(ALICE), &parts()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = upload(&s, "r1", Some(BOB), &[file("b.txt", "text/plain", b"bob")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json, forbidden);
    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1/attachment"), None, None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1/attachment"), Some(BOB), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json, forbidden);
    assert_eq!(stored_files(&s), vec![location_of(b"secret", "txt")]);

    // `record:create` on the collection lets bob create records with attachments; `write` on a
    // record lets him replace its attachment (and he is added to its writers, as a PATCH does).
    let r = s
        .call(
            Method::PATCH,
            "/v1/buckets/b/collections/c",
            Some(ALICE),
            Some(json!({"permissions": {"record:create": [bob]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = upload(&s, "bobs", Some(BOB), &[file("b.txt", "text/plain", b"bob")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.call(Method::GET, &format!("{RECORDS}/bobs"), Some(BOB), None).await;
    assert_eq!(r.json["permissions"], json!({"write": [bob]}));
    let r = upload(
        &s,
        "r2",
        Some(ALICE),
        &[file("a.png", "image/png", b"png"), field("permissions", r#"{"write": ["system.Authenticated"]}"#)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = upload(&s, "r2", Some(BOB), &[file("b.png", "image/png", b"png2")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call(Method::GET, &format!("{RECORDS}/r2"), Some(ALICE), None).await;
    let mut writers: Vec<String> = serde_json::from_value(r.json["permissions"]["write"].clone()).expect("writers");
    writers.sort();
    let mut expected = vec![alice, bob, "system.Authenticated".to_owned()];
    expected.sort();
    assert_eq!(writers, expected);
}

/// Kintoun honours `If-Match` / `If-None-Match: *` on the attachment endpoint
/// (QUIRK-ATT-PRECOND: kinto-attachment ignores them), so a file never replaces a version the
/// sender has not seen; kinto-http.js's safe mode sends exactly these headers.
#[tokio::test]
async fn uploads_honour_preconditions() {
    let server = server_with_collection("").await;
    let s = &server;
    let precondition = |header: &'static str, value: String| async move {
        let path = format!("{RECORDS}/r1/attachment");
        let body = multipart(&[file("a.txt", "text/plain", b"v")]);
        let builder = s.req(Method::POST, &path).basic_auth("alice", Some("secret"));
        let builder = builder.header("Content-Type", multipart_type()).header(header, value);
        Reply::from(builder.body(body).send().await.expect("request")).await
    };
    let created = precondition("If-None-Match", "*".into()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let again = precondition("If-None-Match", "*".into()).await;
    assert_eq!(again.status, 412, "{}", again.text);
    assert_eq!(again.json["details"]["existing"]["id"], "r1", "{}", again.text);
    let stale = precondition("If-Match", "\"1\"".into()).await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let current = precondition("If-Match", format!("\"{}\"", created.etag())).await;
    assert_eq!(current.status, 200, "{}", current.text);
    let delete = s.req(Method::DELETE, &format!("{RECORDS}/r1/attachment")).basic_auth("alice", Some("secret"));
    let stale_delete = Reply::from(delete.header("If-Match", "\"1\"").send().await.expect("request")).await;
    assert_eq!(stale_delete.status, 412, "{}", stale_delete.text);
    assert_eq!(stored_files(s).len(), 1, "refused uploads leave no file");
}

#[tokio::test]
async fn delete_attachment() {
    let s = server_with_collection("").await;
    let bytes = b"to be deleted";
    let r =
        upload(&s, "r1", Some(ALICE), &[file("a.txt", "text/plain", bytes), field("data", r#"{"title": "t"}"#)]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let uploaded = r.etag();
    let location = location_of(bytes, "txt");
    assert!(stored_path(&s, &location).is_file());

    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1/attachment"), Some(ALICE), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.text, "");
    assert!(r.header("last-modified").is_some());
    assert!(!stored_path(&s, &location).exists());
    assert!(stored_files(&s).is_empty());
    let response = download(&s, &location).await;
    assert_eq!(response.status().as_u16(), 404);

    let r = s.call(Method::GET, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let modified = r.json["data"]["last_modified"].as_i64().expect("last_modified");
    assert!(modified > uploaded);
    assert_eq!(r.json["data"], json!({"title": "t", "attachment": null, "id": "r1", "last_modified": modified}));

    // Deleting again is harmless.
    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1/attachment"), Some(ALICE), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // In a missing collection: 404.
    let r = s.call(Method::DELETE, "/v1/buckets/b/collections/zz/records/r1/attachment", Some(ALICE), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json["details"], json!({"id": "zz", "resource_name": "collection"}));
}

/// Like the reference, the 204 carries the record's new timestamp as `ETag` and `Last-Modified`;
/// on a missing record it creates the record with a null attachment (kinto-attachment's PATCH).
#[tokio::test]
async fn delete_attachment_headers_and_missing_record() {
    let s = server_with_collection("").await;
    let alice = principal(&s, ALICE).await;
    let r = upload(&s, "r1", Some(ALICE), &[file("a.txt", "text/plain", b"x")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.call(Method::DELETE, &format!("{RECORDS}/ghost/attachment"), Some(ALICE), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.call(Method::GET, &format!("{RECORDS}/ghost"), Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ts = r.etag();
    assert_eq!(
        r.json,
        json!({"data": {"attachment": null, "id": "ghost", "last_modified": ts}, "permissions": {"write": [alice]}})
    );

    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1/attachment"), Some(ALICE), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let record = s.call(Method::GET, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.header("last-modified"), record.header("last-modified"));
    assert_eq!(r.header("etag"), record.header("etag"), "ETag of the 204");
}

#[tokio::test]
async fn deleting_records_collections_and_buckets_removes_files() {
    let s = server_with_collection("").await;
    for path in ["/v1/buckets/b/collections/c2", "/v1/buckets/b2", "/v1/buckets/b2/collections/c"] {
        let r = s.call(Method::PUT, path, Some(ALICE), None).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text);
    }
    let targets = [
        ("/v1/buckets/b/collections/c/records/r1", b"record".as_slice()),
        ("/v1/buckets/b/collections/c2/records/r1", b"collection".as_slice()),
        ("/v1/buckets/b2/collections/c/records/r1", b"bucket".as_slice()),
    ];
    for (record, bytes) in targets {
        let path = format!("{record}/attachment");
        let body = multipart(&[file("f.txt", "text/plain", bytes)]);
        let r = send(&s, Method::POST, &path, Some(ALICE), Some(&multipart_type()), body).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text);
    }
    let [record_file, collection_file, bucket_file] = targets.map(|(_, bytes)| location_of(bytes, "txt"));
    let mut all = vec![record_file.clone(), collection_file.clone(), bucket_file.clone()];
    all.sort();
    assert_eq!(stored_files(&s), all);

    let r = s.call(Method::DELETE, "/v1/buckets/b/collections/c/records/r1", Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!stored_path(&s, &record_file).exists());
    assert!(stored_path(&s, &collection_file).is_file());

    let r = s.call(Method::DELETE, "/v1/buckets/b/collections/c2", Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!stored_path(&s, &collection_file).exists());
    assert!(stored_path(&s, &bucket_file).is_file());

    let r = s.call(Method::DELETE, "/v1/buckets/b2", Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(stored_files(&s).is_empty(), "{:?}", stored_files(&s));
}

#[tokio::test]
async fn deleting_all_records_of_a_collection_removes_files() {
    let s = server_with_collection("").await;
    for (rid, bytes) in [("r1", b"one".as_slice()), ("r2", b"two".as_slice())] {
        let r = upload(&s, rid, Some(ALICE), &[file("f.txt", "text/plain", bytes)]).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    assert_eq!(stored_files(&s).len(), 2);
    let r = s.call(Method::DELETE, RECORDS, Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(stored_files(&s).is_empty(), "{:?}", stored_files(&s));
}

#[tokio::test]
async fn identical_uploads_share_one_file() {
    let s = server_with_collection("").await;
    let bytes = b"shared content";
    let location = location_of(bytes, "txt");
    let first = upload(&s, "r1", Some(ALICE), &[file("one.txt", "text/plain", bytes)]).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = upload(&s, "r2", Some(ALICE), &[file("two.TXT", "text/plain", bytes)]).await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(first.json["location"], json!(location));
    assert_eq!(second.json["location"], json!(location));
    assert_eq!(second.json["filename"], json!("two.TXT"));
    assert_eq!(stored_files(&s), vec![location.clone()]);

    // Replacing r1's attachment keeps the file r2 still uses.
    let r = upload(&s, "r1", Some(ALICE), &[file("other.txt", "text/plain", b"other")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(stored_path(&s, &location).is_file());
    // r1 takes the shared file back, then is deleted: r2 still has it.
    let r = upload(&s, "r1", Some(ALICE), &[file("one.txt", "text/plain", bytes)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(stored_files(&s), vec![location.clone()]);
    let r = s.call(Method::DELETE, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(stored_path(&s, &location).is_file());
    let response = download(&s, &location).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), bytes);

    // The last user gone, the file goes.
    let r = s.call(Method::DELETE, &format!("{RECORDS}/r2/attachment"), Some(ALICE), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(stored_files(&s).is_empty(), "{:?}", stored_files(&s));
}

#[tokio::test]
async fn attachment_metadata_is_protected() {
    let s = server_with_collection("").await;
    let r = upload(&s, "r1", Some(ALICE), &[file("a.txt", "text/plain", b"kept"), field("data", r#"{"k": 1}"#)]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let attachment = r.json.clone();
    let location = location_of(b"kept", "txt");
    let path = format!("{RECORDS}/r1");
    let immutable = json!({"code": 400, "errno": 999, "error": "Bad Request",
                           "message": "Attachment metadata cannot be modified."});

    let r =
        s.call(Method::PUT, &path, Some(ALICE), Some(json!({"data": {"k": 1, "attachment": {"filename": "x"}}}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json, immutable);
    let r = s.call(Method::PATCH, &path, Some(ALICE), Some(json!({"data": {"attachment": {"filename": "x"}}}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json, immutable);
    let mut changed = attachment.clone();
    changed["size"] = json!(1);
    let r = s.call(Method::PATCH, &path, Some(ALICE), Some(json!({"data": {"attachment": changed}}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json, immutable);
    // Nothing changed.
    let r = s.call(Method::GET, &path, Some(ALICE), None).await;
    assert_eq!(r.json["data"]["attachment"], attachment);
    assert!(stored_path(&s, &location).is_file());

    // Keeping the same metadata is fine.
    let r = s.call(Method::PUT, &path, Some(ALICE), Some(json!({"data": {"k": 2, "attachment": attachment}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call(Method::PATCH, &path, Some(ALICE), Some(json!({"data": {"k": 3}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["attachment"], attachment);
    assert!(stored_path(&s, &location).is_file());

    // Setting it to null is allowed (Kintoun then releases the file).
    let r = s.call(Method::PATCH, &path, Some(ALICE), Some(json!({"data": {"attachment": null}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["attachment"], Value::Null);
    assert_eq!(r.json["data"]["k"], json!(3));
    assert!(!stored_path(&s, &location).exists());
    // From null, any value may be set again.
    let r = s.call(Method::PATCH, &path, Some(ALICE), Some(json!({"data": {"attachment": {"filename": "x"}}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Dropping it with a PUT is allowed too.
    let r = upload(&s, "r2", Some(ALICE), &[file("a.txt", "text/plain", b"dropped")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.call(Method::PUT, &format!("{RECORDS}/r2"), Some(ALICE), Some(json!({"data": {"k": 1}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"], json!({"k": 1, "id": "r2", "last_modified": r.json["data"]["last_modified"]}));
    assert!(!stored_path(&s, &location_of(b"dropped", "txt")).exists());
}

/// When the record update fails after the file was received (schema, permissions, id), no file
/// is left behind and an existing attachment is untouched.
#[tokio::test]
async fn failed_record_updates_leave_no_file() {
    let s = server_with_collection("").await;
    let schema = json!({"type": "object", "properties": {"title": {"type": "string"}}});
    let r = s
        .call(Method::PUT, "/v1/buckets/b/collections/s", Some(ALICE), Some(json!({"data": {"schema": schema}})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = upload(&s, "kept", Some(ALICE), &[file("a.txt", "text/plain", b"kept")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let kept = vec![location_of(b"kept", "txt")];

    let path = "/v1/buckets/b/collections/s/records/r1/attachment";
    let body = multipart(&[file("x.txt", "text/plain", b"schema"), field("data", r#"{"title": 5}"#)]);
    let r = send(&s, Method::POST, path, Some(ALICE), Some(&multipart_type()), body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["message"], json!("title in body: 5 is not of type 'string'"));
    assert_eq!(stored_files(&s), kept, "file of an upload refused by the schema");

    let r = upload(
        &s,
        "r2",
        Some(ALICE),
        &[file("x.txt", "text/plain", b"perms"), field("permissions", r#"{"read": "system.Everyone"}"#)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errno"], json!(107));
    assert_eq!(stored_files(&s), kept, "file of an upload with invalid permissions");

    // A refused replacement keeps the existing attachment and leaves no new file.
    let r = upload(
        &s,
        "kept",
        Some(ALICE),
        &[file("x.txt", "text/plain", b"new"), field("permissions", r#"{"write": 1}"#)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(stored_files(&s), kept, "file of a refused replacement");
    let r = s.call(Method::GET, &format!("{RECORDS}/kept"), Some(ALICE), None).await;
    assert_eq!(r.json["data"]["attachment"]["location"], json!(kept[0]));
}

/// An `id` in the data part must match the record's (kinto-attachment: the record PUT/PATCH
/// check), for new and existing records.
#[tokio::test]
async fn data_part_id_must_match_the_record() {
    let s = server_with_collection("").await;
    let mismatch = json!({"code": 400, "errno": 107, "error": "Invalid parameters",
                          "message": "Object id does not match existing object",
                          "details": [{"location": "body", "name": "id",
                                       "description": "Object id does not match existing object"}]});
    let r = upload(&s, "r1", Some(ALICE), &[file("x.txt", "text/plain", b"one"), field("data", r#"{"id": "other"}"#)])
        .await;
    assert_eq!((r.status, &r.json), (400, &mismatch), "{}", r.text);
    let r = s.call(Method::GET, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.status, 404, "{}", r.text);

    // The same id (kinto-admin sends the whole record) is fine.
    let r =
        upload(&s, "r2", Some(ALICE), &[file("x.txt", "text/plain", b"two"), field("data", r#"{"id": "r2"}"#)]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r =
        upload(&s, "r2", Some(ALICE), &[file("x.txt", "text/plain", b"three"), field("data", r#"{"id": "z"}"#)]).await;
    assert_eq!((r.status, &r.json), (400, &mismatch), "{}", r.text);
    assert_eq!(stored_files(&s), vec![location_of(b"two", "txt")]);
}

#[tokio::test]
async fn upload_errors() {
    let s = server_with_collection("attachment.max_size_bytes = 10").await;
    let path = format!("{RECORDS}/r1/attachment");
    let bad_request =
        |errno: u64, message: &str| json!({"code": 400, "errno": errno, "error": "Bad Request", "message": message});
    let invalid_body = |description: &str| {
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": format!("body: {description}"),
               "details": [{"location": "body", "name": null, "description": description}]})
    };

    // Not multipart.
    let r = send(&s, Method::POST, &path, Some(ALICE), Some("application/json"), b"{}".to_vec()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json, bad_request(107, "Content-Type should be multipart/form-data"));
    let r = send(&s, Method::POST, &path, Some(ALICE), None, b"xx".to_vec()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json, bad_request(107, "Content-Type should be multipart/form-data"));
    // Multipart without a boundary.
    let body = multipart(&[file("a.txt", "text/plain", b"x")]);
    let r = send(&s, Method::POST, &path, Some(ALICE), Some("multipart/form-data"), body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json, bad_request(107, "Invalid boundary in multipart form: b''"));

    let cases: Vec<(Vec<Part<'_>>, Value)> = vec![
        (vec![field("data", "{}")], bad_request(109, "Attachment missing.")),
        (
            vec![Part { name: "attachment", filename: None, content_type: None, body: b"x" }],
            invalid_body("Filename is required."),
        ),
        (vec![file("a.exe", "application/x-msdownload", b"x")], invalid_body("File extension is not allowed.")),
        (vec![file("README", "text/plain", b"x")], invalid_body("File extension is not allowed.")),
        (
            vec![file("a.txt", "text/plain", b"01234567890")],
            invalid_body("File size (11 bytes) exceeds the limit (10 bytes)."),
        ),
        (
            vec![file("a.txt", "text/plain", b"x"), field("data", r#"{"a":"#)],
            bad_request(109, "body: data is not valid JSON (Expecting value: line 1 column 6 (char 5))"),
        ),
        (
            vec![file("a.txt", "text/plain", b"x"), field("permissions", "nope")],
            bad_request(109, "body: permissions is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        ),
        (
            vec![file("a.txt", "text/plain", b"x"), field("foo", "1")],
            bad_request(109, "body: 'foo' not in ('data', 'permissions')"),
        ),
    ];
    for (parts, expected) in cases {
        let r = upload(&s, "r1", Some(ALICE), &parts).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.json, expected);
    }
    // Nothing stored, no record created.
    assert!(stored_files(&s).is_empty(), "{:?}", stored_files(&s));
    let r = s.call(Method::GET, &format!("{RECORDS}/r1"), Some(ALICE), None).await;
    assert_eq!(r.status, 404, "{}", r.text);

    // A failed upload leaves an existing attachment alone.
    let r = upload(&s, "r1", Some(ALICE), &[file("a.txt", "text/plain", b"0123456789")]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = upload(&s, "r1", Some(ALICE), &[file("a.txt", "text/plain", b"01234567890")]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = send(&s, Method::POST, &path, Some(ALICE), Some("application/json"), b"{}".to_vec()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(stored_files(&s), vec![location_of(b"0123456789", "txt")]);
}

#[tokio::test]
async fn oversized_uploads() {
    // A small API body limit does not apply to uploads (bounded by the attachment limit).
    let s = server_with_collection("max_body_bytes = 1000").await;
    let big = vec![b'a'; 5000];
    let r = upload(&s, "r1", Some(ALICE), &[file("big.txt", "text/plain", &big)]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["size"], json!(5000));
    let response = download(&s, &location_of(&big, "txt")).await;
    assert_eq!(response.headers()["content-length"], "5000");
    assert_eq!(response.bytes().await.expect("bytes").len(), 5000);
    // Other requests keep it.
    let r = s
        .call(Method::PUT, &format!("{RECORDS}/r2"), Some(ALICE), Some(json!({"data": {"x": "a".repeat(2000)}})))
        .await;
    assert_eq!(r.status, 413, "{}", r.text);
    s.stop().await;

    // A file over the attachment limit: 400 with the sizes, nothing stored.
    let s = server_with_collection("max_body_bytes = 1000\nattachment.max_size_bytes = 2000").await;
    let r = upload(&s, "r1", Some(ALICE), &[file("big.txt", "text/plain", &big[..2001])]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errno"], json!(107));
    assert_eq!(r.json["message"], json!("body: File size (2001 bytes) exceeds the limit (2000 bytes)."));
    let r = upload(&s, "r1", Some(ALICE), &[file("big.txt", "text/plain", &big[..2000])]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(stored_files(&s), vec![location_of(&big[..2000], "txt")]);

    // A body far beyond both limits is refused before it is parsed.
    let huge = vec![b'a'; 200_000];
    let r = upload(&s, "r2", Some(ALICE), &[file("huge.txt", "text/plain", &huge)]).await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.json["code"], json!(413));
    assert_eq!(r.json["errno"], json!(113));
    assert!(r.json["message"].as_str().is_some_and(|m| m.starts_with("Request body is larger than the limit")));
    assert_eq!(stored_files(&s), vec![location_of(&big[..2000], "txt")]);
    let r = s.call(Method::GET, &format!("{RECORDS}/r2"), Some(ALICE), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn serving_unknown_files() {
    let s = server_with("").await;
    for location in ["ab/nothing.txt", "..%2Fdata.sqlite", "ab"] {
        let r = Reply::from(download(&s, location).await).await;
        assert_eq!(r.status, 404, "{location}: {}", r.text);
        assert_eq!(r.json["errno"], json!(111), "{location}");
    }
}

/// Sorts each entry's permission list (their order is not significant).
fn sorted_perms(mut list: Value) -> Value {
    for entry in list.as_array_mut().into_iter().flatten() {
        if let Some(perms) = entry.get_mut("permissions").and_then(Value::as_array_mut) {
            perms.sort_by_key(|p| p.as_str().unwrap_or_default().to_owned());
        }
    }
    list
}

/// A history entry without its volatile fields (`id`, `last_modified`, `date`).
fn strip_entry(entry: &Value) -> Value {
    let mut entry = entry.clone();
    let object = entry.as_object_mut().expect("entry");
    assert!(object.remove("id").is_some_and(|v| v.is_string()));
    assert!(object.remove("last_modified").is_some_and(|v| v.is_i64()));
    assert!(object.remove("date").and_then(|v| v.as_str().map(|d| d.ends_with("+00:00"))).unwrap_or(false));
    entry
}

/// kinto-admin's sequence with an attachment: sign-up, bucket, collection with a schema, a valid
/// record, an upload (the data part validated by the schema), history and the permissions sidebar.
#[tokio::test]
async fn admin_flow_with_attachment() {
    let s = server_with("").await;
    const MIA: &str = "mia:s3cret";

    let r = s.call(Method::PUT, "/v1/accounts/mia", None, Some(json!({"data": {"password": "s3cret"}}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["permissions"], json!({"write": ["account:mia"]}));

    let r = s.call(Method::POST, "/v1/buckets", Some(MIA), Some(json!({"data": {"id": "blog"}}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let bucket = r.json["data"].clone();

    let schema = json!({"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]});
    let r = s
        .call(
            Method::PUT,
            "/v1/buckets/blog/collections/articles",
            Some(MIA),
            Some(json!({"data": {"schema": schema}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let collection = r.json["data"].clone();
    let schema_version = collection["last_modified"].clone();

    let records = "/v1/buckets/blog/collections/articles/records";
    let r = s.call(Method::PUT, &format!("{records}/r1"), Some(MIA), Some(json!({"data": {"title": "hello"}}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json["data"].clone();
    assert_eq!(
        created,
        json!({"title": "hello", "id": "r1", "schema": schema_version, "last_modified": created["last_modified"]})
    );

    // Upload as kinto-http does: file, data and permissions parts.
    let text = b"hello world\n";
    let parts = multipart(&[
        file("notes.txt", "text/plain", text),
        field("data", r#"{"title":"hello","tags":["a"]}"#),
        field("permissions", r#"{"read":["system.Everyone"]}"#),
    ]);
    let r =
        send(&s, Method::POST, &format!("{records}/r1/attachment"), Some(MIA), Some(&multipart_type()), parts).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let attachment = json!({"filename": "notes.txt", "location": location_of(text, "txt"),
                            "hash": "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
                            "mimetype": "text/plain", "size": 12});
    assert_eq!(r.json, attachment);
    assert_eq!(r.header("location"), Some(format!("{}{records}/r1", s.root).as_str()));
    let updated_ts = r.etag();

    // The schema applies to the data part: invalid or incomplete records are refused.
    let invalid = multipart(&[file("x.txt", "text/plain", b"x"), field("data", r#"{"title": 5}"#)]);
    let r =
        send(&s, Method::POST, &format!("{records}/r2/attachment"), Some(MIA), Some(&multipart_type()), invalid).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters",
               "message": "title in body: 5 is not of type 'string'",
               "details": [{"location": "body", "name": "title", "description": "5 is not of type 'string'"}]})
    );
    let incomplete = multipart(&[file("x.txt", "text/plain", b"x")]);
    let r = send(&s, Method::POST, &format!("{records}/r3/attachment"), Some(MIA), Some(&multipart_type()), incomplete)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters",
               "message": "'title' is a required property",
               "details": [{"location": "body", "name": "title", "description": "'title' is a required property"}]})
    );

    // kinto-http then reads the record.
    let r = s.call(Method::GET, &format!("{records}/r1"), Some(MIA), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let updated = json!({"title": "hello", "id": "r1", "schema": schema_version, "tags": ["a"],
                         "attachment": attachment, "last_modified": updated_ts});
    let updated_permissions = json!({"write": ["account:mia"], "read": ["system.Everyone"]});
    assert_eq!(r.json, json!({"data": updated, "permissions": updated_permissions}));

    // History: the upload is an update of the record.
    let r = s.call(Method::GET, "/v1/buckets/blog/history", Some(MIA), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.json["data"].as_array().expect("history").clone();
    assert_eq!(list.len(), 4, "{}", r.text);
    let record_uri = "/buckets/blog/collections/articles/records/r1";
    assert_eq!(
        strip_entry(&list[0]),
        json!({"action": "update", "resource_name": "record", "uri": record_uri, "user_id": "account:mia",
               "collection_id": "articles", "record_id": "r1",
               "target": {"data": updated, "permissions": updated_permissions}})
    );
    assert_eq!(
        strip_entry(&list[1]),
        json!({"action": "create", "resource_name": "record", "uri": record_uri, "user_id": "account:mia",
               "collection_id": "articles", "record_id": "r1",
               "target": {"data": created, "permissions": {"write": ["account:mia"]}}})
    );
    assert_eq!(
        strip_entry(&list[2]),
        json!({"action": "create", "resource_name": "collection", "uri": "/buckets/blog/collections/articles",
               "user_id": "account:mia", "collection_id": "articles",
               "target": {"data": collection, "permissions": {"write": ["account:mia"]}}})
    );
    assert_eq!(
        strip_entry(&list[3]),
        json!({"action": "create", "resource_name": "bucket", "uri": "/buckets/blog", "user_id": "account:mia",
               "bucket_id": "blog", "target": {"data": bucket, "permissions": {"write": ["account:mia"]}}})
    );
    let r = s.call(Method::GET, "/v1/buckets/blog/history?resource_name=record&action=update", Some(MIA), None).await;
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(1), "{}", r.text);
    assert_eq!(r.json["data"][0]["target"]["data"]["attachment"], attachment);

    // The permissions sidebar.
    let r = s.call(Method::GET, "/v1/permissions?_sort=id&exclude_resource_name=record,group", Some(MIA), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        sorted_perms(r.json["data"].clone()),
        sorted_perms(json!([
            {"uri": "/buckets/blog/collections/articles", "resource_name": "collection",
             "permissions": ["write", "record:create", "read:attributes", "read"],
             "bucket_id": "blog", "id": "articles", "collection_id": "articles"},
            {"uri": "/buckets/blog", "resource_name": "bucket",
             "permissions": ["write", "read:attributes", "group:create", "collection:create", "read"],
             "id": "blog", "bucket_id": "blog"},
            {"uri": "/accounts/mia", "resource_name": "account", "permissions": ["write", "read"],
             "id": "mia", "account_id": "mia"},
            {"uri": "/", "resource_name": "root", "permissions": ["account:create", "bucket:create"]}
        ]))
    );

    // The file is there for the admin's link.
    let response = download(&s, &location_of(text, "txt")).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), text);
}
