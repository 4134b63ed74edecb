// Sync links (`/__sync__/links`), "Shared with me" (`/__devices__/shared-with-me`) and the
// conflict inbox: the shapes the server sends, and the pure logic the Sync page uses (progress
// wording, a link's remote described, the slug a new local bucket gets, field-by-field three-way
// rows of a conflict and the record a field merge makes, 400 details mapped to form fields).

export type Direction = "both" | "pull";
export type Phase = "idle" | "pulling" | "pushing" | "waiting";

export interface SyncProgress {
  phase: Phase;
  run: number;
  completed_run: number;
  pulled: number;
  pushed: number;
  total: number | null;
  pages?: number;
  conflicts_found?: number;
  started_at?: number | null;
  finished_at?: number | null;
  last_run_error?: string | null;
  next_sync_at?: number | null;
}

export interface SyncLink {
  id: string;
  local: { bucket: string; collection: string };
  remote: { kind: "kinto" | "device"; url: string | null; device: string | null; bucket: string; collection: string };
  direction: Direction;
  last_sync: number | null;
  last_error: string | null;
  created_at: number;
  conflicts: number;
  progress: SyncProgress | null;
}

export interface Conflict {
  record_id: string;
  /** Fields of the local version, `null` when deleted here. */
  mine: Record<string, unknown> | null;
  mine_last_modified: number;
  theirs: Record<string, unknown> | null;
  theirs_last_modified: number | null;
  /** The last agreed version: absent when none, `null` when it was deleted. */
  base?: Record<string, unknown> | null;
  reason: string;
  detected_at: number;
}

export interface SharedCollection {
  bucket: string;
  collection: string;
  access: "read" | "write";
  via: string;
  title?: string;
}

export interface PeerShares {
  device: string;
  display_id: string;
  name: string;
  reachable: boolean;
  error?: string;
  shares: SharedCollection[];
}

/** The conflicts waiting over every link (the navigation's badge). */
export const openConflicts = (links: SyncLink[]): number => links.reduce((n, link) => n + (link.conflicts || 0), 0);

/** Whether the run "Sync now" answered is finished. */
export const runDone = (link: SyncLink | undefined, run: number): boolean => (link?.progress?.completed_run ?? 0) >= run;

/** A one-line summary of a link's live progress. */
export function progressText(progress: SyncProgress | null | undefined): string {
  if (!progress) return "Not running";
  const counts = `${progress.pulled} pulled, ${progress.pushed} pushed`;
  const total = progress.total != null ? ` of ${progress.total}` : "";
  switch (progress.phase) {
    case "pulling":
      return `Pulling… ${progress.pulled}${total} pulled`;
    case "pushing":
      return `Pushing… ${counts}`;
    case "waiting":
      return "Waiting: the remote asked to slow down";
    default:
      return progress.completed_run > 0 ? `Idle (last run: ${counts})` : "Idle";
  }
}

/** Whether the link's task is working right now. */
export const isBusy = (progress: SyncProgress | null | undefined): boolean =>
  !!progress && (progress.phase === "pulling" || progress.phase === "pushing" || progress.run > progress.completed_run);

export const directionLabel = (direction: Direction): string => (direction === "pull" ? "Read-only mirror (pull only)" : "Two-way");

/** Device ids are shown grouped and sent compact: compare them without separators or case. */
export const sameDevice = (a: string | null | undefined, b: string | null | undefined): boolean =>
  !!a && !!b && a.replace(/[^0-9a-z]/gi, "").toUpperCase() === b.replace(/[^0-9a-z]/gi, "").toUpperCase();

/** Where a link's remote is, in words (a paired device by its name when known). */
export function remoteLabel(link: SyncLink, deviceNames: Record<string, string> = {}): string {
  const where = `${link.remote.bucket}/${link.remote.collection}`;
  if (link.remote.kind === "device") {
    const name = Object.entries(deviceNames).find(([id]) => sameDevice(id, link.remote.device))?.[1];
    return `${where} on ${name ?? `device ${link.remote.device ?? "?"}`}`;
  }
  return `${where} at ${link.remote.url ?? "?"}`;
}

/** The link that mirrors a device's shared collection, if any. */
export function linkForShare(links: SyncLink[], device: string, share: Pick<SharedCollection, "bucket" | "collection">): SyncLink | undefined {
  return links.find(
    (l) => l.remote.kind === "device" && sameDevice(l.remote.device, device) && l.remote.bucket === share.bucket && l.remote.collection === share.collection,
  );
}

/** A valid Kinto bucket id from a name: "Kitchen laptop" → "kitchen-laptop". */
export function slug(name: string, fallback = "shared"): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return s || fallback;
}

/** A 400's details by form field (`remote.url` → "..."), the rest under "". */
export function fieldErrors(details: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(details)) return out;
  for (const d of details as { name?: string; description?: string }[]) {
    const key = d?.name ?? "";
    out[key] = out[key] ? `${out[key]}; ${d?.description ?? ""}` : String(d?.description ?? "Invalid");
  }
  return out;
}

export type Side = "mine" | "theirs";

/** One field of a conflict, three ways. */
export interface FieldRow {
  field: string;
  base: unknown;
  mine: unknown;
  theirs: unknown;
  /** Present on each side (undefined: the field is absent there). */
  inBase: boolean;
  inMine: boolean;
  inTheirs: boolean;
  /** Mine and theirs differ on this field. */
  differs: boolean;
  /** Which side changed it since the common ancestor (both, when there is no ancestor and they differ). */
  changedBy: "none" | Side | "both";
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const HIDDEN = new Set(["id", "last_modified"]);

/** The rows of a three-way view, sorted by field name (differences included, all fields shown). */
export function conflictRows(conflict: Pick<Conflict, "mine" | "theirs" | "base">): FieldRow[] {
  const base = conflict.base ?? null;
  const sides = [base, conflict.mine, conflict.theirs].map((v) => v ?? {});
  const fields = [...new Set(sides.flatMap((v) => Object.keys(v)))].filter((f) => !HIDDEN.has(f)).sort();
  return fields.map((field) => {
    const [b, m, t] = sides.map((v) => (v as Record<string, unknown>)[field]);
    const inBase = !!base && field in base;
    const inMine = !!conflict.mine && field in conflict.mine;
    const inTheirs = !!conflict.theirs && field in conflict.theirs;
    const differs = inMine !== inTheirs || !same(m, t);
    let changedBy: FieldRow["changedBy"] = "none";
    if (differs) {
      if (conflict.base === undefined || conflict.base === null) changedBy = "both";
      else {
        const mineChanged = inMine !== inBase || !same(m, b);
        const theirsChanged = inTheirs !== inBase || !same(t, b);
        changedBy = mineChanged && theirsChanged ? "both" : mineChanged ? "mine" : theirsChanged ? "theirs" : "none";
      }
    }
    return { field, base: b, mine: m, theirs: t, inBase, inMine, inTheirs, differs, changedBy };
  });
}

/** The side a merge keeps by default for a field: the one that changed it, else mine. */
export const defaultPick = (row: FieldRow): Side => (row.changedBy === "theirs" ? "theirs" : "mine");

/** The record a field merge makes: each field from the side picked (absent there → left out). */
export function mergeFields(rows: FieldRow[], picks: Record<string, Side>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of rows) {
    const side = picks[row.field] ?? defaultPick(row);
    const present = side === "mine" ? row.inMine : row.inTheirs;
    if (present) out[row.field] = side === "mine" ? row.mine : row.theirs;
  }
  return out;
}

/** A merge needs both versions (a deleted side has no fields to pick). */
export const canMerge = (conflict: Pick<Conflict, "mine" | "theirs">): boolean => !!conflict.mine && !!conflict.theirs;

/** What the "Sync with a Kinto server" form holds. */
export interface KintoLinkValues {
  url: string;
  remoteBucket: string;
  remoteCollection: string;
  localBucket: string;
  localCollection: string;
  user: string;
  password: string;
  direction: Direction;
}

export const KINTO_LINK_EMPTY: KintoLinkValues = { url: "", remoteBucket: "", remoteCollection: "", localBucket: "", localCollection: "", user: "", password: "", direction: "both" };

/** The `POST /__sync__/links` body; the local ids default to the remote ones; credentials only when given. */
export function newKintoLink(v: KintoLinkValues) {
  const remote: Record<string, string> = { kind: "kinto", url: v.url.trim(), bucket: v.remoteBucket.trim(), collection: v.remoteCollection.trim() };
  if (v.user.trim() || v.password) {
    remote.user = v.user.trim();
    remote.password = v.password;
  }
  return {
    local: { bucket: v.localBucket.trim() || v.remoteBucket.trim(), collection: v.localCollection.trim() || v.remoteCollection.trim() },
    remote,
    direction: v.direction,
  };
}

/** What "Keep a copy" proposes for a share: a local bucket named after the device, the same collection, two-way only for write access. */
export function keepCopyDefaults(deviceName: string, share: Pick<SharedCollection, "collection" | "access">): { bucket: string; collection: string; direction: Direction } {
  return { bucket: slug(deviceName, "shared"), collection: share.collection, direction: share.access === "write" ? "both" : "pull" };
}

/** The `POST /__sync__/links` body that mirrors a device's share (a read share is always pull-only). */
export function deviceLinkBody(device: string, share: Pick<SharedCollection, "bucket" | "collection" | "access">, local: { bucket: string; collection: string }, direction: Direction) {
  return {
    local: { bucket: local.bucket.trim(), collection: local.collection.trim() },
    remote: { kind: "device", device, bucket: share.bucket, collection: share.collection },
    direction: share.access === "write" ? direction : "pull",
  };
}
