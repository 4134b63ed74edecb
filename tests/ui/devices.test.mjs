// The Devices page against real servers with LAN sharing on loopback (lan_address 127.0.0.1,
// no namespaces needed): the owner sees this device's id and LAN state, shows a pairing code
// (countdown, attempts, QR code when the server has one) and cancels it; a non-owner gets no
// Devices link. Then two servers pair through both UIs (`127.0.0.1:<pairing port>`), comparing
// the check strings (and confirming them when the server has the confirmation step), and one
// revokes the other with the confirmation dialog.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, hasHorizontalScroll, launchBrowser, newPage, screenshot, signIn, startServer, test, lanEnv } from "./lib/harness.mjs";

const lan = (name) => lanEnv(name);

let kitchen;
let study;
let browser;
before(async () => {
  [kitchen, study] = await Promise.all([
    startServer(["admin", "alice"], { env: lan("Kitchen laptop") }),
    startServer(["admin"], { env: lan("Study desktop") }),
  ]);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await kitchen?.stop();
  await study?.stop();
});

async function openDevices(page, server) {
  await signIn(page, server, "admin");
  await page.click("header.top a.devices-link");
  await page.waitForSelector("h1:has-text('Devices')");
  await page.waitForSelector("dl.this-device");
}

test("this device, a pairing code with countdown and QR, cancel; no Devices link for others", async () => {
  const overview = await api(kitchen, "GET", "/__devices__");
  assert.equal(overview.status, 200, JSON.stringify(overview.body));
  assert.equal(overview.body.lan_sharing, true);
  const me = overview.body.this;

  const page = await newPage(browser, { width: 800, height: 600 });
  await openDevices(page, kitchen);
  assert.match(page.url(), /#\/devices$/);
  assert.equal(await page.locator(".this-device .device-name").textContent(), "Kitchen laptop");
  assert.equal(await page.locator(`.this-device code.device-id[data-id='${me.id}']`).textContent(), me.display_id);
  assert.match(me.display_id, /^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
  assert.equal(await page.locator(".this-device .lan-sharing").getAttribute("data-on"), "true");
  assert.match(await page.locator(".this-device .lan-sharing").textContent(), /on listening on 127\.0\.0\.1:\d+/);
  await page.waitForSelector("text=No device is paired yet.");

  await page.click("button:has-text('Show a pairing code')");
  const panel = page.locator(".pairing-code[data-state=live]");
  await panel.waitFor();
  const pairing = await api(kitchen, "GET", "/__devices__/pairing");
  assert.equal(pairing.body.state, "live");
  assert.equal(await panel.locator(".code").textContent(), pairing.body.code);
  assert.match(await panel.locator(".countdown").textContent(), /^Expires in (1:00|0:[0-5]\d)$/);
  assert.equal(await panel.locator(".attempts").textContent(), "Waiting for the other device: 5 attempts left.");
  assert.equal(await panel.locator(".pairing-port").textContent(), String(pairing.body.pairing_port));
  // The QR code when the server draws one (GET /pairing/qr.svg), else the page does without it.
  const qr = await fetch(`${kitchen.root}/__devices__/pairing/qr.svg`, {
    headers: { Authorization: `Basic ${Buffer.from("admin:s3cret-pass").toString("base64")}` },
  });
  if (qr.status === 200) await panel.locator("img.qr").waitFor();
  else {
    assert.equal(qr.status, 404);
    assert.equal(await panel.locator("img.qr").count(), 0);
  }
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "devices-code-800x600");

  await panel.locator("button:has-text('Cancel the code')").click();
  await page.waitForSelector("button:has-text('Show a pairing code')");
  assert.equal((await api(kitchen, "GET", "/__devices__/pairing")).body.state, "none");

  // Alice is not the owner: /__devices__ refuses her and she gets no link; the page says why.
  const other = await newPage(browser, { width: 800, height: 600 });
  const answered = other.waitForResponse((r) => r.url().endsWith("/__devices__"));
  await signIn(other, kitchen, "alice");
  assert.equal((await answered).status(), 403);
  assert.equal(await other.locator("header.top a.devices-link").count(), 0);
  await other.goto(`${kitchen.admin}#/devices`);
  await other.locator(".error:has-text('403')").waitFor();
  await screenshot(page, "devices-this-device");
});

test("two servers pair through both UIs, compare check strings, then one revokes the other", async () => {
  const inviter = await newPage(browser, { width: 800, height: 600 });
  const joiner = await newPage(browser, { width: 800, height: 600 });
  await openDevices(inviter, kitchen);
  await openDevices(joiner, study);

  await inviter.click("button:has-text('Show a pairing code')");
  const panel = inviter.locator(".pairing-code[data-state=live]");
  await panel.waitFor();
  const code = await panel.locator(".code").getAttribute("data-code");
  const port = await panel.locator(".pairing-port").textContent();
  assert.match(code, /^\d{8}$/);

  // The joiner types the code; a wrong one first shows the server's message and spends an attempt.
  await joiner.click("details.by-address summary");
  const form = joiner.locator("details.by-address form.join");
  await form.locator("input[name=device]").fill(`127.0.0.1:${port}`);
  const wrong = code === "00000000" ? "11111111" : "00000000";
  await form.locator("input[name=code]").fill(wrong);
  await form.locator("button[type=submit]").click();
  await form.locator(".error:has-text('wrong pairing code')").waitFor();
  await panel.locator(".attempts:has-text('4 attempts left')").waitFor();

  await form.locator("input[name=code]").fill(`${code.slice(0, 4)}-${code.slice(4)}`);
  await form.locator("button[type=submit]").click();

  const confirms = (await api(study, "GET", "/__devices__")).body.pending !== undefined;
  let sasJoiner;
  let sasInviter;
  if (confirms) {
    // Both sides hold the other as pending until the owner says the check strings match.
    const pendingJ = joiner.locator("article.pending", { hasText: "Kitchen laptop" });
    const pendingI = inviter.locator("article.pending", { hasText: "Study desktop" });
    await pendingJ.waitFor();
    await pendingI.waitFor();
    sasJoiner = await pendingJ.locator(".sas").getAttribute("data-sas");
    sasInviter = await pendingI.locator(".sas").getAttribute("data-sas");
    assert.equal(await hasHorizontalScroll(joiner), false);
    await screenshot(joiner, "devices-confirm-800x600");
    await pendingJ.locator("button:has-text('They match')").click();
    await pendingI.locator("button:has-text('They match')").click();
  } else {
    // A server without the confirmation step pins at once and shows the check string after the fact.
    await joiner.locator(".ok:has-text('Paired with “Kitchen laptop”')").waitFor();
    sasJoiner = await joiner.locator(".last-paired .sas").getAttribute("data-sas");
    sasInviter = await inviter.locator(".pairing-code[data-state=used] .last-paired .sas").getAttribute("data-sas");
  }
  assert.match(sasJoiner, /^\d{3} ?\d{3}$/);
  assert.equal(sasInviter, sasJoiner, "both screens show the same check string");

  const onJoiner = joiner.locator("ul.paired li.entry", { hasText: "Kitchen laptop" });
  const onInviter = inviter.locator("ul.paired li.entry", { hasText: "Study desktop" });
  await onJoiner.waitFor();
  await onInviter.waitFor();
  const kitchenId = (await api(kitchen, "GET", "/__devices__")).body.this;
  assert.equal(await onJoiner.locator("code.device-id").textContent(), kitchenId.display_id);
  assert.match(await onJoiner.textContent(), /127\.0\.0\.1:\d+ · paired .* · (online|nearby|not seen)/);
  assert.equal(await hasHorizontalScroll(joiner), false);
  await screenshot(joiner, "devices-paired-800x600");

  // Revoke, with the dialog explaining what it does.
  const granted = await api(study, "PUT", "/buckets/family", { permissions: { read: [kitchenId.principal] } });
  assert.equal(granted.status, 201, JSON.stringify(granted.body));
  await onJoiner.locator("button:has-text('Revoke')").click();
  const question = await joiner.locator(".modal p").textContent();
  for (const part of ["permission list", "group", "key is forgotten", "connections are closed", "other paired devices"]) {
    assert.ok(question.includes(part), `${part} in: ${question}`);
  }
  await joiner.click(".modal button:has-text('Yes, revoke')");
  const done = joiner.locator(".ok:has-text('Revoked “Kitchen laptop”')");
  await done.waitFor();
  assert.match(await done.textContent(), /removed from \d+ permission lists? and 0 groups, \d+ connections? closed, no other device to notify\./);
  await joiner.waitForSelector("text=No device is paired yet.");
  const bucket = await api(study, "GET", "/buckets/family");
  assert.deepEqual(bucket.body.permissions.read ?? [], []);
  await screenshot(joiner, "devices-revoked");
});

// The confirmation contract (HELPERS.md: `pending` with `sas`, POST /{id}/confirm, DELETE to
// reject, GET /pairing/qr.svg) seen by the browser: the real server's answers with a pending
// peer added and the two decisions recorded, so the page's side is checked whether or not this
// server build has the step yet (the pairing test above runs it for real when it does).
test("pending peers: the big check string, They match / They don't match; the QR image", async () => {
  const page = await newPage(browser, { width: 800, height: 600 });
  const peer = (n) => ({
    device: `${"ABCDEFG".repeat(7)}${n}${"A".repeat(6)}`.slice(0, 56),
    display_id: "",
    name: `Phone ${n}`,
    sas: n === 2 ? "222 333" : "123 456",
    expires_at: Date.now() + 120000,
  });
  const decided = [];
  let pending = [peer(1), peer(2)];
  await page.route(/\/v1\/__devices__$/, async (route) => {
    const real = await route.fetch();
    const body = await real.json();
    await route.fulfill({ response: real, json: { ...body, pending: [...(body.pending ?? []), ...pending] } });
  });
  await page.route(/\/v1\/__devices__\/[A-Z0-9]+(\/confirm)?$/, async (route) => {
    const req = route.request();
    const id = /__devices__\/([A-Z0-9]+)/.exec(req.url())[1];
    decided.push(`${req.method()} ${req.url().endsWith("/confirm") ? "confirm" : "reject"} ${id}`);
    pending = pending.filter((p) => p.device !== id);
    await route.fulfill({ json: { device: id, display_id: id, name: "x", state: "paired" } });
  });
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="2" height="2"/></svg>';
  await page.route(/\/pairing\/qr\.svg$/, (route) => route.fulfill({ contentType: "image/svg+xml", body: svg }));

  await signIn(page, kitchen, "admin");
  // The navigation counts the pairings to confirm.
  await page.waitForSelector("header.top a.devices-link .badge.count:has-text('2')");
  await page.click("header.top a.devices-link");
  const first = page.locator("article.pending", { hasText: "Phone 1" });
  const second = page.locator("article.pending", { hasText: "Phone 2" });
  await first.waitFor();
  assert.equal(await first.locator(".sas").textContent(), "123 456");
  assert.equal(await second.locator(".sas").getAttribute("data-sas"), "222 333");
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "devices-pending-800x600");

  await first.locator("button:has-text('They match')").click();
  await page.waitForSelector(".ok:has-text('Paired with “Phone 1”')");
  await second.locator("button:has-text(\"They don't match\")").click();
  await page.waitForSelector(".ok:has-text('Did not pair with “Phone 2”')");
  await page.waitForFunction(() => document.querySelectorAll("article.pending").length === 0);
  assert.deepEqual(decided, [`POST confirm ${peer(1).device}`, `DELETE reject ${peer(2).device}`]);

  // The QR code shows next to a live code.
  await page.click("button:has-text('Show a pairing code')");
  await page.locator(".pairing-code[data-state=live] img.qr").waitFor();
  await page.click("button:has-text('Cancel the code')");
  await page.waitForSelector("button:has-text('Show a pairing code')");
});
