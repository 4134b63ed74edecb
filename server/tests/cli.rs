//! The `kintoun` command line, run as a real process: `kintoun account add`, serving with
//! Kintoun's own (desktop-safe) defaults, and serving a Kinto `.ini` file as is.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

/// A running `kintoun serve`, killed when dropped.
struct Server {
    child: Child,
    root: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kintoun() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kintoun"));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("KINTOUN_") || key.starts_with("KINTO_") {
            command.env_remove(key);
        }
    }
    command
}

/// Starts `kintoun serve --bind 127.0.0.1:0 <args>` and waits for its "listening on" line.
fn serve(args: &[&str]) -> Server {
    let mut child = kintoun()
        .arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kintoun");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.trim_end_matches("/v1/").to_owned());
            }
        }
    });
    let address = rx.recv_timeout(Duration::from_secs(30)).expect("the server announces its address");
    Server { child, root: format!("http://{address}") }
}

fn add_account(data_dir: &Path, name: &str, password: &str) -> String {
    let mut child = kintoun()
        .args(["account", "add", name, "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kintoun account add");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write password");
    let output = child.wait_with_output().expect("account add finishes");
    assert!(output.status.success(), "account add failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn get(client: &Client, url: &str, auth: Option<(&str, &str)>) -> (u16, Value) {
    let mut request = client.get(url);
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn default_settings_with_an_admin_account_made_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(add_account(dir.path(), "admin", "s3cret").trim(), "account:admin saved");
    let server = serve(&["--data-dir", dir.path().to_str().expect("utf-8 path")]);
    let client = Client::new();

    let (status, hello) = get(&client, &format!("{}/v1/", server.root), Some(("admin", "s3cret"))).await;
    assert_eq!(status, 200);
    assert_eq!(hello["user"]["id"], "account:admin");
    assert_eq!(hello["project_name"], "kintoun");
    // Desktop-safe defaults: accounts, not accept-any Basic Auth.
    assert!(hello["capabilities"].get("basicauth").is_none());
    let (_, anonymous) = get(&client, &format!("{}/v1/", server.root), Some(("admin", "wrong"))).await;
    assert!(anonymous.get("user").is_none());

    // Nobody but the admin creates accounts.
    let signup = client
        .put(format!("{}/v1/accounts/eve", server.root))
        .json(&json!({"data": {"password": "x"}}))
        .send()
        .await
        .expect("request");
    assert_eq!(signup.status().as_u16(), 401);
    let created = client
        .put(format!("{}/v1/accounts/eve", server.root))
        .basic_auth("admin", Some("s3cret"))
        .json(&json!({"data": {"password": "x"}}))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status().as_u16(), 201);
    let (status, hello) = get(&client, &format!("{}/v1/", server.root), Some(("eve", "x"))).await;
    assert_eq!((status, hello["user"]["id"].clone()), (200, json!("account:eve")));

    // Setting the password again replaces it.
    drop(server);
    add_account(dir.path(), "admin", "changed");
    let server = serve(&["--data-dir", dir.path().to_str().expect("utf-8 path")]);
    let (_, hello) = get(&client, &format!("{}/v1/", server.root), Some(("admin", "changed"))).await;
    assert_eq!(hello["user"]["id"], "account:admin");
}

#[tokio::test]
async fn a_kinto_ini_file_is_served_as_is() {
    let ini = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/reference/ref.ini"));
    assert!(ini.exists(), "the reference configuration is expected at {}", ini.display());
    let dir = tempfile::tempdir().expect("tempdir");
    let server =
        serve(&["--config", ini.to_str().expect("utf-8 path"), "--data-dir", dir.path().to_str().expect("utf-8")]);
    let (status, hello) = get(&Client::new(), &format!("{}/v1/", server.root), Some(("alice", "secret"))).await;
    assert_eq!(status, 200);
    // Same secrets, same user id and personal bucket as the reference.
    assert_eq!(hello["user"]["id"], "basicauth:455839bc748c30d433b0696c78551fbdbf40244a51965b4439a541a770230319");
    for capability in ["accounts", "basicauth", "default_bucket", "history", "schema", "permissions_endpoint"] {
        assert!(hello["capabilities"].get(capability).is_some(), "{capability}");
    }
}
