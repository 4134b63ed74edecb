// The consent panel for one connection request: the app's name, its origin (with a warning
// when it is not a browser extension), each scope in plain words, Approve and Deny.

import { useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { useApp } from "../context";
import { approvalFailure, describeLifetime, describeOrigin, describeScope, type PendingRequest, type Scope } from "../lib/apps";
import { ErrorBox, formatDate } from "./ui";

/** Where a request or an app comes from, prominently, with the warning when there is one. */
export function OriginLine({ origin, warn = true }: { origin: string | null; warn?: boolean }) {
  const info = describeOrigin(origin);
  return (
    <div class="origin">
      <div>
        <span class="muted">{info.kind}</span>
        {origin && <code class="origin-value">{origin}</code>}
      </div>
      {warn && info.warning && (
        <div class="warning" role="alert">
          <strong>Not a browser extension.</strong> {info.warning}
        </div>
      )}
    </div>
  );
}

/** The scopes in words; `granted` ones no longer mention creating (that happened at approval). */
export function ScopeList({ scopes, granted = false }: { scopes: Scope[]; granted?: boolean }) {
  return (
    <ul class="scopes">
      {scopes.map((s, i) => (
        <li key={i}>
          {describeScope(granted ? { ...s, create: false } : s)}
          {s.create && !granted && <span class="badge create">new collection</span>}
        </li>
      ))}
    </ul>
  );
}

export function AppConsent({ request, onDecided }: { request: PendingRequest; onDecided: (decided: PendingRequest) => void }) {
  const { client } = useApp();
  const [busy, setBusy] = useState<"approve" | "deny" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const decide = async (approve: boolean) => {
    setBusy(approve ? "approve" : "deny");
    setError(null);
    try {
      const res = await client.request<PendingRequest>("POST", `/__apps__/requests/${encodeURIComponent(request.id)}`, {
        body: { approve },
      });
      onDecided(res.data);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <article class="consent card" aria-label={`Connection request from ${request.name}`}>
      <h2>
        <span class="app-name">{request.name}</span> wants to connect
      </h2>
      <OriginLine origin={request.origin} />
      <p>If you approve, this app will be able to:</p>
      <ScopeList scopes={request.scopes} />
      <p class="muted small">
        Access lasts {describeLifetime(request.token_ttl_seconds)}; you can revoke it here at any time. Asked{" "}
        {formatDate(request.created_at)}, this request expires {formatDate(request.expires_at)}.
      </p>
      <ErrorBox error={error} />
      {error instanceof ApiError && approvalFailure(error.status, error.body) && (
        <p class="warning">{approvalFailure(error.status, error.body)}</p>
      )}
      <div class="actions">
        <button class="danger" disabled={busy !== null} onClick={() => decide(false)}>
          {busy === "deny" ? "Denying…" : "Deny"}
        </button>
        <button class="primary" disabled={busy !== null} onClick={() => decide(true)}>
          {busy === "approve" ? "Approving…" : "Approve"}
        </button>
      </div>
    </article>
  );
}
