// The server status (GET /v1/__stats__, admins only, refreshed every 2 s): uptime, traffic,
// storage, object counts; in the desktop app also the owner account (password on demand) and the
// recent log, from the app's own commands.

import { useState } from "preact/hooks";
import { desktopCommand } from "../api/session";
import { useApp } from "../context";
import { usePoll } from "../hooks";
import { ErrorBox, Spinner } from "../components/ui";

function bytes(n: number | undefined): string {
  if (n === undefined || n === null) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function duration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d ? `${d}d ` : ""}${h}h ${m}m`;
}

/** The owner account and the app's recent log (desktop window only). */
function DesktopFacts({ user, url }: { user: string; url: string }) {
  const [password, setPassword] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const logs = usePoll(() => desktopCommand<string[]>("recent_logs", { limit: 200 }), 2000, []);
  const reveal = () => desktopCommand<string>("owner_password").then(setPassword, setError);
  return (
    <>
      <h2>This desktop</h2>
      <dl class="facts">
        <dt>Address for apps</dt>
        <dd class="code small">{url}</dd>
        <dt>Owner account</dt>
        <dd>
          {user}{" "}
          {password === null ? (
            <button type="button" id="show-owner-password" onClick={reveal}>
              Show password
            </button>
          ) : (
            <span class="code small owner-password">{password}</span>
          )}
        </dd>
      </dl>
      <ErrorBox error={error ?? logs.error} />
      <h2>Recent log</h2>
      <pre class="log small">{(logs.data ?? []).join("\n") || "—"}</pre>
    </>
  );
}

export function Status() {
  const { client, session } = useApp();
  const stats = usePoll(() => client.get("/__stats__").then((r) => r.data), 2000, []);
  return (
    <section>
      <h1>Server status</h1>
      {stats.loading && <Spinner />}
      <ErrorBox error={stats.error} onRetry={stats.reload} />
      {stats.data && (
        <>
          <dl class="facts">
            <dt>Version</dt>
            <dd>{stats.data.version}</dd>
            <dt>Up for</dt>
            <dd>{duration(stats.data.uptime_seconds ?? 0)}</dd>
            <dt>Requests</dt>
            <dd>
              {stats.data.requests} ({stats.data.errors} errors, {Number(stats.data.requests_per_second ?? 0).toFixed(2)}/s)
            </dd>
            <dt>Database</dt>
            <dd>{bytes(stats.data.database_bytes)}</dd>
            <dt>Memory</dt>
            <dd>{bytes(stats.data.rss_bytes)}</dd>
            <dt>Data directory</dt>
            <dd class="code small">{stats.data.data_dir}</dd>
            {Object.entries(stats.data.objects ?? {}).map(([k, v]) => (
              <>
                <dt key={`${k}-t`}>{k}</dt>
                <dd key={`${k}-d`}>{String(v)}</dd>
              </>
            ))}
          </dl>
        </>
      )}
      {session.desktop && <DesktopFacts user={session.user.id} url={session.creds.url} />}
    </section>
  );
}
