// The app shell: signs in (desktop session or account), then the header and the routed view.

import { useEffect, useMemo, useState } from "preact/hooks";
import { Client } from "./api/client";
import { desktopSession, isDesktop, restore, signOut, type Session } from "./api/session";
import { Ctx } from "./context";
import { useRoute } from "./router";
import { ErrorBox, Spinner } from "./components/ui";
import { OwnerLink, useOwnerBadge } from "./components/OwnerLink";
import type { AppsListing } from "./lib/apps";
import type { DevicesOverview } from "./lib/devices";
import { openConflicts, type SyncLink } from "./lib/sync";
import { Login } from "./views/Login";
import { Routes } from "./views/Routes";

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [starting, setStarting] = useState(true);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    (isDesktop() ? desktopSession() : restore()).then(setSession, setError).finally(() => setStarting(false));
  }, []);
  if (starting) return <Spinner label="Connecting…" />;
  if (!session) {
    return (
      <main class="login-page">
        {isDesktop() && <ErrorBox error={error} />}
        <Login onSignedIn={setSession} />
      </main>
    );
  }
  return <SignedIn session={session} onSignOut={() => (signOut(), setSession(null))} />;
}

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const client = useMemo(() => new Client(session.creds), [session]);
  const route = useRoute();
  const [statsOk, setStatsOk] = useState(false);
  useEffect(() => {
    client.get("/__stats__").then(() => setStatsOk(true), () => setStatsOk(false));
  }, [client]);
  const apps = useOwnerBadge<AppsListing>(client, "/__apps__", (listing) => listing.pending?.length ?? 0);
  // Peers waiting for "They match" (0 on servers without the confirmation step).
  const devices = useOwnerBadge<DevicesOverview>(client, "/__devices__", (overview) => overview.pending?.length ?? 0);
  // Conflicts waiting in the sync links' inboxes.
  const sync = useOwnerBadge<{ data: SyncLink[] }>(client, "/__sync__/links", (answer) => openConflicts(answer.data ?? []));
  const onSync = useMemo(() => (links: SyncLink[]) => sync.update({ data: links }), [sync.update]);
  const name = session.user.id.replace(/^account:/, "");
  return (
    <Ctx.Provider value={{ session, client, onApps: apps.update, onDevices: devices.update, onSync }}>
      <header class="top">
        <a class="brand" href="#/">
          Kintoun
        </a>
        <nav>
          <a href="#/">Buckets</a>
          {statsOk && <a href="#/status">Status</a>}
          {apps.ok && (
            <OwnerLink href="#/apps" label="Connected apps" className="apps-link" pending={apps.pending} waiting={(n) => `${n} request${n === 1 ? "" : "s"} waiting for approval`} />
          )}
          {devices.ok && (
            <OwnerLink href="#/devices" label="Devices" className="devices-link" pending={devices.pending} waiting={(n) => `${n} pairing${n === 1 ? "" : "s"} to confirm`} />
          )}
          {sync.ok && (
            <OwnerLink href="#/sync" label="Sync" className="sync-nav" pending={sync.pending} waiting={(n) => `${n} conflict${n === 1 ? "" : "s"} to settle`} />
          )}
        </nav>
        <span class="who" title={session.user.id}>
          {name}
        </span>
        {!session.desktop && (
          <button class="link" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </header>
      <main class="content">
        <Routes route={route} />
      </main>
    </Ctx.Provider>
  );
}
