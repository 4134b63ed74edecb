// History of a bucket, collection or record (the history plugin): each change with a diff
// against the previous version of the same object, and one-click revert to that version.

import { useState } from "preact/hooks";
import { paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { diff, preview } from "../lib/diff";
import { principalLabel } from "../lib/permissions";
import { href } from "../router";
import { ConfirmButton, ErrorBox, Spinner } from "./ui";

interface Entry {
  id: string;
  last_modified: number;
  date: string;
  action: "create" | "update" | "delete";
  resource_name: string;
  uri: string;
  user_id: string | null;
  target: { data: any; permissions: any };
}

const PAGE = 50;

/** The UI link of an object URI (`/buckets/b/collections/c/records/r`). */
function linkOf(uri: string): string {
  return href(uri.split("/").filter(Boolean).map(decodeURIComponent));
}

export function History({ bid, filters = [] }: { bid: string; filters?: [string, string][] }) {
  const { client, session } = useApp();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const first = useAsync(async () => {
    const page = await client.page<Entry>(paths.history(bid), [...filters, ["_sort", "-last_modified"], ["_limit", String(PAGE)]]);
    setEntries(page.items);
    setNext(page.next);
    return true;
  }, [bid, JSON.stringify(filters)]);
  if (session.server?.capabilities?.history === undefined) return <p class="muted">History is not enabled on this server.</p>;

  const revert = async (entry: Entry) => {
    const data = { ...entry.target.data };
    delete data.last_modified;
    delete data.deleted;
    await client.request("PUT", entry.uri, { body: { data } });
    setMessage(`Reverted ${entry.resource_name} ${data.id ?? ""} to its version of ${new Date(entry.date).toLocaleString()}.`);
    first.reload();
  };

  return (
    <div class="history">
      {first.loading && <Spinner />}
      <ErrorBox error={first.error ?? error} onRetry={first.reload} />
      {message && (
        <div class="ok" role="status">
          {message}
        </div>
      )}
      {!first.loading && entries.length === 0 && <p class="muted">No history yet.</p>}
      <ol class="entries">
        {entries.map((entry, i) => {
          const older = entries.slice(i + 1).find((e) => e.uri === entry.uri);
          const before = entry.action === "create" ? {} : older?.target.data;
          const after = entry.action === "delete" ? {} : entry.target.data;
          const changes = before === undefined ? null : diff(before, after);
          const latest = entries.findIndex((e) => e.uri === entry.uri) === i;
          return (
            <li key={entry.id} class={`entry ${entry.action}`}>
              <div class="entry-head">
                <span class={`badge ${entry.action}`}>{entry.action}</span> <a href={linkOf(entry.uri)}>{entry.resource_name} {entry.target.data?.id}</a>
                <span class="muted small">
                  {" "}
                  · {new Date(entry.date).toLocaleString()} · {entry.user_id ? principalLabel(entry.user_id, session.user.id) : "anonymous"}
                </span>
                {entry.action !== "delete" && !latest && (
                  <ConfirmButton
                    class="small"
                    label="Revert to this version"
                    question={`Replace the current ${entry.resource_name} with its version of ${new Date(entry.date).toLocaleString()}?`}
                    onConfirm={() => revert(entry).catch((e) => (setError(e), Promise.reject(e)))}
                  />
                )}
                {entry.action === "delete" && older && (
                  <ConfirmButton class="small" label="Restore" question={`Recreate the deleted ${entry.resource_name} as it was before deletion?`} onConfirm={() => revert(older)} />
                )}
              </div>
              {changes === null ? (
                <p class="muted small">Earlier versions are on the next pages.</p>
              ) : (
                <ul class="diff">
                  {changes.length === 0 && <li class="muted small">no field changed</li>}
                  {changes.map((c) => (
                    <li key={c.path} class={c.kind}>
                      <code>{c.path}</code>{" "}
                      {c.kind === "added" ? (
                        <ins>{preview(c.after)}</ins>
                      ) : c.kind === "removed" ? (
                        <del>{preview(c.before)}</del>
                      ) : (
                        <>
                          <del>{preview(c.before)}</del> → <ins>{preview(c.after)}</ins>
                        </>
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
      {next && (
        <button
          onClick={async () => {
            try {
              const page = await client.page<Entry>(next);
              setEntries([...entries, ...page.items]);
              setNext(page.next);
            } catch (e) {
              setError(e);
            }
          }}
        >
          Load older changes
        </button>
      )}
    </div>
  );
}
