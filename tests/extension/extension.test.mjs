// The example extension (tests/extension/extension) loaded unpacked in Debian's Chromium: it runs
// the connect flow, the owner approves with `kintoun apps approve`, and it syncs its collection
// with kinto.js; another collection stays forbidden, the token is refused from another origin,
// and after `kintoun apps revoke` its next request gets a 401. Also: a plain web page on another
// origin can neither read nor write, and a DNS-rebinding Host is refused.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { api, kintounBin, screenshot, startServer, test } from "../ui/lib/harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** `kintoun ARGS...` as the server's owner (same data dir and address as the running server). */
function kintoun(server, ...args) {
  const env = { ...process.env, KINTOUN_SECRETS_BACKEND: "file", KINTOUN_BIND: new URL(server.root).host, KINTOUN_LOG: "warn" };
  const res = spawnSync(kintounBin(), [...args, "--data-dir", server.dataDir], { encoding: "utf8", env });
  assert.equal(res.status, 0, `kintoun ${args.join(" ")}: ${res.stderr}`);
  return res.stdout;
}

/** The unpacked extension with kinto.js copied in, in a temporary directory. */
function extensionDir() {
  const dir = mkdtempSync(join(tmpdir(), "kintoun-ext-"));
  cpSync(join(HERE, "extension"), dir, { recursive: true });
  cpSync(join(HERE, "node_modules", "kinto", "dist", "kinto.min.js"), join(dir, "kinto.min.js"));
  return dir;
}

async function launchWithExtension(dir) {
  const profile = mkdtempSync(join(tmpdir(), "kintoun-ext-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, `--disable-extensions-except=${dir}`, `--load-extension=${dir}`],
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent("serviceworker");
  return { context, id: new URL(worker.url()).host, profile };
}

async function result(page) {
  await page.waitForFunction(() => ["done", "failed"].includes(document.getElementById("status").textContent));
  const value = JSON.parse(await page.textContent("#result"));
  await page.evaluate(() => (document.getElementById("status").textContent = "idle"));
  return value;
}

test("the example extension connects with consent, syncs its collection only, and loses access on revocation", async () => {
  const server = await startServer(["admin"]);
  const dir = extensionDir();
  let browser;
  try {
    for (const path of ["/buckets/home", "/buckets/home/collections/recipes", "/buckets/home/collections/passwords"]) {
      assert.equal((await api(server, "PUT", path, {})).status, 201, path);
    }
    browser = await launchWithExtension(dir);
    const page = await browser.context.newPage();
    page.on("pageerror", (e) => console.error(`[extension page error] ${e.message}`));
    await page.goto(`chrome-extension://${browser.id}/app.html?server=${encodeURIComponent(server.root)}&bucket=home&collection=recipes`);
    await page.waitForFunction(() => document.getElementById("status").textContent === "waiting for approval");
    const requestId = await page.textContent("#request");
    const listing = kintoun(server, "apps");
    assert.match(listing, new RegExp(`pending\\s+${requestId}\\s+Recipes example extension\\s+chrome-extension://${browser.id}`));
    kintoun(server, "apps", "approve", requestId);

    const synced = await result(page);
    assert.deepEqual(synced, { ok: true, local: 1, published: 1 });
    const records = await api(server, "GET", "/buckets/home/collections/recipes/records");
    assert.equal(records.body.data.length, 1, "the record reached the server");

    await page.click("#probe");
    assert.equal((await result(page)).status, 403, "another collection stays forbidden");

    // The same token from another origin is refused.
    const { token } = await page.evaluate(() => chrome.storage.local.get("token"));
    const recipes = `${server.root}/buckets/home/collections/recipes/records`;
    const fromWeb = await fetch(recipes, { headers: { Authorization: `Bearer ${token}`, Origin: "https://evil.example" } });
    assert.equal(fromWeb.status, 400, "a web origin is refused outright (CORS)");
    const otherExtension = "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const stolen = await fetch(recipes, { headers: { Authorization: `Bearer ${token}`, Origin: otherExtension } });
    assert.equal(stolen.status, 401, "another extension cannot use the token");
    assert.equal((await stolen.json()).message, "This token is bound to another origin.");
    await screenshot(page, "extension-connected");

    // Revocation through the CLI: the next request gets a 401.
    const appLine = kintoun(server, "apps").split("\n").find((line) => line.startsWith("app "));
    assert.ok(appLine, "the connected app is listed");
    kintoun(server, "apps", "revoke", appLine.split(/\s+/)[1]);
    await page.click("#sync");
    const refused = await result(page);
    assert.equal(refused.status, 401, JSON.stringify(refused));
    await screenshot(page, "extension-revoked");
  } finally {
    await browser?.context.close();
    if (browser) rmSync(browser.profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
});

test("a web page on another origin can neither read nor write, and a rebinding Host is refused", async () => {
  const server = await startServer(["admin"]);
  const everyone = { permissions: { read: ["system.Everyone"], write: ["system.Everyone"] } };
  assert.equal((await api(server, "PUT", "/buckets/open", everyone)).status, 201);
  assert.equal((await api(server, "PUT", "/buckets/open/collections/notes", {})).status, 201);
  assert.equal((await api(server, "POST", "/buckets/open/collections/notes/records", { data: { secret: 1 } })).status, 201);
  const records = `${server.root}/buckets/open/collections/notes/records`;
  const page = `<!doctype html><form id="f" method="POST" enctype="text/plain" action="${records}">
    <input name='{"data": {"pwned": "' value='form"}}'></form><script>
    window.outcome = (async () => {
      const out = {};
      try { await (await fetch(${JSON.stringify(records)})).json(); out.read = "read"; } catch (e) { out.read = "blocked"; }
      try {
        await fetch(${JSON.stringify(records)}, { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: '{"data": {"pwned": "fetch"}}' });
        out.write = "sent";
      } catch (e) { out.write = "blocked"; }
      return out;
    })();</script>`;
  const site = http.createServer((_, res) => res.writeHead(200, { "Content-Type": "text/html" }).end(page));
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    // Another port is another origin, as any web site would be.
    const tab = await browser.newPage();
    await tab.goto(`http://localhost:${site.address().port}/`);
    const outcome = await tab.evaluate(() => window.outcome);
    assert.equal(outcome.read, "blocked", "the page cannot read the vault");
    await tab.evaluate(() => document.getElementById("f").submit());
    await tab.waitForLoadState();
    await screenshot(tab, "web-page-refused");
    const after = await api(server, "GET", "/buckets/open/collections/notes/records");
    assert.deepEqual(after.body.data.map((r) => Object.keys(r).filter((k) => k === "pwned")).flat(), [], "nothing was written");
    assert.equal(after.body.data.length, 1);

    // DNS rebinding: the same request under a foreign Host name is refused.
    const rebound = await new Promise((resolve, reject) => {
      const url = new URL(records);
      http.get({ host: url.hostname, port: url.port, path: url.pathname, headers: { Host: "evil.example" } }, resolve).on("error", reject);
    });
    assert.equal(rebound.statusCode, 400);
    rebound.resume();
  } finally {
    await browser.close();
    site.close();
    await server.stop();
  }
});
