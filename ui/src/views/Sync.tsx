// The Sync page (`#/sync`, the owner only), refreshed every 2 s: every sync link with its live
// state (components/SyncLinkCard), "Shared with me" from paired devices (components/SharedWithMe),
// and the form that links a collection with another Kinto server (components/AddKintoLink).

import { useApp } from "../context";
import { useAsync, usePoll } from "../hooks";
import type { DevicesOverview } from "../lib/devices";
import type { SyncLink } from "../lib/sync";
import { AddKintoLink } from "../components/AddKintoLink";
import { SharedWithMe } from "../components/SharedWithMe";
import { SyncLinkCard } from "../components/SyncLinkCard";
import { ErrorBox, Spinner } from "../components/ui";

const POLL_MS = 2000;

export function Sync() {
  const { client, onSync } = useApp();
  const links = usePoll<SyncLink[]>(
    async () => {
      const list = (await client.get<{ data: SyncLink[] }>("/__sync__/links")).data.data;
      onSync?.(list);
      return list;
    },
    POLL_MS,
    [client],
  );
  const devices = useAsync(async () => (await client.get<DevicesOverview>("/__devices__")).data, [client]);
  const names = Object.fromEntries((devices.data?.paired ?? []).map((d) => [d.id, d.name]));
  const list = links.data ?? [];
  const replace = (next: SyncLink[]) => {
    links.set(next);
    onSync?.(next);
  };
  const update = (link: SyncLink) => replace(list.some((l) => l.id === link.id) ? list.map((l) => (l.id === link.id ? link : l)) : [...list, link]);
  const removed = (id: string) => replace(list.filter((l) => l.id !== id));
  return (
    <section class="sync">
      <h1>Sync</h1>
      <p class="muted">
        Each link keeps a local collection in step with a collection elsewhere: on a paired device, or on any Kinto server.
      </p>
      <h2>Sync links</h2>
      {links.loading && <Spinner />}
      <ErrorBox error={links.error} onRetry={links.reload} />
      {!links.loading && list.length === 0 && <p class="muted no-links">Nothing syncs yet: keep a copy of something shared with you, or add a Kinto server below.</p>}
      <ul class="entries sync-links">
        {list.map((link) => (
          <SyncLinkCard key={link.id} link={link} deviceNames={names} onUpdate={update} onRemoved={removed} />
        ))}
      </ul>
      <h2>Shared with me</h2>
      <ErrorBox error={devices.error} />
      <SharedWithMe lanSharing={devices.error ? false : devices.data?.lan_sharing} links={list} onLinked={update} />
      <h2>Sync with a Kinto server</h2>
      <AddKintoLink onAdded={update} />
    </section>
  );
}
