// One sync link on the Sync page: local collection ↔ remote, direction, live progress, last sync,
// last error, its conflicts (link to the inbox), "Sync now" (followed to the end) and "Stop
// syncing" (asks first; both sides keep their data).

import { useApp } from "../context";
import { href } from "../router";
import { directionLabel, isBusy, progressText, remoteLabel, type SyncLink } from "../lib/sync";
import { ConfirmButton, ErrorBox, formatDate } from "./ui";
import { linkPath, useSyncNow } from "./useSyncNow";

export function SyncLinkCard({
  link,
  deviceNames,
  onUpdate,
  onRemoved,
}: {
  link: SyncLink;
  deviceNames: Record<string, string>;
  onUpdate: (link: SyncLink) => void;
  onRemoved: (id: string) => void;
}) {
  const { client } = useApp();
  const sync = useSyncNow(client, link.id, onUpdate);
  const local = `${link.local.bucket}/${link.local.collection}`;
  const remote = remoteLabel(link, deviceNames);
  const busy = sync.syncing || isBusy(link.progress);
  return (
    <li class="entry sync-link" data-link={link.id}>
      <div class="entry-head">
        <a href={href(["buckets", link.local.bucket, "collections", link.local.collection])}>
          <strong>{local}</strong>
        </a>
        <span aria-hidden="true">{link.direction === "pull" ? "←" : "⇄"}</span>
        <span class="remote">{remote}</span>
        <span class={`badge direction ${link.direction}`}>{directionLabel(link.direction)}</span>
      </div>
      <p class="sync-status" role="status">
        {busy && <span class="spinner" aria-hidden="true" />} <span class="progress-text">{sync.syncing && !isBusy(link.progress) ? "Starting…" : progressText(link.progress)}</span>
        {" · "}
        <span class="last-sync">{link.last_sync ? `Last synced ${formatDate(link.last_sync)}` : "Never synced yet"}</span>
      </p>
      {link.last_error && (
        <div class="error last-error" role="alert">
          <strong>Last sync failed:</strong> {link.last_error}
        </div>
      )}
      {link.conflicts > 0 && (
        <p class="conflicts-line">
          <a class="conflicts-link" href={href(["sync", link.id, "conflicts"])}>
            {link.conflicts} conflict{link.conflicts === 1 ? "" : "s"} to settle
          </a>
        </p>
      )}
      <ErrorBox error={sync.error} />
      <div class="actions">
        <button class="primary sync-now" disabled={sync.syncing} onClick={sync.start}>
          {sync.syncing ? "Syncing…" : "Sync now"}
        </button>
        <ConfirmButton
          label="Stop syncing"
          question={`Stop syncing ${local} with ${remote}? Nothing is deleted: the local collection and the remote keep all their data; they just stop exchanging changes.`}
          onConfirm={async () => {
            await client.request("DELETE", linkPath(link.id));
            onRemoved(link.id);
          }}
        />
      </div>
    </li>
  );
}
