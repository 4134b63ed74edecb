// The Connected apps page: an extension's connection request (POST /v1/connect with PKCE) shows
// up for the owner with its origin and scopes; approving lets the extension trade its code for a
// token that reads the collection; revoking in the UI kills the token. Also: a request on a
// missing collection shows the server's 404, a local app (no Origin) is flagged, and Deny works.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { api, hasHorizontalScroll, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

const EXTENSION = `chrome-extension://${"abcdefghijklmnop".repeat(2)}`;

let server;
let browser;
before(async () => {
  server = await startServer(["admin"]);
  browser = await launchBrowser();
  assert.equal((await api(server, "PUT", "/buckets/home", {})).status, 201);
  assert.equal((await api(server, "PUT", "/buckets/home/collections/recipes", {})).status, 201);
  assert.equal((await api(server, "PUT", "/buckets/home/collections/recipes/records/soup", { data: { title: "Soup" } })).status, 201);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const b64url = (buf) => buf.toString("base64url");

/** What an app does: POST /v1/connect with a PKCE challenge; returns { id, verifier, origin }. */
async function connect(name, scopes, origin) {
  const verifier = b64url(randomBytes(32));
  const code_challenge = b64url(createHash("sha256").update(verifier).digest());
  const headers = { "Content-Type": "application/json", ...(origin ? { Origin: origin } : {}) };
  const res = await fetch(`${server.root}/connect`, { method: "POST", headers, body: JSON.stringify({ name, scopes, code_challenge }) });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.equal(body.status, "pending");
  return { id: body.id, verifier, origin };
}

/** GET /v1/connect/{id} as the app (same Origin) until it is no longer pending. */
async function pollDecision(request) {
  const headers = request.origin ? { Origin: request.origin } : {};
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${server.root}/connect/${request.id}`, { headers });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    if (body.status !== "pending") return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the request stayed pending");
}

async function exchange(request, code) {
  const headers = { "Content-Type": "application/json", ...(request.origin ? { Origin: request.origin } : {}) };
  const res = await fetch(`${server.root}/connect/${request.id}/token`, {
    method: "POST",
    headers,
    body: JSON.stringify({ code, code_verifier: request.verifier }),
  });
  return { status: res.status, body: await res.json() };
}

async function readRecipes(token, origin) {
  const res = await fetch(`${server.root}/buckets/home/collections/recipes/records`, {
    headers: { Authorization: `Bearer ${token}`, Origin: origin },
  });
  return { status: res.status, body: await res.json() };
}

const consent = (page, name) => page.locator("article.consent", { hasText: name });

test("approve an extension's request, use its token, revoke it in the UI", async () => {
  const request = await connect("Recipes sync", [{ bucket: "home", collection: "recipes", access: "write" }], EXTENSION);

  const page = await newPage(browser, { width: 800, height: 600 });
  await signIn(page, server, "admin");
  // The navigation counts the waiting request.
  await page.waitForSelector("header.top a.apps-link .badge.count:has-text('1')");
  await page.click("header.top a.apps-link");
  await page.waitForSelector("h1:has-text('Connected apps')");
  assert.match(page.url(), /#\/apps$/);
  const panel = consent(page, "Recipes sync");
  await panel.waitFor();
  assert.equal(await panel.locator(".origin-value").textContent(), EXTENSION);
  assert.match(await panel.locator(".origin").textContent(), /Browser extension \(Chrome/);
  assert.equal(await panel.locator(".warning").count(), 0, "no warning for an extension origin");
  assert.equal(await panel.locator(".scopes li").textContent(), "read and write home/recipes");
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "apps-consent-800x600");

  await panel.locator("button:has-text('Approve')").click();
  await page.waitForSelector(".ok:has-text('Approved “Recipes sync”')");
  await page.waitForSelector("text=No connection requests right now.");
  assert.equal(await page.locator("header.top a.apps-link .badge.count").count(), 0);

  // The extension collects its code and trades it (with the PKCE verifier) for a token.
  const decision = await pollDecision(request);
  assert.equal(decision.status, "approved");
  assert.ok(decision.code);
  const token = await exchange(request, decision.code);
  assert.equal(token.status, 201, JSON.stringify(token.body));
  const read = await readRecipes(token.body.access_token, EXTENSION);
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.deepEqual(read.body.data.map((r) => r.id), ["soup"]);

  // The app is listed (the page refreshes by itself), with origin, scopes, dates.
  const item = page.locator("ul.connected li.entry", { hasText: "Recipes sync" });
  await item.waitFor();
  assert.equal(await item.locator(".origin-value").textContent(), EXTENSION);
  assert.equal(await item.locator(".scopes li").textContent(), "read and write home/recipes");
  assert.match(await item.textContent(), /Connected .* no expiry \(until revoked\)/);
  assert.match(await item.textContent(), new RegExp(`app:${token.body.app_id}`));
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "apps-connected-800x600");

  // Revoke, confirmed in a dialog; the token dies.
  await item.locator("button:has-text('Revoke')").click();
  await page.click(".modal button:has-text('Yes, revoke')");
  await page.waitForSelector(".ok:has-text('Revoked “Recipes sync”')");
  await page.waitForSelector("text=No app is connected.");
  const after = await readRecipes(token.body.access_token, EXTENSION);
  assert.equal(after.status, 401, JSON.stringify(after.body));
  await screenshot(page, "apps-revoked");
});

test("a scope on a missing collection shows the server's 404; a local app is flagged; Deny", async () => {
  const missing = await connect("Notes", [{ bucket: "home", collection: "notes", access: "read" }], EXTENSION);
  const local = await connect("Backup tool", [{ bucket: "home", collection: "recipes", access: "read" }, { bucket: "home", collection: "archive", access: "write", create: true }]);

  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.waitForSelector("header.top a.apps-link .badge.count:has-text('2')");
  await page.goto(`${server.admin}#/apps`);

  // Approving a scope on a collection that does not exist (and may not be created) fails with the server's message.
  const notes = consent(page, "Notes");
  await notes.locator("button:has-text('Approve')").click();
  await notes.locator(".error:has-text('404')").waitFor();
  const { body: missingBody } = await api(server, "POST", `/__apps__/requests/${missing.id}`, { approve: true });
  assert.equal(missingBody.code, 404);
  assert.equal(missingBody.details.id, "/buckets/home/collections/notes");
  assert.match(await notes.locator(".error").textContent(), /Not found \(404\)/);
  const explained = await notes.locator(".warning").textContent();
  assert.ok(explained.includes(`The collection ${missingBody.details.id} does not exist`), explained);

  // A local app (no Origin) gets a visible warning; its new-collection scope is spelled out.
  const backup = consent(page, "Backup tool");
  assert.match(await backup.locator(".origin").textContent(), /Local app \(no origin\)/);
  assert.match(await backup.locator(".warning").textContent(), /Not a browser extension/);
  assert.deepEqual(await backup.locator(".scopes li").allTextContents(), [
    "read home/recipes",
    "create a new collection home/archive (and its bucket) if it does not exist, and read and write itnew collection",
  ]);
  await screenshot(page, "apps-warning");

  // Deny: no confirmation, the app learns it, cannot get a token, nothing was created.
  for (const [panel, name] of [[backup, "Backup tool"], [notes, "Notes"]]) {
    await panel.locator("button:has-text('Deny')").click();
    await page.waitForSelector(`.ok:has-text('Denied “${name}”')`);
  }
  await page.waitForSelector("text=No connection requests right now.");
  for (const request of [local, missing]) {
    const decision = await pollDecision(request);
    assert.equal(decision.status, "denied");
    assert.equal(decision.code, undefined);
    const token = await exchange(request, "x".repeat(43));
    assert.equal(token.status, 400, JSON.stringify(token.body));
  }
  assert.equal((await api(server, "GET", "/buckets/home/collections/archive")).status, 404);
  assert.deepEqual((await api(server, "GET", "/__apps__")).body, { pending: [], apps: [] });
  await screenshot(page, "apps-denied");
});
