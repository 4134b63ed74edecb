// The permissions editor of a bucket, collection, group or record: principals per permission
// with readable names, and "who can see this?": effective access through parents and groups.

import { useState } from "preact/hooks";
import { ApiError, paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import {
  KIND_PERMISSIONS,
  PERMISSION_HELP,
  describeGrant,
  effectiveAccess,
  groupsInChain,
  normalizePrincipal,
  principalLabel,
  togglePrincipal,
  type Acl,
  type AclChain,
  type Kind,
} from "../lib/permissions";
import { ConflictDialog, ErrorBox, Spinner } from "./ui";

interface Props {
  kind: Kind;
  bid: string;
  cid?: string;
  gid?: string;
  rid?: string;
}

function objectPath({ kind, bid, cid, gid, rid }: Props): string {
  if (kind === "bucket") return paths.bucket(bid);
  if (kind === "collection") return paths.collection(bid, cid ?? "");
  if (kind === "group") return paths.group(bid, gid ?? "");
  return paths.record(bid, cid ?? "", rid ?? "");
}

/** The ACL of an object, or null when the caller may not read it. */
async function aclOf(client: ReturnType<typeof useApp>["client"], path: string): Promise<{ acl: Acl | null; lastModified?: number }> {
  try {
    const res = await client.get(path);
    return { acl: res.data.permissions ?? {}, lastModified: res.data.data?.last_modified };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return { acl: null };
    throw e;
  }
}

export function PermissionsEditor(props: Props) {
  const { client, session } = useApp();
  const { kind, bid, cid } = props;
  const path = objectPath(props);
  const loaded = useAsync(async () => {
    const own = await aclOf(client, path);
    const levels: AclChain["levels"] = [];
    if (kind !== "bucket") levels.push({ kind: "bucket", id: bid, ...(await aclOf(client, paths.bucket(bid))) });
    if (kind === "record") levels.push({ kind: "collection", id: cid ?? "", ...(await aclOf(client, paths.collection(bid, cid ?? ""))) });
    levels.push({ kind, id: path, acl: own.acl });
    const groups = await client.all<any>(paths.groups(bid)).catch(() => [] as any[]);
    return { own, levels, groups };
  }, [path]);
  const [draft, setDraft] = useState<Acl | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [conflict, setConflict] = useState(false);
  if (loaded.loading && !loaded.data) return <Spinner />;
  if (loaded.error || !loaded.data) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  const { own, levels, groups } = loaded.data;
  const acl: Acl = draft ?? own.acl ?? {};
  const groupTitles: Record<string, string> = {};
  const members: Record<string, string[]> = {};
  for (const g of groups) {
    const uri = `/buckets/${bid}/groups/${g.id}`;
    if (g.title) groupTitles[uri] = g.title;
    members[uri] = g.members ?? [];
  }
  const chain: AclChain = { kind, levels: levels.map((l) => (l.kind === kind ? { ...l, acl } : l)) };
  const effective = effectiveAccess(chain, members);
  const unknownGroups = groupsInChain(chain).filter((g) => !(g in members));
  const canEdit = own.acl !== null && (own.acl.write ?? []).length > 0;
  const label = (p: string) => principalLabel(p, session.user.id, groupTitles);
  const suggestions = ["system.Everyone", "system.Authenticated", ...groups.map((g) => `/buckets/${bid}/groups/${g.id}`)];

  const save = async (overwrite = false) => {
    setError(null);
    setSaved(false);
    try {
      await client.request("PUT", path, { body: { permissions: acl }, ifMatch: overwrite ? undefined : own.lastModified });
      setDraft(null);
      setSaved(true);
      loaded.reload();
    } catch (e) {
      if (e instanceof ApiError && e.conflict) setConflict(true);
      else setError(e);
    }
  };

  return (
    <div class="permissions">
      {own.acl === null ? (
        <p class="muted">You cannot read this object's permissions.</p>
      ) : !canEdit ? (
        <p class="muted">Only the writers of this object see and edit its own permissions.</p>
      ) : (
        <form
          class="acl"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <datalist id="principal-suggestions">
            {suggestions.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </datalist>
          {KIND_PERMISSIONS[kind].map((perm) => (
            <fieldset key={perm} class="perm" data-permission={perm}>
              <legend>
                <strong>{perm}</strong> <span class="muted small">{PERMISSION_HELP[perm]}</span>
              </legend>
              <ul class="chips">
                {(acl[perm] ?? []).map((p) => (
                  <li key={p} class="chip" title={p}>
                    {label(p)}
                    <button type="button" class="link" aria-label={`Remove ${p} from ${perm}`} onClick={() => setDraft(togglePrincipal(acl, perm, p, false))}>
                      ✕
                    </button>
                  </li>
                ))}
                {(acl[perm] ?? []).length === 0 && <li class="muted small">nobody (besides what is inherited)</li>}
              </ul>
              <AddPrincipal bid={bid} onAdd={(p) => setDraft(togglePrincipal(acl, perm, p, true))} perm={perm} />
            </fieldset>
          ))}
          <ErrorBox error={error} />
          {saved && (
            <div class="ok" role="status">
              Permissions saved.
            </div>
          )}
          <div class="actions">
            <button class="primary" type="submit" disabled={draft === null}>
              Save permissions
            </button>
            {draft && (
              <button type="button" onClick={() => setDraft(null)}>
                Undo changes
              </button>
            )}
          </div>
        </form>
      )}
      <h2>Who can see this?</h2>
      <p class="muted small">
        Effective access to this {kind}: its own permissions{kind !== "bucket" ? ", those inherited from its parents" : ""} and the members of
        groups{draft ? " (including your unsaved changes)" : ""}.
      </p>
      {levels.some((l) => l.acl === null) && (
        <p class="muted small">Some parents' permissions are hidden from you ({levels.filter((l) => l.acl === null).map((l) => l.kind).join(", ")}): others may have access through them.</p>
      )}
      {unknownGroups.length > 0 && <p class="muted small">Members of {unknownGroups.join(", ")} could not be read.</p>}
      <table class="effective">
        <thead>
          <tr>
            <th>Who</th>
            <th>Can</th>
            <th>Because of</th>
          </tr>
        </thead>
        <tbody>
          {effective.map((e) => (
            <tr key={e.principal} data-principal={e.principal}>
              <td title={e.principal}>{label(e.principal)}</td>
              <td>{e.permissions.join(", ")}</td>
              <td class="small">
                {e.permissions.map((p) => (
                  <div key={p}>
                    <strong>{p}</strong>: {e.reasons[p].map((g) => describeGrant(g, e.principal, kind)).join("; ")}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {conflict && (
        <ConflictDialog
          onClose={() => setConflict(false)}
          onReload={() => {
            setConflict(false);
            setDraft(null);
            loaded.reload();
          }}
          onOverwrite={() => {
            setConflict(false);
            save(true);
          }}
        />
      )}
    </div>
  );
}

function AddPrincipal({ bid, perm, onAdd }: { bid: string; perm: string; onAdd: (p: string) => void }) {
  const [text, setText] = useState("");
  const add = () => {
    const p = normalizePrincipal(text, bid);
    if (p) onAdd(p);
    setText("");
  };
  return (
    <div class="inline">
      <input
        name={`add-${perm}`}
        aria-label={`Add to ${perm}`}
        list="principal-suggestions"
        placeholder="account name, group:<id>, everyone, authenticated…"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            add();
          }
        }}
      />
      <button type="button" onClick={add} disabled={!text.trim()}>
        Add
      </button>
    </div>
  );
}
