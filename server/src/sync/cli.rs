//! `kintoun sync ...`: requests to the running server's `/v1/__sync__` endpoints as its owner
//! (through [`OwnerClient`]), printing one line per link, conflict or step.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::owner_client::OwnerClient;

/// The sync commands, sent to the running server as its owner.
pub struct SyncCommands {
    client: OwnerClient,
}

/// `bucket/collection` → its two ids.
pub fn split_collection(text: &str) -> Result<(String, String), String> {
    match text.split_once('/') {
        Some((bucket, collection)) if !bucket.is_empty() && !collection.is_empty() && !collection.contains('/') => {
            Ok((bucket.to_owned(), collection.to_owned()))
        }
        _ => Err(format!("{text:?} is not BUCKET/COLLECTION")),
    }
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// "12 s ago", "3 min ago", "never".
fn ago(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "never".into() };
    let seconds = (crate::storage::sqlite::now_ms() - ms).max(0) / 1000;
    match seconds {
        0..=119 => format!("{seconds} s ago"),
        120..=7199 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

/// One line for a link.
pub fn link_line(link: &Value) -> String {
    let arrow = if link["direction"] == "pull" { "<--" } else { "<->" };
    let remote = &link["remote"];
    let place = remote["url"].as_str().or(remote["device"].as_str()).unwrap_or("-");
    let mut line = format!(
        "{}  {}/{} {arrow} {} {}/{}  {}  last sync {}  conflicts {}",
        text(&link["id"]),
        text(&link["local"]["bucket"]),
        text(&link["local"]["collection"]),
        place,
        text(&remote["bucket"]),
        text(&remote["collection"]),
        text(&link["direction"]),
        ago(link["last_sync"].as_i64()),
        link["conflicts"].as_u64().unwrap_or(0),
    );
    if let Some(phase) = link["progress"]["phase"].as_str().filter(|p| *p != "idle") {
        line.push_str(&format!("  ({phase})"));
    }
    if let Some(error) = link["last_error"].as_str() {
        line.push_str(&format!("  error: {error}"));
    }
    line
}

/// One line of progress.
fn progress_line(progress: &Value) -> String {
    let total = progress["total"].as_u64().map(|t| format!("/{t}")).unwrap_or_default();
    format!(
        "{}: pulled {}{total} ({} pages), pushed {}, conflicts {}",
        text(&progress["phase"]),
        progress["pulled"].as_u64().unwrap_or(0),
        progress["pages"].as_u64().unwrap_or(0),
        progress["pushed"].as_u64().unwrap_or(0),
        progress["conflicts_found"].as_u64().unwrap_or(0),
    )
}

impl SyncCommands {
    pub fn new(client: OwnerClient) -> SyncCommands {
        SyncCommands { client }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.client.call(method, path, body.as_ref()).await
    }

    /// One line per link.
    pub async fn list(&self) -> Result<Vec<String>, String> {
        let links = self.call(Method::GET, "/__sync__/links", None).await?;
        let lines: Vec<String> = links["data"].as_array().into_iter().flatten().map(link_line).collect();
        Ok(if lines.is_empty() {
            vec!["no sync links (kintoun sync add URL BUCKET/COLLECTION --into ...)".into()]
        } else {
            lines
        })
    }

    /// Creates a link, then follows its first sync.
    pub async fn add(
        &self,
        url: &str,
        remote: (String, String),
        local: (String, String),
        credentials: Option<(String, String)>,
        pull_only: bool,
        print: impl FnMut(String),
    ) -> Result<(), String> {
        let mut remote_spec = match url.strip_prefix("device:") {
            Some(device) => {
                let id = crate::sharing::cli::paired_device_id(&self.client, device).await?;
                json!({"kind": "device", "device": id, "bucket": remote.0, "collection": remote.1})
            }
            None => json!({"url": url, "bucket": remote.0, "collection": remote.1}),
        };
        if let Some((user, password)) = credentials {
            remote_spec["user"] = json!(user);
            remote_spec["password"] = json!(password);
        }
        let body = json!({
            "local": {"bucket": local.0, "collection": local.1},
            "remote": remote_spec,
            "direction": if pull_only { "pull" } else { "both" },
        });
        let created = self.call(Method::POST, "/__sync__/links", Some(body)).await?;
        let mut print = print;
        print(format!("linked: {}", link_line(&created["data"])));
        let id = text(&created["data"]["id"]);
        self.follow(&id, created["data"]["progress"]["run"].as_u64().unwrap_or(1), print).await
    }

    /// Syncs a link now, printing progress until that run ends.
    pub async fn now(&self, id: &str, mut print: impl FnMut(String)) -> Result<(), String> {
        let started = self.call(Method::POST, &format!("/__sync__/links/{id}/sync"), None).await?;
        let run = started["data"]["run"].as_u64().ok_or("the server did not say which run")?;
        print(format!("sync of {id} asked (run {run})"));
        self.follow(id, run, print).await
    }

    /// Polls a link until run `run` finished; prints progress lines as they change.
    async fn follow(&self, id: &str, run: u64, mut print: impl FnMut(String)) -> Result<(), String> {
        let mut last = String::new();
        loop {
            let link = self.call(Method::GET, &format!("/__sync__/links/{id}"), None).await?;
            let progress = &link["data"]["progress"];
            if progress.is_null() {
                return Err("the link is not running".into());
            }
            let done = progress["completed_run"].as_u64().unwrap_or(0) >= run;
            let line = progress_line(progress);
            if line != last && !done {
                print(line.clone());
                last = line;
            }
            if done {
                print(format!(
                    "done: pulled {}, pushed {}, conflicts {} (in the inbox: {})",
                    progress["pulled"].as_u64().unwrap_or(0),
                    progress["pushed"].as_u64().unwrap_or(0),
                    progress["conflicts_found"].as_u64().unwrap_or(0),
                    link["data"]["conflicts"].as_u64().unwrap_or(0),
                ));
                return match progress["last_run_error"].as_str() {
                    Some(error) => Err(format!("the sync failed: {error}")),
                    None => Ok(()),
                };
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// One block per conflict: the record, mine, theirs, base.
    pub async fn conflicts(&self, id: &str) -> Result<Vec<String>, String> {
        let list = self.call(Method::GET, &format!("/__sync__/links/{id}/conflicts"), None).await?;
        let mut lines = Vec::new();
        for conflict in list["data"].as_array().into_iter().flatten() {
            lines.push(format!("{}  ({})", text(&conflict["record_id"]), text(&conflict["reason"])));
            lines.push(format!("  mine:   {}", conflict["mine"]));
            lines.push(format!("  theirs: {}", conflict["theirs"]));
            lines.push(format!("  base:   {}", conflict.get("base").unwrap_or(&Value::Null)));
        }
        if lines.is_empty() {
            lines.push(format!("no conflicts on {id}"));
        }
        Ok(lines)
    }

    /// Keeps mine or theirs for a record in conflict.
    pub async fn resolve(&self, id: &str, record: &str, resolution: &str) -> Result<String, String> {
        if !matches!(resolution, "mine" | "theirs") {
            return Err(format!("{resolution:?}: say mine or theirs (merges are made in the UI)"));
        }
        let body = json!({ "resolution": resolution });
        let resolved = self.call(Method::POST, &format!("/__sync__/links/{id}/conflicts/{record}"), Some(body)).await?;
        let push = if resolved["data"]["push"] == true { "; the next sync sends it" } else { "" };
        Ok(format!("kept {resolution} for {record}{push}"))
    }

    /// Removes a link.
    pub async fn remove(&self, id: &str) -> Result<String, String> {
        self.call(Method::DELETE, &format!("/__sync__/links/{id}"), None).await?;
        Ok(format!("removed link {id} (the data stays on both sides)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_bucket_slash_collection() {
        assert_eq!(split_collection("b/c"), Ok(("b".into(), "c".into())));
        for bad in ["b", "/c", "b/", "a/b/c"] {
            assert!(split_collection(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_link_line_says_where_which_way_and_what_went_wrong() {
        let link = json!({"id": "abc", "direction": "pull", "local": {"bucket": "b", "collection": "c"},
            "remote": {"url": "http://h/v1", "bucket": "rb", "collection": "rc"}, "last_sync": null,
            "conflicts": 2, "last_error": "boom", "progress": {"phase": "idle"}});
        assert_eq!(link_line(&link), "abc  b/c <-- http://h/v1 rb/rc  pull  last sync never  conflicts 2  error: boom");
    }
}
