// A bucket: its collections and groups (with creation), its history, its permissions.

import { useState } from "preact/hooks";
import { paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { href, navigate } from "../router";
import { ConfirmButton, Crumbs, ErrorBox, Spinner, Tabs, formatDate } from "../components/ui";
import { History } from "../components/History";
import { PermissionsEditor } from "../components/PermissionsEditor";

export function Bucket({ bid, tab }: { bid: string; tab: string }) {
  const { client } = useApp();
  const base = ["buckets", bid];
  return (
    <section>
      <Crumbs items={[{ label: "Buckets", href: "#/" }, { label: bid }]} />
      <div class="title-row">
        <h1>Bucket {bid}</h1>
        <ConfirmButton
          label="Delete bucket"
          question={`Delete bucket “${bid}” with all its collections, records, groups and history? This cannot be undone.`}
          onConfirm={async () => {
            await client.request("DELETE", paths.bucket(bid));
            navigate([]);
          }}
        />
      </div>
      <Tabs
        current={tab}
        tabs={[
          { id: "collections", label: "Collections", href: href(base) },
          { id: "groups", label: "Groups", href: href([...base, "groups"]) },
          { id: "history", label: "History", href: href([...base, "history"]) },
          { id: "permissions", label: "Permissions", href: href([...base, "permissions"]) },
        ]}
      />
      {tab === "collections" && <Children bid={bid} kind="collections" />}
      {tab === "groups" && <Children bid={bid} kind="groups" />}
      {tab === "history" && <History bid={bid} />}
      {tab === "permissions" && <PermissionsEditor kind="bucket" bid={bid} />}
    </section>
  );
}

function Children({ bid, kind }: { bid: string; kind: "collections" | "groups" }) {
  const { client } = useApp();
  const path = kind === "collections" ? paths.collections(bid) : paths.groups(bid);
  const list = useAsync(() => client.all<any>(path, [["_sort", "id"]]), [bid, kind]);
  const [id, setId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const noun = kind === "collections" ? "collection" : "group";
  return (
    <div>
      <form
        class="inline"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const data: Record<string, unknown> = id ? { id } : {};
            if (kind === "groups") data.members = [];
            const res = await client.request("POST", path, { body: { data } });
            const newId = res.data.data.id;
            navigate(kind === "collections" ? ["buckets", bid, "collections", newId, "settings"] : ["buckets", bid, "groups", newId]);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <input name={`${noun}-id`} placeholder={`new ${noun} id${kind === "collections" ? " (empty: generated)" : ""}`} value={id} onInput={(e) => setId(e.currentTarget.value)} required={kind === "groups"} />
        <button class="primary" type="submit">
          Create {noun}
        </button>
      </form>
      <ErrorBox error={error} />
      {list.loading && <Spinner />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data && (
        <ul class="cards">
          {list.data.length === 0 && <li class="muted">No {kind} yet.</li>}
          {list.data.map((o) => (
            <li key={o.id}>
              <a href={href(["buckets", bid, kind, o.id])}>{o.id}</a>
              {o.title && <span class="muted"> — {o.title}</span>}
              {kind === "groups" && <span class="muted small"> · {(o.members ?? []).length} members</span>}
              <span class="muted small"> · {formatDate(o.last_modified)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
