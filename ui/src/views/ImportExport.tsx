// Import and export of a collection's records as JSON or CSV, page by page and batch by batch,
// with progress.

import { useState } from "preact/hooks";
import { paths } from "../api/client";
import { useApp } from "../context";
import { ErrorBox, download } from "../components/ui";
import { columnsOf, fromCsv, toCsv } from "../lib/csv";

interface Progress {
  done: number;
  total: number | null;
  label: string;
}

/** The records of an import file: a JSON array, `{"data": [...]}`, or CSV with a header row. */
export function parseImport(name: string, text: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (name.toLowerCase().endsWith(".json") || trimmed.startsWith("[") || trimmed.startsWith("{")) {
    const parsed = JSON.parse(trimmed);
    const list = Array.isArray(parsed) ? parsed : parsed?.data;
    if (!Array.isArray(list)) throw new Error("The JSON must be an array of records or {\"data\": [records]}.");
    return list.map((r: any) => (r && typeof r === "object" && r.data && typeof r.data === "object" && !Array.isArray(r.data) && r.id === undefined ? r.data : r));
  }
  return fromCsv(text);
}

export function ImportExport({ bid, cid, collection }: { bid: string; cid: string; collection: any }) {
  const { client, session } = useApp();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<string | null>(null);
  const [failures, setFailures] = useState<string[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const busy = progress !== null;
  const batchSize = Math.max(1, Number(session.server?.settings?.batch_max_requests ?? 25));

  const exportAs = async (format: "json" | "csv") => {
    setError(null);
    setResult(null);
    try {
      const total = await client.count(paths.records(bid, cid)).catch(() => null);
      setProgress({ done: 0, total, label: "Exporting" });
      const records = await client.all<any>(paths.records(bid, cid), [["_sort", "id"], ["_limit", "500"]], (n) => setProgress({ done: n, total, label: "Exporting" }));
      if (format === "json") download(`${bid}-${cid}.json`, JSON.stringify(records, null, 2), "application/json");
      else {
        const display: string[] = Array.isArray(collection.displayFields) ? collection.displayFields : [];
        const columns = [...new Set([...columnsOf(records), ...display.filter((d) => !d.includes("."))])];
        download(`${bid}-${cid}.csv`, toCsv(records, columns), "text/csv");
      }
      setResult(`Exported ${records.length} record${records.length === 1 ? "" : "s"} as ${format.toUpperCase()}.`);
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  const importFile = async () => {
    if (!file) return;
    setError(null);
    setResult(null);
    setFailures([]);
    try {
      const records = parseImport(file.name, await file.text());
      const failed: string[] = [];
      let created = 0;
      setProgress({ done: 0, total: records.length, label: "Importing" });
      for (let i = 0; i < records.length; i += batchSize) {
        const chunk = records.slice(i, i + batchSize);
        const requests = chunk.map((r) => {
          const data = { ...r };
          delete data.last_modified;
          delete data.schema;
          return data.id !== undefined && data.id !== ""
            ? { method: "PUT", path: `${paths.record(bid, cid, String(data.id))}`, body: { data } }
            : { method: "POST", path: paths.records(bid, cid), body: { data } };
        });
        const responses = await client.batch(requests);
        responses.forEach((res, j) => {
          if (res.status >= 400) failed.push(`row ${i + j + 1}${chunk[j].id ? ` (${String(chunk[j].id)})` : ""}: ${res.body?.message ?? res.status}`);
          else created += 1;
        });
        setProgress({ done: Math.min(i + batchSize, records.length), total: records.length, label: "Importing" });
      }
      setFailures(failed);
      setResult(`Imported ${created} of ${records.length} record${records.length === 1 ? "" : "s"}${failed.length ? `; ${failed.length} failed` : ""}.`);
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  return (
    <div class="transfer">
      <h2>Export</h2>
      <p class="muted small">All records of the collection, every field. CSV cells holding objects, arrays, numbers or booleans are written as JSON.</p>
      <div class="inline">
        <button disabled={busy} onClick={() => exportAs("json")}>
          Export JSON
        </button>
        <button disabled={busy} onClick={() => exportAs("csv")}>
          Export CSV
        </button>
      </div>
      <h2>Import</h2>
      <p class="muted small">
        A JSON array of records or a CSV file with a header row. Records with an <code>id</code> are created or replaced, the others created. Each record is
        validated by the server against the collection's schema.
      </p>
      <div class="inline">
        <input type="file" name="import-file" accept=".json,.csv,application/json,text/csv" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        <button class="primary" disabled={!file || busy} onClick={importFile}>
          Import
        </button>
      </div>
      {progress && (
        <div class="progress" role="status">
          <progress max={progress.total ?? undefined} value={progress.done} /> {progress.label}: {progress.done}
          {progress.total !== null ? ` / ${progress.total}` : ""}
        </div>
      )}
      <ErrorBox error={error} />
      {result && (
        <div class={failures.length ? "error" : "ok"} role="status" data-testid="transfer-result">
          {result}
        </div>
      )}
      {failures.length > 0 && (
        <ul class="failures small">
          {failures.slice(0, 50).map((f) => (
            <li key={f}>{f}</li>
          ))}
          {failures.length > 50 && <li>… and {failures.length - 50} more</li>}
        </ul>
      )}
    </div>
  );
}
