// Permission logic: readable principal names, which permissions each kind of object has, and
// the effective access ("who can see this?"): the object's own ACL, what its parents grant
// (Kinto's inheritance), and group principals expanded to their members.

export type Kind = "bucket" | "collection" | "group" | "record";
export type Acl = Record<string, string[] | undefined>;

export const KIND_PERMISSIONS: Record<Kind, string[]> = {
  bucket: ["read", "write", "collection:create", "group:create"],
  collection: ["read", "write", "record:create"],
  group: ["read", "write"],
  record: ["read", "write"],
};

/** What each permission means, for the editor. */
export const PERMISSION_HELP: Record<string, string> = {
  read: "can read it (and everything inside it)",
  write: "can change and delete it (and everything inside it), and edit its permissions",
  "collection:create": "can create collections in it",
  "group:create": "can create groups in it",
  "record:create": "can create records in it",
};

const GROUP_RE = /^\/buckets\/([^/]+)\/groups\/([^/]+)$/;

/** `{bucket, group}` when the principal is a group URI. */
export function parseGroup(principal: string): { bucket: string; group: string } | null {
  const m = GROUP_RE.exec(principal);
  return m ? { bucket: decodeURIComponent(m[1]), group: decodeURIComponent(m[2]) } : null;
}

/** A human name for a principal; `me` is the signed-in user id. */
export function principalLabel(principal: string, me?: string, groupTitles: Record<string, string> = {}): string {
  const you = me && principal === me ? " (you)" : "";
  if (principal === "system.Everyone") return "Everyone, even anonymous";
  if (principal === "system.Authenticated") return "Any signed-in user";
  const group = parseGroup(principal);
  if (group) {
    const title = groupTitles[principal];
    return `Group ${title ? `“${title}” (${group.group})` : group.group} in ${group.bucket}`;
  }
  const colon = principal.indexOf(":");
  if (colon > 0) {
    const scheme = principal.slice(0, colon);
    const rest = principal.slice(colon + 1);
    switch (scheme) {
      case "account":
        return `${rest} (account)${you}`;
      case "basicauth":
        return `Basic-auth user ${rest.slice(0, 8)}…${you}`;
      case "device":
        return `Device ${rest}${you}`;
      case "app":
        return `App ${rest}${you}`;
      case "portier":
      case "fxa":
      case "ldap":
        return `${rest} (${scheme})${you}`;
    }
  }
  return `${principal}${you}`;
}

/** Normalises what a user typed in the "add principal" box (`alice` → `account:alice`). */
export function normalizePrincipal(input: string, bucket?: string): string {
  const text = input.trim();
  if (text === "") return "";
  const lower = text.toLowerCase();
  if (lower === "everyone" || lower === "system.everyone") return "system.Everyone";
  if (lower === "authenticated" || lower === "system.authenticated") return "system.Authenticated";
  if (text.startsWith("group:") && bucket) return `/buckets/${bucket}/groups/${text.slice(6)}`;
  if (text.startsWith("/buckets/") || text.includes(":")) return text;
  return `account:${text}`;
}

/** The ACLs along an object's path, outermost first: e.g. bucket then collection then record. */
export interface AclChain {
  kind: Kind;
  /** One entry per level, `null` when the caller may not read that level's permissions. */
  levels: { kind: Kind; id: string; acl: Acl | null }[];
}

/** Which permissions on which ancestor levels grant `permission` on an object of `kind`. */
export function grantingPermissions(kind: Kind, permission: string): { level: Kind; permission: string }[] {
  const out: { level: Kind; permission: string }[] = [];
  const add = (level: Kind, ...perms: string[]) => perms.forEach((p) => out.push({ level, permission: p }));
  if (kind === "bucket") {
    if (permission === "read") add("bucket", "read", "write");
    else if (permission === "write") add("bucket", "write");
    else add("bucket", permission, "write");
    return out;
  }
  if (kind === "collection" || kind === "group") {
    if (permission === "read") add(kind, "read", "write");
    else if (permission === "write") add(kind, "write");
    else add(kind, permission, "write");
    if (permission === "read") add("bucket", "read", "write");
    else add("bucket", "write");
    return out;
  }
  // record
  if (permission === "read") add("record", "read", "write");
  else add("record", "write");
  if (permission === "read") add("collection", "read", "write");
  else add("collection", "write");
  if (permission === "read") add("bucket", "read", "write");
  else add("bucket", "write");
  return out;
}

export interface Grant {
  /** The principal as found in an ACL (a group URI, an account, a system principal...). */
  via: string;
  level: Kind;
  permission: string;
}

export interface EffectiveEntry {
  principal: string;
  /** Strongest first: "write" before "read" before create permissions. */
  permissions: string[];
  /** Why, per permission. */
  reasons: Record<string, Grant[]>;
}

/**
 * Effective access on the last object of `chain`: every principal that holds one of the
 * object's permissions, directly, through a parent, or as a member of a group that holds it.
 * `members` maps group URIs to their members (missing: the group could not be read).
 */
export function effectiveAccess(chain: AclChain, members: Record<string, string[]> = {}): EffectiveEntry[] {
  const byPrincipal = new Map<string, EffectiveEntry>();
  const grant = (principal: string, permission: string, g: Grant) => {
    let entry = byPrincipal.get(principal);
    if (!entry) {
      entry = { principal, permissions: [], reasons: {} };
      byPrincipal.set(principal, entry);
    }
    if (!entry.permissions.includes(permission)) entry.permissions.push(permission);
    (entry.reasons[permission] ??= []).push(g);
  };
  for (const permission of KIND_PERMISSIONS[chain.kind]) {
    for (const { level, permission: source } of grantingPermissions(chain.kind, permission)) {
      const acl = chain.levels.find((l) => l.kind === level)?.acl;
      for (const principal of acl?.[source] ?? []) {
        const g: Grant = { via: principal, level, permission: source };
        grant(principal, permission, g);
        const groupMembers = parseGroup(principal) ? members[principal] : undefined;
        for (const member of groupMembers ?? []) grant(member, permission, g);
      }
    }
  }
  const order = KIND_PERMISSIONS[chain.kind];
  const rank = (p: string) => (p === "write" ? 0 : p === "read" ? 1 : 2 + order.indexOf(p));
  const entries = [...byPrincipal.values()];
  for (const e of entries) e.permissions.sort((a, b) => rank(a) - rank(b));
  const principalRank = (p: string) => (p === "system.Everyone" ? 0 : p === "system.Authenticated" ? 1 : parseGroup(p) ? 3 : 2);
  entries.sort((a, b) => principalRank(a.principal) - principalRank(b.principal) || a.principal.localeCompare(b.principal));
  return entries;
}

/** Whether `user` (with all its principals, e.g. from the hello view) holds `permission`. */
export function userHas(chain: AclChain, principals: string[], permission: string, members: Record<string, string[]> = {}): boolean {
  const entries = effectiveAccess(chain, members);
  return entries.some((e) => principals.includes(e.principal) && e.permissions.includes(permission));
}

/** A sentence explaining one grant, e.g. "write on the bucket, via group editors". */
export function describeGrant(g: Grant, principal: string, kind: Kind): string {
  const where = g.level === kind ? "on this object" : `inherited from the ${g.level}`;
  const group = parseGroup(g.via);
  const via = g.via !== principal && group ? `, as a member of group ${group.group}` : "";
  return `${g.permission} ${where}${via}`;
}

/** Every group URI appearing in the chain (to fetch members for). */
export function groupsInChain(chain: AclChain): string[] {
  const out = new Set<string>();
  for (const level of chain.levels) {
    for (const principals of Object.values(level.acl ?? {})) {
      for (const p of principals ?? []) if (parseGroup(p)) out.add(p);
    }
  }
  return [...out];
}

/** Adds or removes a principal in one permission of an ACL (returns a new ACL). */
export function togglePrincipal(acl: Acl, permission: string, principal: string, on: boolean): Acl {
  const current = acl[permission] ?? [];
  const next = on ? (current.includes(principal) ? current : [...current, principal]) : current.filter((p) => p !== principal);
  return { ...acl, [permission]: next };
}
