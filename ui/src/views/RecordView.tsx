// One record: a form generated from the collection's schema or a raw JSON editor, create /
// duplicate / delete, its attachment, its history and permissions. Saving sends If-Match; a
// 412 opens the conflict dialog (reload or overwrite).

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { href, navigate } from "../router";
import { ConfirmButton, ConflictDialog, Crumbs, ErrorBox, Spinner, Tabs, formatDate } from "../components/ui";
import { History } from "../components/History";
import { PermissionsEditor } from "../components/PermissionsEditor";
import { FieldError, fieldsOf, fromInput, toInput, type FieldSpec } from "../lib/schema";

const RESERVED = ["id", "last_modified", "schema", "attachment"];

export function RecordView({ bid, cid, rid, tab, query }: { bid: string; cid: string; rid: string; tab: string; query: URLSearchParams }) {
  const { client } = useApp();
  const isNew = rid === "_new";
  const from = query.get("from");
  const collection = useAsync(() => client.get(paths.collection(bid, cid)).then((r) => r.data.data), [bid, cid]);
  const loadedFor = `${bid}/${cid}/${rid}?${from ?? ""}`;
  const record = useAsync(async () => {
    if (isNew && !from) return { data: {}, permissions: {}, for: loadedFor };
    const res = await client.get(paths.record(bid, cid, isNew && from ? from : rid));
    if (isNew) {
      const copy = { ...res.data.data };
      for (const k of RESERVED) delete copy[k];
      return { data: copy, permissions: {}, for: loadedFor };
    }
    return { ...res.data, for: loadedFor };
  }, [bid, cid, rid, from]);
  const base = ["buckets", bid, "collections", cid, "records", rid];
  const title = isNew ? (from ? `Duplicate of ${from}` : "New record") : `Record ${rid}`;
  return (
    <section>
      <Crumbs
        items={[
          { label: "Buckets", href: "#/" },
          { label: bid, href: href(["buckets", bid]) },
          { label: cid, href: href(["buckets", bid, "collections", cid]) },
          { label: isNew ? "new" : rid },
        ]}
      />
      <div class="title-row">
        <h1>{title}</h1>
        {!isNew && (
          <>
            <a class="button" href={href(["buckets", bid, "collections", cid, "records", "_new"], { from: rid })}>
              Duplicate
            </a>
            <ConfirmButton
              label="Delete record"
              question={`Delete record “${rid}”? It stays in the history and can be recreated from there.`}
              onConfirm={async () => {
                await client.request("DELETE", paths.record(bid, cid, rid));
                navigate(["buckets", bid, "collections", cid]);
              }}
            />
          </>
        )}
      </div>
      {!isNew && (
        <Tabs
          current={tab}
          tabs={[
            { id: "edit", label: "Edit", href: href(base) },
            { id: "attachment", label: "Attachment", href: href([...base, "attachment"]) },
            { id: "history", label: "History", href: href([...base, "history"]) },
            { id: "permissions", label: "Permissions", href: href([...base, "permissions"]) },
          ]}
        />
      )}
      {(record.loading || collection.loading) && <Spinner />}
      <ErrorBox error={record.error ?? collection.error} onRetry={record.reload} />
      {/* Only with the data of this address: an answer for the previous one (e.g. the record a
          duplicate is made from) would be replaced while the user types. */}
      {record.data && record.data.for === loadedFor && collection.data && tab === "edit" && (
        <Editor bid={bid} cid={cid} rid={isNew ? null : rid} collection={collection.data} initial={record.data.data} onReload={record.reload} />
      )}
      {!isNew && record.data && tab === "attachment" && <Attachment bid={bid} cid={cid} rid={rid} record={record.data.data} onChanged={record.reload} />}
      {!isNew && tab === "history" && <History bid={bid} filters={[["uri", `/buckets/${bid}/collections/${cid}/records/${rid}`]]} />}
      {!isNew && tab === "permissions" && <PermissionsEditor kind="record" bid={bid} cid={cid} rid={rid} />}
    </section>
  );
}

function Editor({ bid, cid, rid, collection, initial, onReload }: { bid: string; cid: string; rid: string | null; collection: any; initial: any; onReload: () => void }) {
  const { client } = useApp();
  const fields = fieldsOf(collection.schema);
  const [mode, setMode] = useState<"form" | "json">(fields.length ? "form" : "json");
  const formValues = () => {
    const v: Record<string, string | boolean> = {};
    for (const f of fields) v[f.name] = toInput(f, initial[f.name]);
    return v;
  };
  // Filled from the first render (an empty form would flash, and could be typed into, before
  // an effect filled it).
  const [values, setValues] = useState<Record<string, string | boolean>>(formValues);
  const [json, setJson] = useState(() => JSON.stringify(stripReserved(initial), null, 2));
  const [newId, setNewId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [fieldError, setFieldError] = useState<FieldError | null>(null);
  const [conflict, setConflict] = useState<any>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Refilled only when another version is loaded (a reload): the effect also runs after the first
  // paint, and refilling then wiped what the user had typed in between.
  const shown = useRef(initial);
  useEffect(() => {
    if (shown.current === initial) return;
    shown.current = initial;
    setValues(formValues());
    setJson(JSON.stringify(stripReserved(initial), null, 2));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initial]);

  /** The record body from the current editor. */
  const collect = (): any => {
    if (mode === "json") {
      try {
        return JSON.parse(json);
      } catch (e) {
        throw new FieldError("json", `The JSON is not valid: ${(e as Error).message}`);
      }
    }
    const data: Record<string, unknown> = stripReserved(initial);
    for (const f of fields) {
      const itemType = collection.schema?.properties?.[f.name]?.items?.type;
      const value = fromInput(f, values[f.name] ?? "", itemType);
      if (value === undefined) delete data[f.name];
      else data[f.name] = value;
    }
    return data;
  };

  const save = async (overwrite = false) => {
    setError(null);
    setFieldError(null);
    setSaved(null);
    let data: any;
    try {
      data = collect();
    } catch (e) {
      if (e instanceof FieldError) return setFieldError(e);
      throw e;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) return setFieldError(new FieldError("json", "A record is a JSON object."));
    setBusy(true);
    try {
      if (rid === null) {
        const body = { data: newId ? { ...data, id: newId } : data };
        const res = await client.request("POST", paths.records(bid, cid), { body, ifNoneMatch: !!newId });
        navigate(["buckets", bid, "collections", cid, "records", res.data.data.id]);
      } else {
        if (initial.attachment && data.attachment === undefined) data.attachment = initial.attachment;
        const res = await client.request("PUT", paths.record(bid, cid, rid), {
          body: { data },
          ifMatch: overwrite ? undefined : initial.last_modified,
        });
        setSaved(`Saved at ${formatDate(res.data.data.last_modified)}`);
        onReload();
      }
    } catch (e) {
      if (e instanceof ApiError && e.conflict && rid === null) setError(new Error(`A record with id “${newId}” already exists.`));
      else if (e instanceof ApiError && e.conflict) setConflict(true);
      else setError(e);
    } finally {
      setBusy(false);
    }
  };

  const switchMode = (next: "form" | "json") => {
    try {
      if (next === "json") setJson(JSON.stringify(collect(), null, 2));
      else {
        const data = JSON.parse(json);
        const v: Record<string, string | boolean> = {};
        for (const f of fields) v[f.name] = toInput(f, data[f.name]);
        setValues(v);
      }
      setFieldError(null);
      setMode(next);
    } catch (e) {
      setFieldError(e instanceof FieldError ? e : new FieldError("json", `The JSON is not valid: ${(e as Error).message}`));
    }
  };

  return (
    <form
      class="editor"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <div class="mode-switch" role="group" aria-label="Editor">
        {fields.length > 0 && (
          <button type="button" class={mode === "form" ? "active" : ""} onClick={() => switchMode("form")}>
            Form
          </button>
        )}
        <button type="button" class={mode === "json" ? "active" : ""} onClick={() => switchMode("json")}>
          JSON
        </button>
        {rid && <span class="muted small">last modified {formatDate(initial.last_modified)}</span>}
      </div>
      {rid === null && (
        <label>
          Record id <span class="muted small">(optional; generated when empty)</span>
          <input name="record-id" value={newId} onInput={(e) => setNewId(e.currentTarget.value)} />
        </label>
      )}
      {mode === "form" &&
        fields.map((f) => (
          <Field key={f.name} field={f} value={values[f.name] ?? ""} invalid={fieldError?.field === f.name} onChange={(v) => setValues({ ...values, [f.name]: v })} />
        ))}
      {mode === "json" && (
        <label>
          Record JSON
          <textarea name="json" class="code" rows={14} spellcheck={false} value={json} onInput={(e) => setJson(e.currentTarget.value)} />
        </label>
      )}
      {fieldError && (
        <div class="error" role="alert">
          {fieldError.message}
        </div>
      )}
      <ErrorBox error={error} />
      {saved && (
        <div class="ok" role="status">
          {saved}
        </div>
      )}
      <div class="actions">
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Saving…" : rid === null ? "Create record" : "Save"}
        </button>
      </div>
      {conflict && (
        <ConflictDialog
          onClose={() => setConflict(null)}
          onReload={() => {
            setConflict(null);
            onReload();
          }}
          onOverwrite={() => {
            setConflict(null);
            save(true);
          }}
        />
      )}
    </form>
  );
}

function stripReserved(data: any): Record<string, unknown> {
  const copy = { ...data };
  for (const k of ["id", "last_modified", "schema"]) delete copy[k];
  return copy;
}

function Field({ field, value, invalid, onChange }: { field: FieldSpec; value: string | boolean; invalid: boolean; onChange: (v: string | boolean) => void }) {
  const label = (
    <>
      {field.label}
      {field.required && <span class="required" title="required"> *</span>}
      {field.description && <span class="muted small"> — {field.description}</span>}
    </>
  );
  const common = { name: `field-${field.name}`, "aria-invalid": invalid ? (true as const) : undefined };
  if (field.widget === "checkbox") {
    return (
      <label class="check">
        <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} /> {label}
      </label>
    );
  }
  return (
    <label>
      {label}
      {field.widget === "select" ? (
        <select {...common} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">—</option>
          {field.options?.map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      ) : field.widget === "textarea" || field.widget === "json" ? (
        <textarea {...common} class={field.widget === "json" ? "code" : ""} rows={4} value={String(value)} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type={field.widget === "number" || field.widget === "integer" ? "number" : "text"}
          step={field.widget === "number" ? "any" : undefined}
          required={field.required}
          placeholder={field.widget === "list" ? "a, b, c" : undefined}
          value={String(value)}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      )}
    </label>
  );
}

function Attachment({ bid, cid, rid, record, onChanged }: { bid: string; cid: string; rid: string; record: any; onChanged: () => void }) {
  const { client, session } = useApp();
  const cap = session.server?.capabilities?.attachments;
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!cap) return <p class="muted">Attachments are not enabled on this server.</p>;
  const att = record.attachment;
  const downloadUrl = att ? new URL(att.location, cap.base_url || `${client.creds.url}/`).toString() : null;
  return (
    <div>
      {att ? (
        <dl class="facts">
          <dt>File</dt>
          <dd>
            <a href={downloadUrl ?? "#"} download={att.filename} target="_blank" rel="noopener">
              {att.filename}
            </a>
          </dd>
          <dt>Type</dt>
          <dd>{att.mimetype}</dd>
          <dt>Size</dt>
          <dd>{att.size} bytes</dd>
          <dt>SHA-256</dt>
          <dd class="small code">{att.hash}</dd>
        </dl>
      ) : (
        <p class="muted">No attachment.</p>
      )}
      <form
        class="inline"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!file) return;
          setBusy(true);
          setError(null);
          try {
            const form = new FormData();
            form.append("attachment", file, file.name);
            await client.request("POST", paths.attachment(bid, cid, rid), { raw: form });
            onChanged();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <input type="file" name="attachment" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        <button class="primary" type="submit" disabled={!file || busy}>
          {busy ? "Uploading…" : att ? "Replace attachment" : "Upload"}
        </button>
        {att && (
          <ConfirmButton
            label="Remove attachment"
            question="Remove the attached file?"
            onConfirm={async () => {
              await client.request("DELETE", paths.attachment(bid, cid, rid));
              onChanged();
            }}
          />
        )}
      </form>
      <ErrorBox error={error} />
      {cap.max_size !== undefined && <p class="muted small">Max size: {cap.max_size} bytes.</p>}
    </div>
  );
}
