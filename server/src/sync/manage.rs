//! Making and removing links. A new link is checked against the remote before anything is
//! stored — the server answers like Kinto, the credentials are accepted, the collection's
//! records can be listed — so the owner gets a clear 400 naming the field at fault. The local
//! bucket and collection are created (owned by the owner) when missing, the replicator gets
//! `write` on the collection, the credentials go to the secrets store (`sync-<id>`), and the
//! link's task starts with a first sync. Removing a link stops its task, forgets its state,
//! conflicts and credentials, and withdraws the replicator's grant when no other link uses
//! the collection. Local and remote data stay as they are.

use super::client::{ClientError, KintoClient};
use super::link::{self, KIND_DEVICE, KIND_KINTO, LinkView, NewLink};
use super::local;
use super::runner::Replicator;
use crate::error::{ApiError, Location};
use crate::storage::LinkRow;
use crate::storage::sqlite::now_ms;

fn invalid(name: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid(Location::Body, Some(name), description)
}

/// What a remote's failure during the checks means for the owner's request.
fn remote_refusal(err: ClientError, has_credentials: bool) -> ApiError {
    match &err {
        ClientError::Unauthorized { .. } if has_credentials => {
            invalid("remote.user", format!("the remote did not accept these credentials ({err})"))
        }
        ClientError::Unauthorized { .. } => {
            invalid("remote.user", format!("the remote collection needs credentials ({err})"))
        }
        ClientError::Forbidden { .. } => {
            invalid("remote.collection", format!("cannot read the remote collection's records ({err})"))
        }
        ClientError::NotFound { .. } => {
            invalid("remote.collection", format!("no such collection on the remote, or not readable ({err})"))
        }
        _ => invalid("remote.url", err.to_string()),
    }
}

/// A link row with nothing in it (for asking the device connector about a device).
fn blank() -> LinkRow {
    LinkRow {
        id: String::new(),
        local_bucket: String::new(),
        local_collection: String::new(),
        remote_kind: String::new(),
        remote_url: None,
        remote_device: None,
        remote_bucket: String::new(),
        remote_collection: String::new(),
        direction: String::new(),
        remote_checkpoint: 0,
        local_checkpoint: 0,
        last_sync: None,
        last_error: None,
        created_at: 0,
    }
}

/// Checks the remote, prepares the local collection, stores the link and starts it.
pub async fn create(replicator: &Replicator, new: NewLink, owner: &str) -> Result<LinkView, ApiError> {
    let authorization = new.authorization();
    let has_credentials = authorization.is_some();
    let device = match new.remote.kind.as_str() {
        KIND_DEVICE => new.remote.device.as_deref().and_then(|d| crate::sharing::DeviceId::parse(d).ok()),
        _ => None,
    };
    let client = match device {
        Some(device) => {
            let probe =
                LinkRow { remote_kind: KIND_DEVICE.to_owned(), remote_device: Some(device.compact()), ..blank() };
            replicator.client_for(&probe).await.map_err(|e| invalid("remote.device", e.to_string()))?
        }
        None => {
            let http = replicator.http().map_err(|e| ApiError::Backend(e.to_string()))?;
            KintoClient::new(http, &new.remote.url, authorization.clone())
                .map_err(|e| invalid("remote.url", e.to_string()))?
        }
    };
    let hello = client.hello().await.map_err(|e| remote_refusal(e, has_credentials))?;
    if has_credentials && hello.user.is_none() {
        return Err(invalid("remote.user", format!("{} did not accept these credentials", client.base())));
    }
    client
        .probe_collection(&new.remote.bucket, &new.remote.collection)
        .await
        .map_err(|e| remote_refusal(e, has_credentials))?;

    let collection = new.local_collection();
    let row = LinkRow {
        id: link::new_id(),
        local_bucket: collection.bucket.clone(),
        local_collection: collection.collection.clone(),
        remote_kind: if device.is_some() { KIND_DEVICE } else { KIND_KINTO }.to_owned(),
        remote_url: device.is_none().then(|| client.base().to_owned()),
        remote_device: device.map(|d| d.compact()),
        remote_bucket: new.remote.bucket.clone(),
        remote_collection: new.remote.collection.clone(),
        direction: new.direction.as_str().to_owned(),
        remote_checkpoint: 0,
        local_checkpoint: 0,
        last_sync: None,
        last_error: None,
        created_at: now_ms(),
    };
    let secret = super::secret_name(&row.id);
    if let Some(value) = authorization {
        let (secrets, name) = (replicator.secrets().clone(), secret.clone());
        tokio::task::spawn_blocking(move || secrets.set(&name, &value))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::Backend(format!("cannot keep the remote's credentials: {e}")))?;
    }
    let (settings, owner, stored) = (replicator.settings().clone(), owner.to_owned(), row.clone());
    let saved = replicator
        .store()
        .write(move |tx| {
            let same = |l: &LinkRow| {
                (&l.local_bucket, &l.local_collection, &l.remote_url, &l.remote_device, &l.remote_bucket)
                    == (
                        &stored.local_bucket,
                        &stored.local_collection,
                        &stored.remote_url,
                        &stored.remote_device,
                        &stored.remote_bucket,
                    )
                    && l.remote_collection == stored.remote_collection
            };
            if let Some(existing) = tx.sync_links()?.iter().find(|l| same(l)) {
                return Err(invalid(
                    "local",
                    format!("this collection is already linked to that remote (link {})", existing.id),
                ));
            }
            local::ensure_collection(tx, &settings, &collection, &owner)?;
            if !local::may_write(tx, &settings, &collection, &owner)? {
                return Err(ApiError::Forbidden);
            }
            local::grant_replicator(tx, &collection, true)?;
            tx.put_sync_link(&stored)?;
            Ok(())
        })
        .await;
    if let Err(err) = saved {
        let secrets = replicator.secrets().clone();
        let _ = tokio::task::spawn_blocking(move || secrets.delete(&secret)).await;
        return Err(err);
    }
    tracing::info!(link = %row.id, local = %format!("{}/{}", row.local_bucket, row.local_collection),
        remote = %format!("{} {}/{}", client.base(), row.remote_bucket, row.remote_collection), direction = %row.direction, "sync link created");
    replicator.spawn(&row.id);
    Ok(LinkView::of(&row, 0, replicator.progress(&row.id).and_then(|p| serde_json::to_value(p).ok())))
}

/// Stops and forgets a link; returns it as it was.
pub async fn remove(replicator: &Replicator, id: &str) -> Result<LinkRow, ApiError> {
    let not_found = || ApiError::ObjectNotFound { id: id.to_owned(), resource_name: "link" };
    let exists = {
        let id = id.to_owned();
        replicator.store().read(move |tx| tx.sync_link(&id)).await?
    };
    if exists.is_none() {
        return Err(not_found());
    }
    replicator.forget(id).await;
    let link_id = id.to_owned();
    let removed = replicator
        .store()
        .write(move |tx| {
            let Some(row) = tx.sync_link(&link_id)? else { return Ok::<_, ApiError>(None) };
            tx.delete_sync_link(&link_id)?;
            let collection = link::local_of(&row);
            let still_used = tx.sync_links()?.iter().any(|l| link::local_of(l) == collection);
            if !still_used {
                local::grant_replicator(tx, &collection, false)?;
            }
            Ok(Some(row))
        })
        .await?
        .ok_or_else(not_found)?;
    let (secrets, name) = (replicator.secrets().clone(), super::secret_name(id));
    match tokio::task::spawn_blocking(move || secrets.delete(&name)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::warn!(link = %id, error = %err, "cannot delete the link's credentials"),
        Err(err) => tracing::warn!(link = %id, error = %err, "cannot delete the link's credentials"),
    }
    tracing::info!(link = %id, "sync link removed");
    Ok(removed)
}
