// Collection settings: title, JSON schema (checked while typing, then by the server), the
// table's columns (`displayFields`, as kinto-admin stores them) and default sort.

import { useState } from "preact/hooks";
import { ApiError, paths } from "../api/client";
import { useApp } from "../context";
import { ConflictDialog, ErrorBox } from "../components/ui";
import { checkSchema, fieldsOf } from "../lib/schema";
import { parseSort, sortParam } from "../lib/filters";

export function CollectionSettings({ bid, cid, collection, onSaved }: { bid: string; cid: string; collection: any; onSaved: (c: any) => void }) {
  const { client, session } = useApp();
  const [title, setTitle] = useState<string>(collection.title ?? "");
  const [schemaText, setSchemaText] = useState<string>(collection.schema ? JSON.stringify(collection.schema, null, 2) : "");
  const [display, setDisplay] = useState<string>((collection.displayFields ?? []).join(", "));
  const initialSort = parseSort(collection.sort);
  const [sortField, setSortField] = useState(initialSort?.field ?? "");
  const [sortDesc, setSortDesc] = useState(initialSort?.descending ?? false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [conflict, setConflict] = useState(false);
  const checked = checkSchema(schemaText);
  const schemaFields = fieldsOf(checked.schema).map((f) => f.name);
  const displayList = display.split(",").map((s) => s.trim()).filter(Boolean);
  const validation = session.server?.capabilities?.schema !== undefined;

  const save = async (overwrite = false) => {
    setError(null);
    setSaved(false);
    if (checked.error) return setError(new Error(`Schema: ${checked.error}`));
    const data: Record<string, unknown> = { ...collection };
    delete data.last_modified;
    if (title) data.title = title;
    else delete data.title;
    if (checked.schema) data.schema = checked.schema;
    else delete data.schema;
    if (displayList.length) data.displayFields = displayList;
    else delete data.displayFields;
    if (sortField) data.sort = sortParam(sortField, sortDesc);
    else delete data.sort;
    try {
      const res = await client.request("PUT", paths.collection(bid, cid), { body: { data }, ifMatch: overwrite ? undefined : collection.last_modified });
      setSaved(true);
      onSaved(res.data.data);
    } catch (e) {
      if (e instanceof ApiError && e.conflict) setConflict(true);
      else setError(e);
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
      <label>
        Title
        <input name="title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      <label>
        JSON schema of the records {!validation && <span class="muted small">(the server does not validate records against it)</span>}
        <textarea
          name="schema"
          class="code"
          rows={12}
          spellcheck={false}
          placeholder='{"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}'
          value={schemaText}
          aria-invalid={checked.error ? true : undefined}
          onInput={(e) => setSchemaText(e.currentTarget.value)}
        />
      </label>
      {checked.error ? (
        <div class="error" role="alert">
          {checked.error}
        </div>
      ) : (
        checked.schema && <p class="muted small">Schema OK: {schemaFields.length} field(s): {schemaFields.join(", ")}</p>
      )}
      <label>
        Columns of the records table <span class="muted small">(comma separated; dotted names for nested fields)</span>
        <input name="displayFields" value={display} placeholder={schemaFields.slice(0, 4).join(", ")} onInput={(e) => setDisplay(e.currentTarget.value)} />
      </label>
      {schemaFields.length > 0 && (
        <div class="chips">
          {schemaFields.map((f) => (
            <label class="check" key={f}>
              <input
                type="checkbox"
                checked={displayList.includes(f)}
                onChange={(e) => setDisplay((e.currentTarget.checked ? [...displayList, f] : displayList.filter((d) => d !== f)).join(", "))}
              />{" "}
              {f}
            </label>
          ))}
        </div>
      )}
      <div class="inline">
        <label>
          Default sort
          <input name="sort" list="sort-fields" value={sortField} placeholder="last_modified" onInput={(e) => setSortField(e.currentTarget.value)} />
        </label>
        <datalist id="sort-fields">
          {["last_modified", "id", ...schemaFields].map((f) => (
            <option key={f} value={f} />
          ))}
        </datalist>
        <label class="check">
          <input type="checkbox" checked={sortDesc} onChange={(e) => setSortDesc(e.currentTarget.checked)} /> descending
        </label>
      </div>
      <ErrorBox error={error} />
      {saved && (
        <div class="ok" role="status">
          Settings saved.
        </div>
      )}
      <div class="actions">
        <button class="primary" type="submit" disabled={!!checked.error}>
          Save settings
        </button>
      </div>
      {conflict && (
        <ConflictDialog
          onClose={() => setConflict(false)}
          onReload={() => window.location.reload()}
          onOverwrite={() => {
            setConflict(false);
            save(true);
          }}
        />
      )}
    </form>
  );
}
