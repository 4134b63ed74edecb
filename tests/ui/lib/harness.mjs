// The UI test harness: a real `kintoun serve` (debug binary, temp data dir, free port, accounts
// created with `kintoun account add`), Debian's Chromium driven by playwright-core, API helpers
// for setting up data, and screenshots saved under an artifacts directory printed in the log.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test as nodeTest } from "node:test";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "..", "..", "..");
export const PASSWORD = "s3cret-pass";
export const ARTIFACTS = process.env.UI_ARTIFACTS || join(REPO, "tests", "ui", "artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
/**
 * Where the UI under test is built. A debug server binary reads the ui/dist of the tree it was
 * compiled in; with `UI_DIST` set (e.g. a prebuilt binary from another checkout), the browser
 * gets /v1/admin/ from this folder instead (as the server would serve it), the API from the server.
 */
const UI_DIST = process.env.UI_DIST ? resolve(process.env.UI_DIST) : null;
const MIME = { ".html": "text/html", ".js": "application/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json" };

/** Answers a /v1/admin/ request from UI_DIST: a file, else index.html with the server's <base>. */
async function serveDist(route) {
  const sub = decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/v1\/admin\/?/, ""));
  const file = join(UI_DIST, sub);
  if (sub && !sub.split("/").includes("..") && existsSync(file) && statSync(file).isFile()) {
    const type = MIME[file.slice(file.lastIndexOf("."))] || "application/octet-stream";
    return route.fulfill({ status: 200, contentType: type, body: readFileSync(file) });
  }
  const html = readFileSync(join(UI_DIST, "index.html"), "utf8").replace("<head>", '<head><base href="/v1/admin/">');
  return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html });
}

export function kintounBin() {
  if (process.env.KINTOUN_BIN) return process.env.KINTOUN_BIN;
  return join(process.env.CARGO_TARGET_DIR || join(REPO, "target"), "debug", "kintoun");
}

/** `kintoun account add NAME` (password on stdin) before the server starts. */
function addAccount(bin, dataDir, name) {
  const res = spawnSync(bin, ["account", "add", name, "--data-dir", dataDir], {
    input: `${PASSWORD}\n`,
    encoding: "utf8",
    env: { ...process.env, KINTOUN_SECRETS_BACKEND: "file" },
  });
  if (res.status !== 0) throw new Error(`kintoun account add ${name} failed: ${res.stderr}`);
}

/**
 * Starts a server with accounts `admin`, `alice`, `bob`; returns { url, root, stop() }. `env`
 * adds environment variables (settings such as `KINTOUN_LAN_SHARING`).
 */
export async function startServer(accounts = ["admin", "alice", "bob"], { env = {} } = {}) {
  const bin = kintounBin();
  if (!existsSync(bin)) throw new Error(`kintoun binary not found at ${bin}: run \`cargo build -p kintoun\` or set KINTOUN_BIN`);
  if (!existsSync(join(UI_DIST ?? join(REPO, "ui", "dist"), "index.html"))) throw new Error("ui/dist is not built: run `make ui`");
  const dataDir = mkdtempSync(join(tmpdir(), "kintoun-ui-"));
  for (const name of accounts) addAccount(bin, dataDir, name);
  const child = spawn(bin, ["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KINTOUN_LOG: process.env.KINTOUN_LOG || "warn", KINTOUN_SECRETS_BACKEND: "file", ...env },
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c) => (err = (err + c).slice(-10000)));
  const root = await new Promise((res, rej) => {
    let out = "";
    const timer = setTimeout(() => rej(new Error(`kintoun did not start: ${err}`)), 20000);
    child.stdout.setEncoding("utf8").on("data", (c) => {
      out += c;
      const m = /listening on (http:\/\/[^\s]+\/v1)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.on("exit", (code) => rej(new Error(`kintoun exited (${code}): ${err}`)));
  });
  return {
    root,
    dataDir,
    admin: `${root}/admin/`,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Settings of a server with LAN sharing on loopback only (device `name`). No interface has the
 * name given, so mDNS never runs in the root namespace in tests; pairing goes by address.
 */
export const lanEnv = (name, extra = {}) => ({
  KINTOUN_LAN_SHARING: "1",
  KINTOUN_LAN_ADDRESS: "127.0.0.1",
  KINTOUN_LAN_PORT: "0",
  KINTOUN_LAN_INTERFACES: "kintoun-none0",
  KINTOUN_DEVICE_NAME: name,
  ...extra,
});

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

const openPages = new Set();

/** A test that, when it fails, saves a screenshot of every page still open (named after it). */
export function test(name, fn) {
  return nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      let i = 0;
      for (const page of openPages) {
        const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
        await screenshot(page, `FAILED-${slug}-${i++}`).catch(() => {});
        console.log(`  (page URL: ${page.url()})`);
      }
      throw err;
    } finally {
      for (const page of [...openPages]) await page.context().close().catch(() => {});
    }
  });
}

/** A fresh browser context (own session storage) and page at a viewport size. */
export async function newPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  if (UI_DIST) await context.route(/\/v1\/admin\//, serveDist);
  const page = await context.newPage();
  openPages.add(page);
  page.on("close", () => openPages.delete(page));
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
  return page;
}

/** Opens the UI and signs in with an account. */
export async function signIn(page, server, user) {
  await page.goto(server.admin);
  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForSelector("header.top .who");
}

/** Saves a screenshot under the artifacts directory and prints its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

/** A JSON API call as `user` (for setting up data and checking effects). */
export async function api(server, method, path, body, user = "admin", headers = {}) {
  const h = { Authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`, ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  const res = await fetch(`${server.root}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Whether the page scrolls horizontally. */
export async function hasHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
