// A link's conflict inbox (`#/sync/{id}/conflicts`): each record changed on both sides, shown
// three ways (components/ConflictCard). A resolution is posted, the conflict leaves the list
// and the link syncs at once ("Sync now", followed) so the other side gets the outcome.

import { useApp } from "../context";
import { useAsync } from "../hooks";
import type { DevicesOverview } from "../lib/devices";
import { progressText, remoteLabel, type Conflict, type SyncLink } from "../lib/sync";
import { ConflictCard, type Resolution } from "../components/ConflictCard";
import { linkPath, useSyncNow } from "../components/useSyncNow";
import { Crumbs, ErrorBox, Spinner } from "../components/ui";
import { useState } from "preact/hooks";

export function Conflicts({ id }: { id: string }) {
  const { client, onSync } = useApp();
  const [link, setLink] = useState<SyncLink | null>(null);
  const conflicts = useAsync(async () => {
    const [l, list] = await Promise.all([
      client.get<{ data: SyncLink }>(linkPath(id)),
      client.get<{ data: Conflict[] }>(`${linkPath(id)}/conflicts`),
    ]);
    setLink(l.data.data);
    return list.data.data;
  }, [client, id]);
  const sync = useSyncNow(client, id, setLink);
  // Device names for a device remote (not the owner's devices page: ignore failures).
  const devices = useAsync(() => client.get<DevicesOverview>("/__devices__").then((r) => r.data, () => null), [client]);
  const names = Object.fromEntries((devices.data?.paired ?? []).map((d) => [d.id, d.name]));
  const refreshBadge = () =>
    client.get<{ data: SyncLink[] }>("/__sync__/links").then((res) => onSync?.(res.data.data), () => undefined);

  const resolve = async (conflict: Conflict, r: Resolution) => {
    await client.request("POST", `${linkPath(id)}/conflicts/${encodeURIComponent(conflict.record_id)}`, { body: r });
    conflicts.set((conflicts.data ?? []).filter((c) => c.record_id !== conflict.record_id));
    refreshBadge();
    await sync.start();
    refreshBadge();
  };
  const list = conflicts.data ?? [];
  return (
    <section class="conflict-inbox">
      <Crumbs items={[{ label: "Sync", href: "#/sync" }, { label: "Conflicts" }]} />
      <h1>Conflicts</h1>
      {link && (
        <p class="muted">
          <code>{`${link.local.bucket}/${link.local.collection}`}</code> ⇄ {remoteLabel(link, names)}
        </p>
      )}
      {(sync.syncing || link?.progress) && (
        <p class="sync-status" role="status">
          {sync.syncing ? <><span class="spinner" aria-hidden="true" /> Syncing the outcome… {progressText(link?.progress)}</> : <span class="synced-outcome">{progressText(link?.progress)}</span>}
        </p>
      )}
      <ErrorBox error={sync.error} />
      {conflicts.loading && <Spinner />}
      <ErrorBox error={conflicts.error} onRetry={conflicts.reload} />
      {!conflicts.loading && !conflicts.error && list.length === 0 && (
        <p class="ok no-conflicts">
          No conflicts: both sides agree. <a href="#/sync">Back to Sync</a>
        </p>
      )}
      <ul class="entries conflicts">
        {list.map((c) => (
          <ConflictCard key={c.record_id} conflict={c} onResolve={(r) => resolve(c, r)} />
        ))}
      </ul>
    </section>
  );
}
