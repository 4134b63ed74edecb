//! Accounts plugin (KINTO_API.md §9.2 ACCT-*, §9.1 AUTH-MULTI). Every expected value was checked
//! against the reference Kinto 26.5.0 server (`accounts basicauth` policies, `account:admin` as the
//! accounts administrator, sign-up open to everyone). bcrypt hashes and timestamps are asserted by shape.

mod common;

use common::helpers::{FORBIDDEN, UNAUTHORIZED, delete, get, patch, post, put};

use common::{Reply, TestServer};
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// helpers

/// `basicauth:` ids the reference gives to credentials that do not match an account.
const BOB_WRONG_ID: &str = "basicauth:30b59ba77d9088a253c309f1881eea0513bbc9f3c0d5bb4826a94e9af2b09dcc";
/// Personal bucket of `account:bob` (reference hello `user.bucket`).
const BOB_ACCOUNT_BUCKET: &str = "343e786e-dc6c-a189-11d8-0752c97918d4";

/// Creates an account anonymously (sign-up) and returns the reply.
async fn signup(s: &TestServer, id: &str, password: &str) -> Reply {
    let r = put(s, &format!("/v1/accounts/{id}"), None, json!({"data": {"password": password}})).await;
    assert_eq!(r.status, 201, "sign-up of {id}: {}", r.text);
    r
}

/// The user id hello reports for these credentials (None when anonymous).
async fn whoami(s: &TestServer, auth: &str) -> Option<String> {
    let r = get(s, "/v1/", Some(auth)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["user"]["id"].as_str().map(str::to_owned)
}

/// A bcrypt hash as Kinto stores it: `$2b$12$` + 53 characters of the bcrypt alphabet.
#[track_caller]
fn assert_bcrypt(value: &Value) {
    let hash = value.as_str().unwrap_or_else(|| panic!("password should be a string: {value}"));
    assert!(hash.starts_with("$2b$12$"), "bcrypt prefix: {hash}");
    assert_eq!(hash.len(), 60, "bcrypt length: {hash}");
    assert!(hash[7..].chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/'), "bcrypt alphabet: {hash}");
}

/// Checks an account object reply: status, `{"data": {"id", "password": <bcrypt>, "last_modified"},
/// "permissions": perms}`, `ETag` = `last_modified`. Returns the hash.
#[track_caller]
fn expect_account(r: &Reply, status: u16, id: &str, perms: Value) -> String {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let data = r.json["data"].as_object().unwrap_or_else(|| panic!("data object: {}", r.text));
    let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "last_modified", "password"], "data keys: {}", r.text);
    assert_eq!(data["id"], json!(id));
    assert_bcrypt(&data["password"]);
    let ts = data["last_modified"].as_i64().expect("last_modified integer");
    assert_eq!(r.etag(), ts, "ETag is the account timestamp");
    assert_eq!(r.json["permissions"], perms, "permissions: {}", r.text);
    data["password"].as_str().expect("present").to_owned()
}

#[track_caller]
fn expect_json(r: &Reply, status: u16, body: &str) {
    assert_eq!(r.status, status, "status; body was {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let expected: Value = serde_json::from_str(body).expect("expected body parses");
    assert_eq!(r.json, expected, "body");
}

#[track_caller]
fn expect_401(r: &Reply) {
    expect_json(r, 401, UNAUTHORIZED);
    assert_eq!(r.header_all("www-authenticate"), ["Basic realm=\"Realm\"", "Basic realm=\"Realm\""]);
}

#[track_caller]
fn expect_invalid(r: &Reply, location: &str, name: Value, message: &str, description: &str) {
    assert_eq!(r.status, 400, "status; body was {}", r.text);
    assert_eq!(
        r.json,
        json!({"code": 400, "errno": 107, "error": "Invalid parameters", "message": message,
               "details": [{"location": location, "name": name, "description": description}]})
    );
}

// ------------------------------------------------------------------------------------------------
// ACCT-ENABLE

/// ACCT-ENABLE: capability `accounts` with `validation_enabled: false`.
#[tokio::test]
async fn accounts_capability() {
    let s = common::start().await;
    let r = get(&s, "/v1/", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json["capabilities"]["accounts"],
        json!({
            "description": "Manage user accounts.",
            "url": "https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html",
            "validation_enabled": false
        })
    );
}

// ------------------------------------------------------------------------------------------------
// ACCT-CREATE

/// ACCT-CREATE: anonymous `PUT /accounts/<id>` → 201, bcrypt hash returned, owned by `account:<id>`.
#[tokio::test]
async fn signup_with_put() {
    let s = common::start().await;
    let r = put(&s, "/v1/accounts/bob", None, json!({"data": {"password": "pw"}})).await;
    let hash = expect_account(&r, 201, "bob", json!({"write": ["account:bob"]}));
    assert_ne!(hash, "pw");
    assert!(r.header("last-modified").is_some(), "Last-Modified");
    // Reading it back gives the same hash.
    let back = get(&s, "/v1/accounts/bob", Some("bob:pw")).await;
    assert_eq!(expect_account(&back, 200, "bob", json!({"write": ["account:bob"]})), hash);
    assert_eq!(back.header("cache-control"), Some("no-cache, no-store"));
    assert_eq!(back.json["data"]["last_modified"], r.json["data"]["last_modified"]);
}

/// ACCT-CREATE: `POST /accounts` with `data.id` is equivalent; an existing id answers 200 to its owner.
#[tokio::test]
async fn signup_with_post() {
    let s = common::start().await;
    let r = post(&s, "/v1/accounts", None, json!({"data": {"id": "carl", "password": "pw"}})).await;
    expect_account(&r, 201, "carl", json!({"write": ["account:carl"]}));
    assert_eq!(whoami(&s, "carl:pw").await.as_deref(), Some("account:carl"));
    // POST of one's own existing id → 200 with the existing account (unchanged).
    let again = post(&s, "/v1/accounts", Some("carl:pw"), json!({"data": {"id": "carl", "password": "other"}})).await;
    expect_account(&again, 200, "carl", json!({"write": ["account:carl"]}));
    assert_eq!(again.json["data"], r.json["data"]);
    assert_eq!(whoami(&s, "carl:pw").await.as_deref(), Some("account:carl"));
}

/// ACCT-CREATE: missing `data.id` on POST, missing `password` on PUT and POST → 400.
#[tokio::test]
async fn signup_validation_errors() {
    let s = common::start().await;
    let r = post(&s, "/v1/accounts", None, json!({"data": {"password": "pw"}})).await;
    expect_invalid(&r, "body", json!("data.id"), "data.id in body: Required", "data.id in body: Required");
    let r = put(&s, "/v1/accounts/dan", None, json!({"data": {}})).await;
    expect_invalid(&r, "body", json!("data.password"), "data.password in body: Required", "Required");
    let r = put(&s, "/v1/accounts/dan", None, json!({"data": {"id": "dan"}})).await;
    expect_invalid(&r, "body", json!("data.password"), "data.password in body: Required", "Required");
    let r = post(&s, "/v1/accounts", None, json!({"data": {"id": "dan"}})).await;
    expect_invalid(&r, "body", json!("data.password"), "data.password in body: Required", "Required");
    // A body id different from the path id.
    let r = put(&s, "/v1/accounts/zed", None, json!({"data": {"id": "other", "password": "x"}})).await;
    expect_invalid(
        &r,
        "body",
        json!("id"),
        "Object id does not match existing object",
        "Object id does not match existing object",
    );
    // Nothing was created.
    assert_eq!(whoami(&s, "dan:x").await.as_deref().map(|id| id.starts_with("basicauth:")), Some(true));
}

/// ACCT-CREATE: an authenticated non-admin can only address their own id.
#[tokio::test]
async fn non_admin_cannot_create_other_accounts() {
    let s = common::start().await;
    signup(&s, "frank", "fpw").await;
    signup(&s, "carl", "cpw").await;
    let message = "data.id in body: Username and account ID do not match.";
    let description = "Username and account ID do not match.";
    let r = put(&s, "/v1/accounts/erin", Some("frank:fpw"), json!({"data": {"password": "pw"}})).await;
    expect_invalid(&r, "body", json!("data.id"), message, description);
    let r = post(&s, "/v1/accounts", Some("frank:fpw"), json!({"data": {"id": "george", "password": "x"}})).await;
    expect_invalid(&r, "body", json!("data.id"), message, description);
    // Also for an existing account of somebody else.
    let r = put(&s, "/v1/accounts/carl", Some("frank:fpw"), json!({"data": {"password": "x"}})).await;
    expect_invalid(&r, "body", json!("data.id"), message, description);
    // A basicauth user is authenticated too: same answer.
    let r = put(&s, "/v1/accounts/erin", Some("alice:secret"), json!({"data": {"password": "pw"}})).await;
    expect_invalid(&r, "body", json!("data.id"), message, description);
    assert!(whoami(&s, "erin:pw").await.expect("present").starts_with("basicauth:"));
    assert_eq!(whoami(&s, "carl:cpw").await.as_deref(), Some("account:carl"));
}

/// ACCT-CREATE: an admin creates accounts for others; they are owned by the new account, not the admin.
#[tokio::test]
async fn admin_creates_accounts_owned_by_the_new_user() {
    let s = common::start().await;
    signup(&s, "admin", "adminpw").await;
    let r = put(&s, "/v1/accounts/frank", Some("admin:adminpw"), json!({"data": {"password": "fpw"}})).await;
    expect_account(&r, 201, "frank", json!({"write": ["account:frank"]}));
    let r = post(&s, "/v1/accounts", Some("admin:adminpw"), json!({"data": {"id": "gina", "password": "gpw"}})).await;
    expect_account(&r, 201, "gina", json!({"write": ["account:gina"]}));
    assert_eq!(whoami(&s, "frank:fpw").await.as_deref(), Some("account:frank"));
    assert_eq!(whoami(&s, "gina:gpw").await.as_deref(), Some("account:gina"));
}

/// ACCT-CREATE: PUT on an existing account anonymously → 401.
#[tokio::test]
async fn anonymous_put_on_existing_account_is_401() {
    let s = common::start().await;
    signup(&s, "carl", "cpw").await;
    let r = put(&s, "/v1/accounts/carl", None, json!({"data": {"password": "again"}})).await;
    expect_401(&r);
    assert_eq!(whoami(&s, "carl:cpw").await.as_deref(), Some("account:carl"));
}

// ------------------------------------------------------------------------------------------------
// ACCT-ID

/// ACCT-ID: `^[a-zA-Z0-9][+.@a-zA-Z0-9_-]*$`, e-mail addresses allowed.
#[tokio::test]
async fn account_id_format() {
    let s = common::start().await;
    for bad in ["-bad", "_x", "a%20b"] {
        let r = put(&s, &format!("/v1/accounts/{bad}"), None, json!({"data": {"password": "x"}})).await;
        expect_invalid(&r, "path", Value::Null, "path: Invalid object id", "Invalid object id");
    }
    let r = put(&s, "/v1/accounts/jo.e+x@ex-ample.com", None, json!({"data": {"password": "x"}})).await;
    expect_account(&r, 201, "jo.e+x@ex-ample.com", json!({"write": ["account:jo.e+x@ex-ample.com"]}));
    assert_eq!(whoami(&s, "jo.e+x@ex-ample.com:x").await.as_deref(), Some("account:jo.e+x@ex-ample.com"));
}

// ------------------------------------------------------------------------------------------------
// ACCT-AUTH / AUTH-MULTI

/// ACCT-AUTH: right password → `account:<id>` with its principals and personal bucket; a wrong password
/// falls through to basicauth (AUTH-MULTI with `account basicauth`).
#[tokio::test]
async fn authentication_and_fallthrough() {
    let s = common::start().await;
    signup(&s, "bob", "pw").await;
    let r = get(&s, "/v1/", Some("bob:pw")).await;
    assert_eq!(r.status, 200);
    let user = &r.json["user"];
    assert_eq!(user["id"], json!("account:bob"));
    assert_eq!(user["bucket"], json!(BOB_ACCOUNT_BUCKET));
    let mut principals: Vec<&str> =
        user["principals"].as_array().expect("present").iter().filter_map(Value::as_str).collect();
    assert_eq!(principals.first(), Some(&"account:bob"));
    principals.sort_unstable();
    assert_eq!(principals, ["account:bob", "system.Authenticated", "system.Everyone"]);

    // Wrong password: basicauth user, which cannot read the account.
    assert_eq!(whoami(&s, "bob:wrong").await.as_deref(), Some(BOB_WRONG_ID));
    expect_json(&get(&s, "/v1/accounts/bob", Some("bob:wrong")).await, 403, FORBIDDEN);
}

// ------------------------------------------------------------------------------------------------
// ACCT-READ / ACCT-LIST

/// ACCT-READ: owner and admin read; another user 403; anonymous 401; missing account 404 for the admin.
#[tokio::test]
async fn reading_accounts() {
    let s = common::start().await;
    signup(&s, "bob", "pw").await;
    signup(&s, "carl", "cpw").await;
    signup(&s, "admin", "adminpw").await;
    let owner = get(&s, "/v1/accounts/bob", Some("bob:pw")).await;
    expect_account(&owner, 200, "bob", json!({"write": ["account:bob"]}));
    // The admin is not in the account's own write ACE, yet the reference shows the permissions.
    let admin = get(&s, "/v1/accounts/bob", Some("admin:adminpw")).await;
    expect_account(&admin, 200, "bob", json!({"write": ["account:bob"]}));
    assert_eq!(admin.json, owner.json);
    expect_json(&get(&s, "/v1/accounts/carl", Some("bob:pw")).await, 403, FORBIDDEN);
    expect_json(&get(&s, "/v1/accounts/zzz", Some("bob:pw")).await, 403, FORBIDDEN);
    expect_401(&get(&s, "/v1/accounts/bob", None).await);
    expect_json(
        &get(&s, "/v1/accounts/nobody", Some("admin:adminpw")).await,
        404,
        r#"{"code":404,"errno":110,"error":"Not Found","details":{"id":"nobody","resource_name":"account"}}"#,
    );
}

/// ACCT-READ: anonymous `GET /accounts` → 401 errno 999 "Cannot read accounts." without `message`.
#[tokio::test]
async fn anonymous_account_list_is_401_errno_999() {
    let s = common::start().await;
    signup(&s, "bob", "pw").await;
    let r = get(&s, "/v1/accounts", None).await;
    expect_json(&r, 401, r#"{"code":401,"errno":999,"error":"Cannot read accounts."}"#);
    assert!(r.header("www-authenticate").is_none(), "reference sends no challenge here");
}

/// ACCT-LIST: a user sees only their own account; the admin (in `account_read_principals`) sees all.
#[tokio::test]
async fn listing_accounts() {
    let s = common::start().await;
    let bob = signup(&s, "bob", "pw").await;
    let carl = signup(&s, "carl", "cpw").await;
    let admin = signup(&s, "admin", "adminpw").await;

    let r = get(&s, "/v1/accounts", Some("bob:pw")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-cache, no-store"));
    assert_eq!(r.json, json!({"data": [bob.json["data"]]}));
    assert_eq!(r.etag(), bob.etag(), "a user's list ETag is their account timestamp");

    let r = get(&s, "/v1/accounts", Some("admin:adminpw")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": [admin.json["data"], carl.json["data"], bob.json["data"]]}));

    // A basicauth user has no account: empty list.
    let r = get(&s, "/v1/accounts", Some("alice:secret")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": []}));
}

// ------------------------------------------------------------------------------------------------
// ACCT-UPDATE

/// ACCT-UPDATE: PATCH/PUT re-hash the password; the new one works at once, the old one no longer does.
#[tokio::test]
async fn password_change_takes_effect_immediately() {
    let s = common::start().await;
    let created = signup(&s, "bob", "pw").await;
    assert_eq!(whoami(&s, "bob:pw").await.as_deref(), Some("account:bob"));

    let r = patch(&s, "/v1/accounts/bob", Some("bob:pw"), json!({"data": {"password": "newpw"}})).await;
    let hash = expect_account(&r, 200, "bob", json!({"write": ["account:bob"]}));
    assert_ne!(json!(hash), created.json["data"]["password"]);
    assert!(r.json["data"]["last_modified"].as_i64() > created.json["data"]["last_modified"].as_i64());
    assert!(whoami(&s, "bob:pw").await.expect("present").starts_with("basicauth:"), "old password falls through");
    assert_eq!(whoami(&s, "bob:newpw").await.as_deref(), Some("account:bob"));

    let r = put(&s, "/v1/accounts/bob", Some("bob:newpw"), json!({"data": {"password": "pw3"}})).await;
    expect_account(&r, 200, "bob", json!({"write": ["account:bob"]}));
    assert!(whoami(&s, "bob:newpw").await.expect("present").starts_with("basicauth:"));
    assert_eq!(whoami(&s, "bob:pw3").await.as_deref(), Some("account:bob"));
}

/// ACCT-UPDATE: a user cannot change another account; the admin can (ownership unchanged); explicit
/// permissions in the body are kept next to the owner.
#[tokio::test]
async fn updating_other_accounts() {
    let s = common::start().await;
    signup(&s, "bob", "pw").await;
    signup(&s, "carl", "cpw").await;
    signup(&s, "admin", "adminpw").await;
    expect_json(
        &patch(&s, "/v1/accounts/carl", Some("bob:pw"), json!({"data": {"password": "x"}})).await,
        403,
        FORBIDDEN,
    );
    let r = patch(&s, "/v1/accounts/carl", Some("admin:adminpw"), json!({"data": {"password": "byadmin"}})).await;
    expect_account(&r, 200, "carl", json!({"write": ["account:carl"]}));
    assert_eq!(whoami(&s, "carl:byadmin").await.as_deref(), Some("account:carl"));

    let r = put(
        &s,
        "/v1/accounts/carl",
        Some("carl:byadmin"),
        json!({"data": {"password": "c2"}, "permissions": {"read": ["system.Everyone"]}}),
    )
    .await;
    expect_account(&r, 200, "carl", json!({"read": ["system.Everyone"], "write": ["account:carl"]}));
    assert_eq!(whoami(&s, "carl:c2").await.as_deref(), Some("account:carl"));
}

// ------------------------------------------------------------------------------------------------
// ACCT-DELETE

/// ACCT-DELETE: owner or admin delete → 200 tombstone; the credentials stop authenticating as the account.
#[tokio::test]
async fn deleting_accounts() {
    let s = common::start().await;
    signup(&s, "bob", "pw").await;
    signup(&s, "frank", "fpw").await;
    signup(&s, "admin", "adminpw").await;

    let r = delete(&s, "/v1/accounts/bob", Some("bob:pw")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ts = r.json["data"]["last_modified"].as_i64().expect("tombstone timestamp");
    assert_eq!(r.json, json!({"data": {"id": "bob", "last_modified": ts, "deleted": true}}));
    assert_eq!(r.etag(), ts);
    assert!(whoami(&s, "bob:pw").await.expect("present").starts_with("basicauth:"));

    let r = delete(&s, "/v1/accounts/frank", Some("admin:adminpw")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["deleted"], json!(true));
    expect_json(
        &get(&s, "/v1/accounts/frank", Some("admin:adminpw")).await,
        404,
        r#"{"code":404,"errno":110,"error":"Not Found","details":{"id":"frank","resource_name":"account"}}"#,
    );
    assert!(whoami(&s, "frank:fpw").await.expect("present").starts_with("basicauth:"));

    // The id is free again for a sign-up.
    let r = put(&s, "/v1/accounts/bob", None, json!({"data": {"password": "again"}})).await;
    expect_account(&r, 201, "bob", json!({"write": ["account:bob"]}));
    assert_eq!(whoami(&s, "bob:again").await.as_deref(), Some("account:bob"));
}
