// Connected apps (`/__apps__`, the owner only): connection requests waiting for consent
// (refreshed every 2 s while the page is open; the desktop app opens `#/apps` when one arrives)
// and the apps holding a token, each revocable.

import { useState } from "preact/hooks";
import { useApp } from "../context";
import { usePoll } from "../hooks";
import type { AppsListing, ConnectedApp, PendingRequest } from "../lib/apps";
import { AppConsent, OriginLine, ScopeList } from "../components/AppConsent";
import { ConfirmButton, ErrorBox, Spinner, formatDate } from "../components/ui";

const POLL_MS = 2000;

export function Apps() {
  const { client, onApps } = useApp();
  const listing = usePoll(
    () =>
      client.get<AppsListing>("/__apps__").then((r) => {
        onApps?.(r.data);
        return r.data;
      }),
    POLL_MS,
    [client],
  );
  const [notice, setNotice] = useState<string | null>(null);
  const decided = (request: PendingRequest) => {
    setNotice(
      request.status === "approved"
        ? `Approved “${request.name}”: it can now collect its token.`
        : `Denied “${request.name}”.`,
    );
    listing.reload();
  };
  const revoked = (app: ConnectedApp) => {
    setNotice(`Revoked “${app.name}”: its token no longer works.`);
    listing.reload();
  };
  const data = listing.data;
  return (
    <section class="apps">
      <h1>Connected apps</h1>
      <p class="muted">
        Browser extensions and local apps ask here for access to some of your collections. They never see your
        password: each one gets its own token, limited to what you approve, from its own origin.
      </p>
      {notice && (
        <div class="ok" role="status">
          {notice}
        </div>
      )}
      {listing.loading && !data && <Spinner />}
      <ErrorBox error={listing.error} onRetry={listing.reload} />
      {data && (
        <>
          <h2>
            Waiting for your approval {data.pending.length > 0 && <span class="badge count">{data.pending.length}</span>}
          </h2>
          {data.pending.length === 0 ? (
            <p class="muted">No connection requests right now. This list refreshes by itself.</p>
          ) : (
            <div class="consents">
              {data.pending.map((r) => (
                <AppConsent key={r.id} request={r} onDecided={decided} />
              ))}
            </div>
          )}
          <h2>Connected</h2>
          <ConnectedList apps={data.apps} onRevoked={revoked} />
        </>
      )}
    </section>
  );
}

function ConnectedList({ apps, onRevoked }: { apps: ConnectedApp[]; onRevoked: (app: ConnectedApp) => void }) {
  if (apps.length === 0) return <p class="muted">No app is connected.</p>;
  const sorted = [...apps].sort((a, b) => a.created_at - b.created_at);
  return (
    <ul class="entries connected">
      {sorted.map((app) => (
        <ConnectedItem key={app.id} app={app} onRevoked={onRevoked} />
      ))}
    </ul>
  );
}

function ConnectedItem({ app, onRevoked }: { app: ConnectedApp; onRevoked: (app: ConnectedApp) => void }) {
  const { client } = useApp();
  const expired = app.expires_at !== null && app.expires_at <= Date.now();
  return (
    <li class="entry" data-app={app.id}>
      <div class="entry-head">
        <strong class="app-name">{app.name}</strong>
        <code class="muted small">{app.principal}</code>
        {expired && <span class="badge delete">expired</span>}
        <ConfirmButton
          label="Revoke"
          question={`Revoke “${app.name}” (${app.origin ?? "local app"})? Its token stops working at once and its permissions are removed.`}
          onConfirm={async () => {
            const res = await client.request<{ data: ConnectedApp }>("DELETE", `/__apps__/${encodeURIComponent(app.id)}`);
            onRevoked(res.data?.data ?? app);
          }}
        />
      </div>
      <OriginLine origin={app.origin} warn={false} />
      <ScopeList scopes={app.scopes} granted />
      <div class="muted small">
        Connected {formatDate(app.created_at)} · {app.expires_at === null ? "no expiry (until revoked)" : `${expired ? "expired" : "expires"} ${formatDate(app.expires_at)}`}
      </div>
    </li>
  );
}
