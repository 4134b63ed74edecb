//! What is shared with a paired device: collections whose ACL (or whose bucket's ACL) grants
//! `read` or `write` to `device:<id>` directly or through a group it belongs to. Sharing is
//! nothing but Kinto permissions, so a grant made by plain Kinto calls counts the same as one
//! made here ([`set_share`], used by `kintoun share` and the UI's share dialog).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Sharing;
use super::identity::DeviceId;
use crate::error::ApiError;
use crate::storage::{Acl, DeviceRow, ListQuery, StorageError, StorageResult, Tx};

/// How much a device may do with a shared collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Read the records (a mirror that never pushes).
    Read,
    /// Read and write the records (a mirror that syncs both ways).
    Write,
}

/// One collection shared with a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub bucket: String,
    pub collection: String,
    pub access: Access,
    /// Where the strongest grant comes from: the collection's or the bucket's URI, or a group's.
    pub via: String,
    /// The collection's `title`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

fn access_of(permission: &str) -> Option<Access> {
    match permission {
        "read" => Some(Access::Read),
        "write" => Some(Access::Write),
        _ => None,
    }
}

fn title_of(data: &serde_json::Map<String, Value>) -> Option<String> {
    data.get("title").and_then(Value::as_str).map(str::to_owned)
}

/// The collections shared with `device`, by bucket then collection id.
pub fn shares_of(tx: &mut dyn Tx, device: &DeviceId) -> StorageResult<Vec<Share>> {
    let principal = device.principal();
    let mut principals = vec![principal.clone()];
    principals.extend(tx.member_of(&[principal.as_str()])?);
    let mut found: BTreeMap<(String, String), Share> = BTreeMap::new();
    let mut keep = |share: Share| {
        let key = (share.bucket.clone(), share.collection.clone());
        match found.get(&key) {
            Some(known) if known.access >= share.access => {}
            _ => {
                found.insert(key, share);
            }
        }
    };
    for (uri, permission) in tx.aces_of(&principals)? {
        let Some(access) = access_of(&permission) else { continue };
        let via = uri.clone();
        let parts: Vec<&str> = uri.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["buckets", bucket, "collections", collection] => {
                let parent = format!("/buckets/{bucket}");
                let Some(object) = tx.get(&parent, "collection", collection)?.filter(|o| !o.deleted) else { continue };
                keep(Share {
                    bucket: bucket.to_string(),
                    collection: collection.to_string(),
                    access,
                    via,
                    title: title_of(&object.data),
                });
            }
            ["buckets", bucket] => {
                let parent = format!("/buckets/{bucket}");
                for object in tx.list(&parent, "collection", &ListQuery::default())? {
                    if object.deleted {
                        continue;
                    }
                    keep(Share {
                        bucket: bucket.to_string(),
                        collection: object.id.clone(),
                        access,
                        via: via.clone(),
                        title: title_of(&object.data),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(found.into_values().collect())
}

/// Gives `device` `access` to a collection (`None`: takes its own grants on it away; grants
/// through the bucket or a group stay). The collection must exist.
pub fn set_share(
    tx: &mut dyn Tx,
    device: &DeviceId,
    bucket: &str,
    collection: &str,
    access: Option<Access>,
) -> Result<(), ApiError> {
    let parent = format!("/buckets/{bucket}");
    let uri = format!("{parent}/collections/{collection}");
    if tx.get("", "bucket", bucket)?.filter(|o| !o.deleted).is_none() {
        return Err(ApiError::ObjectNotFound { id: bucket.to_owned(), resource_name: "bucket" });
    }
    if tx.get(&parent, "collection", collection)?.filter(|o| !o.deleted).is_none() {
        return Err(ApiError::ObjectNotFound { id: collection.to_owned(), resource_name: "collection" });
    }
    let principal = device.principal();
    let mut acl: Acl = tx.acl(&uri)?;
    for permission in ["read", "write"] {
        if let Some(holders) = acl.get_mut(permission) {
            holders.remove(&principal);
        }
    }
    match access {
        Some(Access::Write) => {
            acl.entry("write".to_owned()).or_default().insert(principal);
        }
        Some(Access::Read) => {
            acl.entry("read".to_owned()).or_default().insert(principal);
        }
        None => {}
    }
    acl.retain(|_, holders| !holders.is_empty());
    tx.set_acl(&uri, &acl)?;
    Ok(())
}

/// The path a paired device asks for what this device shares with it.
pub const SHARED_PATH: &str = "/v1/__devices__/shared";

/// How long a paired device has to answer "what do you share with me?".
const ASK_TIMEOUT: Duration = Duration::from_secs(4);

/// What one paired device shares with this one, as it answered (or why it did not).
#[derive(Debug, Clone, Serialize)]
pub struct PeerShares {
    pub device: String,
    pub display_id: String,
    pub name: String,
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub shares: Vec<Share>,
}

/// What a device answers on [`SHARED_PATH`].
#[derive(Debug, Deserialize)]
struct SharedAnswer {
    shares: Vec<Share>,
}

/// Asks every paired device, at once, what it shares with this one.
pub async fn shared_with_me(sharing: &Arc<Sharing>) -> Result<Vec<PeerShares>, StorageError> {
    let mut asks = tokio::task::JoinSet::new();
    for (index, row) in sharing.paired().await?.into_iter().enumerate() {
        let sharing = sharing.clone();
        asks.spawn(async move { (index, ask(&sharing, row).await) });
    }
    let mut answers: Vec<(usize, PeerShares)> = asks.join_all().await;
    answers.sort_by_key(|(index, _)| *index);
    Ok(answers.into_iter().map(|(_, answer)| answer).collect())
}

async fn ask(sharing: &Sharing, row: DeviceRow) -> PeerShares {
    let display_id = DeviceId::parse(&row.id).map(|id| id.display()).unwrap_or_else(|_| row.id.clone());
    let answer = tokio::time::timeout(ASK_TIMEOUT, sharing.ask_peer(&row, http::Method::GET, SHARED_PATH, None)).await;
    let outcome = match answer {
        Err(_) => Err("it did not answer in time".to_owned()),
        Ok(Err(err)) => Err(err.to_string()),
        Ok(Ok((status, body))) if status.is_success() => serde_json::from_slice::<SharedAnswer>(&body)
            .map(|answer| answer.shares)
            .map_err(|err| format!("unreadable answer: {err}")),
        Ok(Ok((status, _))) => Err(format!("it answered {status}")),
    };
    let (reachable, error, shares) = match outcome {
        Ok(shares) => (true, None, shares),
        Err(error) => (false, Some(error), Vec::new()),
    };
    PeerShares { device: row.id, display_id, name: row.name, reachable, error, shares }
}
