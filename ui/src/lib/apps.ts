// Connected apps (`/__apps__`): the shapes the server sends, and the plain words the consent
// panel uses for an app's origin and its scopes.

export interface Scope {
  bucket: string;
  collection: string;
  access: "read" | "write";
  create?: boolean;
}

export interface PendingRequest {
  id: string;
  name: string;
  origin: string | null;
  scopes: Scope[];
  created_at: number;
  expires_at: number;
  status: "pending" | "approved" | "denied" | "completed";
  token_ttl_seconds: number | null;
}

export interface ConnectedApp {
  id: string;
  principal: string;
  name: string;
  origin: string | null;
  scopes: Scope[];
  created_at: number;
  expires_at: number | null;
}

export interface AppsListing {
  pending: PendingRequest[];
  apps: ConnectedApp[];
}

const EXTENSION_ORIGIN = /^(moz|chrome|safari-web)-extension:\/\/[A-Za-z0-9._-]+$/;

const BROWSERS: Record<string, string> = {
  moz: "Firefox",
  chrome: "Chrome, Edge or another Chromium browser",
  "safari-web": "Safari",
};

/** Whether an `Origin` is a browser extension's (moz-, chrome-, safari-web-extension://<id>). */
export function isExtensionOrigin(origin: string | null | undefined): boolean {
  return typeof origin === "string" && EXTENSION_ORIGIN.test(origin);
}

export interface OriginInfo {
  /** What the origin is, in a few words. */
  kind: string;
  /** A warning to show prominently, or null for a browser extension. */
  warning: string | null;
}

/** How the consent panel describes where a request came from. */
export function describeOrigin(origin: string | null | undefined): OriginInfo {
  if (origin === null || origin === undefined || origin === "") {
    return {
      kind: "Local app (no origin)",
      warning:
        "This request did not come from a browser extension or a web page, but from a program on this computer. " +
        "Approve it only if you just started that program yourself.",
    };
  }
  if (isExtensionOrigin(origin)) {
    const browser = BROWSERS[origin.slice(0, origin.indexOf("-extension://"))];
    return { kind: `Browser extension (${browser})`, warning: null };
  }
  return {
    kind: "Web page",
    warning:
      `This request comes from ${origin}, which is not a browser extension. Approving gives that site ` +
      "access to your data: approve it only if you trust it and expected this request.",
  };
}

/** `bucket/collection`. */
export function scopeTarget(scope: Scope): string {
  return `${scope.bucket}/${scope.collection}`;
}

/** One scope in plain words: "read and write home/recipes", "create a new collection …". */
export function describeScope(scope: Scope): string {
  const what = scope.access === "write" ? "read and write" : "read";
  if (scope.create) {
    return `create a new collection ${scopeTarget(scope)} (and its bucket) if it does not exist, and ${what} it`;
  }
  return `${what} ${scopeTarget(scope)}`;
}

/** A token lifetime in words: "1 hour", "30 days", "until revoked". */
export function describeLifetime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "until revoked";
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return `${seconds} seconds`;
}

/**
 * What to tell the owner when approving failed with Kinto's 404 body (`details: {id,
 * resource_name}`, no `message`): a scope names a collection that does not exist and the app did
 * not ask to create it. `null` for any other error (its own message says enough).
 */
export function approvalFailure(status: number, body: unknown): string | null {
  if (status !== 404 || !body || typeof body !== "object") return null;
  const details = (body as { details?: { id?: unknown; resource_name?: unknown } }).details;
  if (!details || typeof details.id !== "string") return null;
  const what = typeof details.resource_name === "string" ? details.resource_name : "object";
  return (
    `The ${what} ${details.id} does not exist, and the app did not ask to create it. ` +
    "Create it first (or ask the app to request a new collection), or deny this request."
  );
}
