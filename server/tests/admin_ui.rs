//! The admin plugin: the web UI at `/v1/admin/` (redirect, files with types and caching, SPA
//! fallback, path safety, methods) and its absence when the plugin is not included. Debug builds
//! read `ui/dist` from disk, so the file checks run against a built UI (`make ui`) and the
//! "not built" page otherwise.

mod common;

use reqwest::Method;

fn ui_built() -> bool {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html").is_file()
}

#[tokio::test]
async fn admin_redirects_and_refuses_writes() {
    let s = common::start().await;
    let r = s.call(Method::GET, "/v1/admin", None, None).await;
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some(format!("{}/v1/admin/", s.root).as_str()));
    let r = s.call(Method::POST, "/v1/admin/", None, None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.json["errno"], 115);
    for path in ["/v1/admin/../__heartbeat__", "/v1/admin/%2e%2e/Cargo.toml", "/v1/admin/a%5Cb.js", "/v1/admin/nope.js"]
    {
        let r = s.call(Method::GET, path, None, None).await;
        assert!(r.status == 404 || (r.status == 200 && !path.contains("Cargo")), "{path}: {}", r.status);
        assert!(!r.text.contains("[workspace]"), "{path} leaked a file");
    }
}

#[tokio::test]
async fn admin_serves_the_ui_or_explains_it_is_not_built() {
    let s = common::start().await;
    let index = s.call(Method::GET, "/v1/admin/", None, None).await;
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert!(index.header("content-type").unwrap_or_default().starts_with("text/html"));
    if !ui_built() {
        assert_eq!(index.status, 404);
        assert!(index.text.contains("make ui"), "{}", index.text);
        return;
    }
    assert_eq!(index.status, 200);
    assert!(index.text.contains("<base href=\"/v1/admin/\">"));
    assert!(index.header("content-security-policy").unwrap_or_default().starts_with("default-src 'self'"));
    // Routes of the UI fall back to index.html; missing files do not.
    let deep = s.call(Method::GET, "/v1/admin/buckets/b1", None, None).await;
    assert_eq!((deep.status, deep.text.as_str()), (200, index.text.as_str()));
    assert_eq!(s.call(Method::GET, "/v1/admin/assets/missing-1234.js", None, None).await.status, 404);
    // Hashed assets: right type, cached for good, revalidated by ETag.
    let script = regex::Regex::new(r#"src="\./(assets/[^"]+\.js)""#).expect("regex");
    let asset = script.captures(&index.text).map(|c| c[1].to_owned()).expect("index.html names its script");
    let js = s.call(Method::GET, &format!("/v1/admin/{asset}"), None, None).await;
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(js.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let etag = js.header("etag").expect("etag").to_owned();
    let again =
        s.req(Method::GET, &format!("/v1/admin/{asset}")).header("if-none-match", &etag).send().await.expect("request");
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn without_the_plugin_there_is_no_admin() {
    let s = common::start_with(r#"includes = ["default_bucket", "accounts", "history"]"#).await;
    let hello = s.call(Method::GET, "/v1/", None, None).await;
    assert!(hello.json["capabilities"].get("admin").is_none());
    assert_eq!(s.call(Method::GET, "/v1/admin", None, None).await.status, 404);
    assert_ne!(s.call(Method::GET, "/v1/admin/", None, None).await.status, 200);
}
