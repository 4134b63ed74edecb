// "Shared with me" on the Sync page: what each paired device shares with this one (asked over
// the LAN; a device that does not answer is shown with the reason). A share not mirrored yet
// offers "Keep a copy" (local bucket, default a slug of the device's name → a `device` sync
// link, two-way for write access, pull-only for read); a mirrored one shows its link's state.

import { useState } from "preact/hooks";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { href } from "../router";
import { deviceLinkBody, isBusy, keepCopyDefaults, linkForShare, progressText, type PeerShares, type SharedCollection, type SyncLink, type Direction } from "../lib/sync";
import { ErrorBox, Spinner, formatDate } from "./ui";

export function SharedWithMe({ lanSharing, links, onLinked }: { lanSharing: boolean | undefined; links: SyncLink[]; onLinked: (link: SyncLink) => void }) {
  const { client } = useApp();
  const shared = useAsync(
    async () => (lanSharing ? (await client.get<{ devices: PeerShares[] }>("/__devices__/shared-with-me")).data.devices : []),
    [lanSharing],
  );
  if (lanSharing === undefined) return <Spinner />;
  if (!lanSharing) {
    return (
      <p class="shared-lan-off">
        LAN sharing is off on this device, so paired devices cannot share with it. <a href="#/devices">Turn it on in Devices</a>.
      </p>
    );
  }
  if (shared.loading && !shared.data) return <Spinner label="Asking paired devices…" />;
  const devices = shared.data ?? [];
  return (
    <div class="shared-with-me">
      <ErrorBox error={shared.error} onRetry={shared.reload} />
      {devices.length === 0 && !shared.error && (
        <p class="muted">
          No device is paired yet. <a href="#/devices">Pair one in Devices</a>.
        </p>
      )}
      <ul class="entries">
        {devices.map((peer) => (
          <li key={peer.device} class="entry peer" data-device={peer.device}>
            <div class="entry-head">
              <strong>{peer.name}</strong>
              {!peer.reachable && <span class="badge delete">unreachable</span>}
            </div>
            {!peer.reachable && <p class="muted small unreachable">Could not ask it: {peer.error ?? "no answer"}.</p>}
            {peer.reachable && peer.shares.length === 0 && <p class="muted small">It shares nothing with this device.</p>}
            {peer.shares.length > 0 && (
              <ul class="shares">
                {peer.shares.map((share) => (
                  <ShareRow key={`${share.bucket}/${share.collection}`} peer={peer} share={share} link={linkForShare(links, peer.device, share)} onLinked={onLinked} />
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
      <button class="link" onClick={shared.reload}>
        Ask again
      </button>
    </div>
  );
}

function ShareRow({ peer, share, link, onLinked }: { peer: PeerShares; share: SharedCollection; link?: SyncLink; onLinked: (link: SyncLink) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <li class="share" data-share={`${share.bucket}/${share.collection}`}>
      <div>
        <strong>{share.title ?? share.collection}</strong> <code class="muted small">{`${share.bucket}/${share.collection}`}</code>{" "}
        <span class="badge">{share.access === "write" ? "read and write" : "read-only"}</span>
      </div>
      {link ? <MirrorState link={link} /> : open ? <KeepCopyForm peer={peer} share={share} onDone={onLinked} onCancel={() => setOpen(false)} /> : (
        <button class="keep-copy" onClick={() => setOpen(true)}>
          Keep a copy
        </button>
      )}
    </li>
  );
}

function MirrorState({ link }: { link: SyncLink }) {
  const where = `${link.local.bucket}/${link.local.collection}`;
  return (
    <div class="mirror-state small">
      Copied into{" "}
      <a href={href(["buckets", link.local.bucket, "collections", link.local.collection])}>
        <code>{where}</code>
      </a>{" "}
      · {isBusy(link.progress) ? progressText(link.progress) : link.last_sync ? <span class="synced">Synced {formatDate(link.last_sync)}</span> : "Not synced yet"}
      {link.last_error && <span class="error-text"> · Last sync failed: {link.last_error}</span>}
      {link.conflicts > 0 && (
        <>
          {" · "}
          <a href={href(["sync", link.id, "conflicts"])}>{link.conflicts} conflict{link.conflicts === 1 ? "" : "s"}</a>
        </>
      )}
    </div>
  );
}

function KeepCopyForm({ peer, share, onDone, onCancel }: { peer: PeerShares; share: SharedCollection; onDone: (link: SyncLink) => void; onCancel: () => void }) {
  const { client } = useApp();
  const defaults = keepCopyDefaults(peer.name, share);
  const [bucket, setBucket] = useState(defaults.bucket);
  const [collection, setCollection] = useState(defaults.collection);
  const [direction, setDirection] = useState<Direction>(defaults.direction);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = deviceLinkBody(peer.device, share, { bucket, collection }, direction);
      const link = (await client.request<{ data: SyncLink }>("POST", "/__sync__/links", { body })).data.data;
      onDone(link);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="keep-copy-form inline" onSubmit={submit}>
      <label>
        Into local bucket
        <input name="local_bucket" required value={bucket} onInput={(e) => setBucket(e.currentTarget.value)} />
      </label>
      <label>
        Collection
        <input name="local_collection" required value={collection} onInput={(e) => setCollection(e.currentTarget.value)} />
      </label>
      {share.access === "write" ? (
        <label>
          Changes
          <select name="direction" value={direction} onChange={(e) => setDirection(e.currentTarget.value as Direction)}>
            <option value="both">Two-way (my edits go back)</option>
            <option value="pull">Read-only mirror</option>
          </select>
        </label>
      ) : (
        <span class="muted small">Read-only: a mirror that never sends changes back.</span>
      )}
      <button class="primary" type="submit" disabled={busy}>
        {busy ? "Creating…" : "Keep a copy here"}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
