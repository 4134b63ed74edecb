// A small structural diff of two JSON values, for history entries: one line per changed path.

export type Change = { path: string; kind: "added" | "removed" | "changed"; before?: unknown; after?: unknown };

const IGNORED = new Set(["last_modified", "schema"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function diff(before: unknown, after: unknown, path = "", top = true): Change[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      if (top && IGNORED.has(k)) return [];
      const p = path ? `${path}.${k}` : k;
      if (!(k in before)) return [{ path: p, kind: "added" as const, after: after[k] }];
      if (!(k in after)) return [{ path: p, kind: "removed" as const, before: before[k] }];
      return diff(before[k], after[k], p, false);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (before === undefined) return [{ path: path || "(value)", kind: "added", after }];
  if (after === undefined) return [{ path: path || "(value)", kind: "removed", before }];
  return [{ path: path || "(value)", kind: "changed", before, after }];
}

/** A short JSON preview for a diff line. */
export function preview(v: unknown, max = 80): string {
  const text = JSON.stringify(v) ?? "undefined";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
