// The server status (GET /v1/__stats__, admins only): uptime, traffic, storage, object counts.

import { useApp } from "../context";
import { useAsync } from "../hooks";
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

export function Status() {
  const { client } = useApp();
  const stats = useAsync(() => client.get("/__stats__").then((r) => r.data), []);
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
          <button onClick={stats.reload}>Refresh</button>
        </>
      )}
    </section>
  );
}
