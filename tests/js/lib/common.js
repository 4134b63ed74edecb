// Shared setup: the server under test and kinto.js entry points.
//
// `kinto` has no "exports" map: Node resolves `import ... from "kinto"` to its
// CommonJS build (lib/cjs/index.js), whose module.exports carries `default`
// (the offline-first Kinto class) and `KintoClient` (the HTTP client that used
// to be kinto-http.js).
import kintoPkg from "kinto";
import { randomBytes } from "node:crypto";
import { startServer } from "./server.js";

export const Kinto = kintoPkg.default;
export const { KintoClient } = kintoPkg;

/** Unique id suffix so tests never collide, even on a shared server. */
export function uid(prefix = "t") {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/**
 * The server under test: a kintoun process started by lib/server.js, or, when
 * KINTOUN_JS_REMOTE is set (e.g. http://127.0.0.1:8971/v1 for the reference
 * Kinto), that remote server (then tests needing process control are skipped).
 */
export async function getServer() {
  if (process.env.KINTOUN_JS_REMOTE) {
    const url = process.env.KINTOUN_JS_REMOTE.replace(/\/$/, "");
    return { url, external: true, stop: async () => {}, kill: null, restart: null };
  }
  return startServer();
}
