// A collection: its records table (columns, sort, server-side filters, pages, total), its
// settings, import/export, history and permissions, and sharing with paired devices.

import { useState } from "preact/hooks";
import { paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { href, navigate } from "../router";
import { ConfirmButton, Crumbs, ErrorBox, Spinner, Tabs, formatDate } from "../components/ui";
import { History } from "../components/History";
import { PermissionsEditor } from "../components/PermissionsEditor";
import { ShareButton } from "../components/ShareDialog";
import { FilterBuilder } from "../components/FilterBuilder";
import { nextSort, parseSort } from "../lib/filters";
import { fieldsOf } from "../lib/schema";
import { CollectionSettings } from "./CollectionSettings";
import { ImportExport } from "./ImportExport";

const PAGE_SIZE = 20;

export function Collection({ bid, cid, tab, query }: { bid: string; cid: string; tab: string; query: URLSearchParams }) {
  const { client } = useApp();
  const collection = useAsync(() => client.get(paths.collection(bid, cid)).then((r) => r.data.data), [bid, cid]);
  const base = ["buckets", bid, "collections", cid];
  return (
    <section>
      <Crumbs items={[{ label: "Buckets", href: "#/" }, { label: bid, href: href(["buckets", bid]) }, { label: cid }]} />
      <div class="title-row">
        <h1>
          Collection {cid}
          {collection.data?.title && <span class="muted"> — {collection.data.title}</span>}
        </h1>
        <a class="button primary" href={href([...base, "records", "_new"])}>
          New record
        </a>
        <ShareButton bid={bid} cid={cid} />
        <ConfirmButton
          label="Delete collection"
          question={`Delete collection “${cid}” and all its records? This cannot be undone.`}
          onConfirm={async () => {
            await client.request("DELETE", paths.collection(bid, cid));
            navigate(["buckets", bid]);
          }}
        />
      </div>
      <Tabs
        current={tab}
        tabs={[
          { id: "records", label: "Records", href: href(base) },
          { id: "settings", label: "Settings", href: href([...base, "settings"]) },
          { id: "transfer", label: "Import / Export", href: href([...base, "transfer"]) },
          { id: "history", label: "History", href: href([...base, "history"]) },
          { id: "permissions", label: "Permissions", href: href([...base, "permissions"]) },
        ]}
      />
      {collection.loading && !collection.data && <Spinner />}
      <ErrorBox error={collection.error} onRetry={collection.reload} />
      {collection.data && tab === "records" && <Records bid={bid} cid={cid} collection={collection.data} query={query} />}
      {collection.data && tab === "settings" && <CollectionSettings bid={bid} cid={cid} collection={collection.data} onSaved={collection.set} />}
      {collection.data && tab === "transfer" && <ImportExport bid={bid} cid={cid} collection={collection.data} />}
      {tab === "history" && <History bid={bid} filters={[["collection_id", cid]]} />}
      {tab === "permissions" && <PermissionsEditor kind="collection" bid={bid} cid={cid} />}
    </section>
  );
}

/** The columns of the table: the collection's displayFields, else the schema's first fields. */
export function columnsFor(collection: any, sample: any[]): string[] {
  if (Array.isArray(collection.displayFields) && collection.displayFields.length) return collection.displayFields;
  const fromSchema = fieldsOf(collection.schema).map((f) => f.name);
  if (fromSchema.length) return fromSchema.slice(0, 4);
  const keys = new Set<string>();
  for (const r of sample) for (const k of Object.keys(r)) if (!["id", "last_modified", "schema"].includes(k)) keys.add(k);
  return [...keys].slice(0, 4);
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** A dotted field's value (`author.name`). */
function pick(record: any, field: string): unknown {
  return field.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), record);
}

function Records({ bid, cid, collection, query }: { bid: string; cid: string; collection: any; query: URLSearchParams }) {
  const { client } = useApp();
  const filterParams = [...query.entries()].filter(([k]) => !k.startsWith("_"));
  const sort = query.get("_sort") ?? (typeof collection.sort === "string" && collection.sort ? collection.sort : "-last_modified");
  const listQuery: [string, string][] = [...filterParams, ["_sort", sort], ["_limit", String(PAGE_SIZE)]];
  const queryKey = JSON.stringify(listQuery);
  // Page URLs: undefined = the first page; previous pages are kept to go back.
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const [pageKey, setPageKey] = useState(queryKey);
  if (pageKey !== queryKey) {
    setPageKey(queryKey);
    setPages([undefined]);
  }
  const pageUrl = pages[pages.length - 1];
  const page = useAsync(
    () => (pageUrl ? client.page<any>(pageUrl) : client.page<any>(paths.records(bid, cid), listQuery)),
    [bid, cid, queryKey, pageUrl],
  );
  const total = useAsync(() => client.count(paths.records(bid, cid), filterParams), [bid, cid, JSON.stringify(filterParams)]);
  const columns = columnsFor(collection, page.data?.items ?? []);
  const sorted = parseSort(sort);
  const setQuery = (params: [string, string][]) => {
    const q: Record<string, string> = {};
    for (const [k, v] of params) q[k] = v;
    navigate(["buckets", bid, "collections", cid], q);
  };
  const onSort = (field: string) => setQuery([...filterParams, ["_sort", nextSort(sort, field)]]);
  const allColumns = ["id", ...columns.filter((c) => c !== "id"), "last_modified"];
  return (
    <div>
      <FilterBuilder
        params={filterParams}
        fields={fieldsOf(collection.schema).map((f) => f.name).concat(columns)}
        onApply={(params) => setQuery(query.get("_sort") ? [...params, ["_sort", sort]] : params)}
      />
      <div class="table-info">
        <span data-testid="total">{total.data === null || total.data === undefined ? "" : `${total.data} record${total.data === 1 ? "" : "s"}${filterParams.length ? " match" : ""}`}</span>
        <span class="muted small">
          sorted by {sorted ? `${sorted.field} ${sorted.descending ? "↓" : "↑"}` : sort}
        </span>
      </div>
      <ErrorBox error={page.error} onRetry={page.reload} />
      <div class="table-wrap">
        <table class="records" aria-busy={page.loading ? "true" : "false"}>
          <thead>
            <tr>
              {allColumns.map((c) => (
                <th key={c} aria-sort={sorted?.field === c ? (sorted.descending ? "descending" : "ascending") : undefined}>
                  <button class="link" onClick={() => onSort(c)} title={`Sort by ${c}`}>
                    {c === "last_modified" ? "Last modified" : c}
                    {sorted?.field === c ? (sorted.descending ? " ↓" : " ↑") : ""}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((r) => (
              <tr key={r.id}>
                {allColumns.map((c) => (
                  <td key={c}>
                    {c === "id" ? (
                      <a href={href(["buckets", bid, "collections", cid, "records", r.id])}>{r.id.length > 12 ? `${r.id.slice(0, 8)}…` : r.id}</a>
                    ) : c === "last_modified" ? (
                      <span class="small">{formatDate(r.last_modified)}</span>
                    ) : (
                      <span class="cell">{cellText(pick(r, c))}</span>
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.loading && <Spinner />}
      {page.data && page.data.items.length === 0 && <p class="muted">No records{filterParams.length ? " match these filters" : ""}.</p>}
      <div class="pager">
        {/* Not while a page loads: the previous page's Next-Page link would be followed twice. */}
        <button disabled={page.loading || pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
          ← Previous page
        </button>
        <span class="muted small">page {pages.length}</span>
        <button disabled={page.loading || !page.data?.next} onClick={() => page.data?.next && setPages([...pages, page.data.next])}>
          Next page →
        </button>
      </div>
    </div>
  );
}
