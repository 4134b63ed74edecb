//! Tests of [`parse_upload`]: expected bodies are kinto-attachment 8.0.0's answers to the
//! same requests (errno 109 aside, see [`invalid_posted_data`]).

use serde_json::json;

use super::*;

const CT: &str = "multipart/form-data; boundary=XyZ";

fn part(name: &str, content: &[u8], filename: Option<&str>, content_type: Option<&str>) -> Vec<u8> {
    let mut head = format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"");
    if let Some(filename) = filename {
        head.push_str(&format!("; filename=\"{filename}\""));
    }
    head.push_str("\r\n");
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
    out
}

fn body(parts: &[Vec<u8>]) -> Bytes {
    let mut out = parts.concat();
    out.extend_from_slice(b"--XyZ--\r\n");
    Bytes::from(out)
}

fn file(name: &str, content: &[u8]) -> Vec<u8> {
    part("attachment", content, Some(name), Some("image/png"))
}

fn text(name: &str, content: &str) -> Vec<u8> {
    part(name, content.as_bytes(), None, None)
}

fn config() -> AttachmentConfig {
    AttachmentConfig { max_size_bytes: 1000, ..AttachmentConfig::default() }
}

async fn parse(content_type: Option<&str>, parts: &[Vec<u8>]) -> Result<Upload, ApiError> {
    parse_upload(content_type, body(parts), &config()).await
}

/// The error body (status, errno, message and details) for a failing upload.
async fn error(content_type: Option<&str>, parts: &[Vec<u8>]) -> Value {
    let err = parse(content_type, parts).await.expect_err("upload should fail");
    let mut body = err.body("");
    body["status"] = json!(err.status());
    body
}

/// A 400 errno 109 error ("Bad Request") with only a message.
async fn assert_posted_data_error(parts: &[Vec<u8>], message: &str) {
    let body = error(Some(CT), parts).await;
    assert_eq!(body["status"], 400);
    assert_eq!(body["error"], "Bad Request");
    assert_eq!(body["message"], message);
    assert_eq!(body["errno"], 109);
    assert!(body.get("details").is_none());
}

/// A 400 errno 107 "Invalid parameters" error located in the body, with a `null` name.
async fn assert_body_error(parts: &[Vec<u8>], description: &str) {
    let body = error(Some(CT), parts).await;
    assert_eq!(
        body,
        json!({"status": 400, "code": 400, "errno": 107, "error": "Invalid parameters",
               "message": format!("body: {description}"),
               "details": [{"location": "body", "name": null, "description": description}]})
    );
}

#[tokio::test]
async fn parses_file_data_and_permissions() {
    let upload = parse(
        Some(CT),
        &[file("a.png", b"\x89PNG\r\n"), text("data", r#"{"a": 1}"#), text("permissions", r#"{"read": ["x"]}"#)],
    )
    .await
    .expect("valid upload");
    assert_eq!(upload.filename, "a.png");
    assert_eq!(upload.mimetype, "image/png");
    assert_eq!(&upload.bytes[..], b"\x89PNG\r\n");
    assert_eq!(upload.data, json!({"a": 1}).as_object().cloned());
    assert_eq!(upload.permissions, Some(json!({"read": ["x"]})));
    assert_eq!(upload.stored_extension().as_deref(), Some("png"));
}

#[tokio::test]
async fn file_only_upload() {
    let upload = parse(Some(CT), &[file("A.PNG", b"")]).await.expect("valid upload");
    assert_eq!((&upload.data, &upload.permissions), (&None, &None));
    assert!(upload.bytes.is_empty());
    assert_eq!(upload.stored_extension().as_deref(), Some("png"));
}

#[tokio::test]
async fn mimetype_is_the_declared_type_or_text_plain() {
    let declared = part("attachment", b"x", Some("a.txt"), Some("Text/Plain; charset=utf-8"));
    assert_eq!(parse(Some(CT), &[declared]).await.expect("upload").mimetype, "Text/Plain");
    let undeclared = part("attachment", b"x", Some("a.png"), None);
    assert_eq!(parse(Some(CT), &[undeclared]).await.expect("upload").mimetype, "text/plain");
    let config = AttachmentConfig { extensions: Default::default(), ..config() };
    let pem = body(&[part("attachment", b"x", Some("k.pem"), Some("text/plain"))]);
    assert_eq!(parse_upload(Some(CT), pem, &config).await.expect("upload").mimetype, "application/x-pem-file");
}

#[tokio::test]
async fn quoted_boundary_and_unicode_filename() {
    let ct = "multipart/form-data; boundary=\"XyZ\"";
    let upload = parse(Some(ct), &[file("héllo wörld.png", b"x")]).await.expect("upload");
    assert_eq!(upload.filename, "héllo wörld.png");
    let upload = parse(Some(CT), &[file("../../etc/x.png", b"x")]).await.expect("upload");
    assert_eq!(upload.filename, "../../etc/x.png");
}

#[tokio::test]
async fn the_last_attachment_part_wins() {
    let second = part("attachment", b"second", Some("b.txt"), Some("text/plain"));
    let upload = parse(Some(CT), &[file("a.png", b"first"), second]).await.expect("upload");
    assert_eq!((upload.filename.as_str(), &upload.bytes[..]), ("b.txt", &b"second"[..]));
}

#[tokio::test]
async fn not_multipart() {
    let expected = json!({"status": 400, "code": 400, "errno": 107, "error": "Bad Request",
                          "message": "Content-Type should be multipart/form-data"});
    assert_eq!(error(Some("application/json"), &[]).await, expected);
    assert_eq!(error(None, &[]).await, expected);
    assert_eq!(error(Some("multipart/mixed; boundary=XyZ"), &[file("a.png", b"x")]).await, expected);
}

#[tokio::test]
async fn missing_boundary() {
    let body = error(Some("multipart/form-data"), &[file("a.png", b"x")]).await;
    assert_eq!(body["errno"], 107);
    assert_eq!(body["message"], "Invalid boundary in multipart form: b''");
}

#[tokio::test]
async fn attachment_missing() {
    assert_posted_data_error(&[text("data", "{}")], "Attachment missing.").await;
    assert_posted_data_error(&[], "Attachment missing.").await;
    let garbage = parse_upload(Some(CT), Bytes::from_static(b"garbage"), &config()).await;
    assert_eq!(garbage.expect_err("fails").body("")["message"], "Attachment missing.");
    let truncated = Bytes::from_static(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.png\"\r\n\r\nabc",
    );
    let truncated = parse_upload(Some(CT), truncated, &config()).await;
    assert_eq!(truncated.expect_err("fails").body("")["message"], "Attachment missing.");
}

#[tokio::test]
async fn filename_required() {
    assert_body_error(&[text("attachment", "hello")], "Filename is required.").await;
    assert_body_error(&[part("attachment", b"x", Some(""), None)], "Filename is required.").await;
    // RFC 5987 `filename*` alone is not understood by the reference either.
    let star = b"--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename*=UTF-8''%C3%A9.png\r\n\r\nx\r\n--XyZ--\r\n";
    let err = parse_upload(Some(CT), Bytes::from_static(star), &config()).await.expect_err("fails");
    assert_eq!(err.body("")["message"], "body: Filename is required.");
}

#[tokio::test]
async fn file_too_large() {
    assert_body_error(&[file("a.png", &[0; 1001])], "File size (1001 bytes) exceeds the limit (1000 bytes).").await;
    // Size is checked before the extension, as the reference does.
    assert_body_error(&[file("a.exe", &[0; 1001])], "File size (1001 bytes) exceeds the limit (1000 bytes).").await;
    assert!(parse(Some(CT), &[file("a.png", &[0; 1000])]).await.is_ok());
    let unlimited = AttachmentConfig { max_size_bytes: 0, ..config() };
    assert!(parse_upload(Some(CT), body(&[file("a.png", &[0; 5000])]), &unlimited).await.is_ok());
}

#[tokio::test]
async fn extension_not_allowed() {
    for name in ["a.exe", "README", ".png", "a.tar.gz", "a.", "dir.png/file"] {
        assert_body_error(&[file(name, b"x")], "File extension is not allowed.").await;
    }
}

#[tokio::test]
async fn data_and_permissions_must_be_json() {
    let png = || file("a.png", b"x");
    assert_posted_data_error(
        &[png(), text("data", r#"{"a":"#)],
        "body: data is not valid JSON (Expecting value: line 1 column 6 (char 5))",
    )
    .await;
    assert_posted_data_error(
        &[png(), text("data", "nope")],
        "body: data is not valid JSON (Expecting value: line 1 column 1 (char 0))",
    )
    .await;
    assert_posted_data_error(
        &[png(), text("data", "")],
        "body: data is not valid JSON (Expecting value: line 1 column 1 (char 0))",
    )
    .await;
    assert_posted_data_error(
        &[png(), text("data", "{} x")],
        "body: data is not valid JSON (Extra data: line 1 column 4 (char 3))",
    )
    .await;
    assert_posted_data_error(
        &[png(), text("permissions", "{")],
        "body: permissions is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
    )
    .await;
    // `data` is checked before `permissions`, whatever the part order.
    assert_posted_data_error(
        &[png(), text("permissions", "{"), text("data", "[")],
        "body: data is not valid JSON (Expecting value: line 1 column 2 (char 1))",
    )
    .await;
}

#[tokio::test]
async fn data_and_permissions_are_not_files() {
    let data_file = part("data", b"{}", Some("d.json"), Some("application/json"));
    assert_posted_data_error(
        &[file("a.png", b"x"), data_file],
        "body: 'data' field should be passed as form data, not files",
    )
    .await;
    let perms_file = part("permissions", b"{}", Some("p.json"), None);
    assert_posted_data_error(
        &[file("a.png", b"x"), perms_file],
        "body: 'permissions' field should be passed as form data, not files",
    )
    .await;
}

#[tokio::test]
async fn data_must_be_an_object() {
    let body = error(Some(CT), &[file("a.png", b"x"), text("data", "[1]")]).await;
    assert_eq!(body["errno"], 107);
    assert_eq!(
        body["message"],
        "data in body: \"[1]\" is not a mapping type: Does not implement dict-like functionality."
    );
    let body = error(Some(CT), &[file("a.png", b"x"), text("data", "null")]).await;
    assert_eq!(
        body["details"][0]["description"],
        "\"None\" is not a mapping type: Does not implement dict-like functionality."
    );
    // Permissions are validated with the record.
    let upload = parse(Some(CT), &[file("a.png", b"x"), text("permissions", "[1]")]).await.expect("upload");
    assert_eq!(upload.permissions, Some(json!([1])));
}

#[tokio::test]
async fn unknown_fields() {
    let png = || file("a.png", b"x");
    assert_posted_data_error(
        &[png(), text("foo", "1"), text("bar", "2")],
        "body: 'foo' not in ('data', 'permissions')",
    )
    .await;
    let foo_file = part("foo", b"1", Some("f.txt"), None);
    assert_posted_data_error(&[png(), foo_file], "body: 'foo' not in ('data', 'permissions')").await;
    assert_posted_data_error(&[png(), text("it's", "1")], "body: \"it's\" not in ('data', 'permissions')").await;
    let nameless = b"--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.png\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data\r\n\r\nzz\r\n--XyZ--\r\n";
    let err = parse_upload(Some(CT), Bytes::from_static(nameless), &config()).await.expect_err("fails");
    assert_eq!(err.body("")["message"], "body: None not in ('data', 'permissions')");
    // Invalid JSON is reported before unknown fields.
    assert_posted_data_error(
        &[png(), text("foo", "1"), text("data", "{")],
        "body: data is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
    )
    .await;
}

#[test]
fn python_reprs() {
    assert_eq!(py_repr("foo"), "'foo'");
    assert_eq!(py_repr("it's"), "\"it's\"");
    assert_eq!(py_repr("a'\"b"), "'a\\'\"b'");
    assert_eq!(py_repr("a\nb\\"), "'a\\nb\\\\'");
}

#[test]
fn stored_extensions() {
    let with_name = |filename: &str| Upload {
        filename: filename.into(),
        mimetype: String::new(),
        bytes: Bytes::new(),
        data: None,
        permissions: None,
    };
    assert_eq!(with_name("a.JPEG").stored_extension().as_deref(), Some("jpeg"));
    assert_eq!(with_name("a").stored_extension(), None);
    assert_eq!(with_name("a.b c").stored_extension(), None);
    assert_eq!(with_name("a.").stored_extension(), None);
}
