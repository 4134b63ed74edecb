// Starts and stops a kintoun server for the kinto.js test suite.
//
// Binary: $KINTOUN_BIN, else ${CARGO_TARGET_DIR:-<repo>/target}/debug/kintoun.
// Config: <repo>/tests/compat/reference.toml (accounts + basicauth, default
// bucket, history, permissions endpoint, schema validation, batch_max_requests 25).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "..", "..", "..");
export const CONFIG = join(REPO, "tests", "compat", "reference.toml");

export function kintounBin() {
  if (process.env.KINTOUN_BIN) return process.env.KINTOUN_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(REPO, "target");
  return join(target, "debug", "kintoun");
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/v1\/)/;

function spawnServer(bin, bind, dataDir) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      bin,
      ["serve", "--bind", bind, "--data-dir", dataDir, "--config", CONFIG],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" } },
    );
    let out = "";
    let err = "";
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill("SIGKILL");
      reject(new Error(`kintoun did not report listening within 20s\nstdout: ${out}\nstderr: ${err}`));
    }, 20000);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = LISTENING.exec(out);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolvePromise({ child, url: m[1].replace(/\/$/, ""), port: Number(m[2]) });
      }
    });
    // Keep draining stderr so the child never blocks on a full pipe; keep the tail for diagnostics.
    child.stderr.on("data", (chunk) => {
      err = (err + chunk).slice(-20000);
    });
    child.on("error", (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`kintoun exited early (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
    }, ms);
    child.once("exit", () => {
      clearTimeout(t);
      res();
    });
  });
}

/**
 * Start a kintoun server on a fresh data directory and a free port.
 * Returns { url, port, dataDir, stop(), kill(), restart() }; `url` ends with /v1.
 */
export async function startServer() {
  const bin = kintounBin();
  if (!existsSync(bin)) {
    throw new Error(`kintoun binary not found at ${bin}: run \`cargo build -p kintoun\` or set KINTOUN_BIN`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "kintoun-js-"));
  let proc = await spawnServer(bin, "127.0.0.1:0", dataDir);
  const server = {
    url: proc.url,
    port: proc.port,
    dataDir,
    get running() {
      return proc !== null;
    },
    /** Stop the process (SIGTERM, then SIGKILL after 5s); the data directory is kept. */
    async kill() {
      if (!proc) return;
      const { child } = proc;
      proc = null;
      child.kill("SIGTERM");
      await waitExit(child, 5000);
    },
    /** Start again on the same port and data directory. */
    async restart() {
      await server.kill();
      let lastErr;
      for (let i = 0; i < 50; i++) {
        try {
          proc = await spawnServer(bin, `127.0.0.1:${server.port}`, dataDir);
          return;
        } catch (e) {
          lastErr = e; // port may still be held for a moment
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw lastErr;
    },
    /** Stop the process and remove the data directory. */
    async stop() {
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export function basicAuth(user, password = "secret") {
  return "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
}

/** Headers object for a basicauth user (any user:password pair is accepted). */
export function authHeaders(user, password = "secret") {
  return { Authorization: basicAuth(user, password) };
}

/** Plain fetch helper returning { status, headers, json }. */
export async function raw(server, method, path, { user, body, headers = {} } = {}) {
  const h = { ...headers };
  if (user) h.Authorization = basicAuth(user);
  if (body !== undefined && !h["Content-Type"]) h["Content-Type"] = "application/json";
  const res = await fetch(server.url + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}
