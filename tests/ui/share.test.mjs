// "Share with devices" on a collection page, against two real servers paired over loopback
// through the owner API: the owner gives the other device read-and-write, then read-only, then
// takes it back, each change checked on the server; a grant through the bucket shows as
// inherited; a user who is not the owner gets no share button.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, hasHorizontalScroll, launchBrowser, newPage, screenshot, signIn, startServer, test, lanEnv } from "./lib/harness.mjs";

const lan = (name) => lanEnv(name);

let kitchen;
let study;
let browser;
let studyId;
before(async () => {
  [kitchen, study] = await Promise.all([
    startServer(["admin", "alice"], { env: lan("Kitchen laptop") }),
    startServer(["admin"], { env: lan("Study desktop") }),
  ]);
  browser = await launchBrowser();
  // Pair the two through their owner APIs: code on the kitchen, joined from the study, both confirm.
  const invitation = await api(kitchen, "POST", "/__devices__/pairing");
  assert.equal(invitation.status, 201, JSON.stringify(invitation.body));
  const joined = await api(study, "POST", "/__devices__/join", {
    device: `127.0.0.1:${invitation.body.pairing_port}`,
    code: invitation.body.code,
  });
  assert.equal(joined.status, 201, JSON.stringify(joined.body));
  studyId = (await api(study, "GET", "/__devices__")).body.this.id;
  assert.equal((await api(kitchen, "POST", `/__devices__/${studyId}/confirm`)).status, 200);
  assert.equal((await api(study, "POST", `/__devices__/${joined.body.device}/confirm`)).status, 200);
  for (const [path, body] of [
    ["/buckets/home", {}],
    ["/buckets/home/collections/recipes", { data: { title: "Recipes" } }],
    ["/buckets/family", { permissions: { read: [`device:${studyId}`] } }],
    ["/buckets/family/collections/photos", {}],
  ]) {
    const res = await api(kitchen, "PUT", path, body);
    assert.ok(res.status < 300, `${path}: ${JSON.stringify(res.body)}`);
  }
});
after(async () => {
  await browser?.close();
  await kitchen?.stop();
  await study?.stop();
});

const ownShare = async (bid, cid) => {
  const res = await api(kitchen, "GET", `/__devices__/${studyId}/shares`);
  assert.equal(res.status, 200);
  return res.body.shares.find((s) => s.bucket === bid && s.collection === cid && s.via === `/buckets/${bid}/collections/${cid}`)?.access ?? null;
};

test("share a collection with a paired device, change it, stop; inherited grants shown", async () => {
  const page = await newPage(browser, { width: 800, height: 600 });
  await signIn(page, kitchen, "admin");
  await page.goto(`${kitchen.admin}#/buckets/home/collections/recipes`);
  await page.click("button.share-button");
  const dialog = page.locator(".modal[role=dialog]");
  const row = dialog.locator(`tr[data-device='${studyId}']`);
  await row.waitFor();
  assert.match(await row.textContent(), /Study desktop/);
  const select = row.locator("select");
  assert.equal(await select.inputValue(), "", "not shared yet");
  assert.equal(await dialog.locator("button:has-text('Save sharing')").isDisabled(), true);

  await select.selectOption("write");
  await dialog.locator("button:has-text('Save sharing')").click();
  await dialog.locator(".ok:has-text('1 device changed')").waitFor();
  assert.equal(await ownShare("home", "recipes"), "write");
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "share-dialog");

  await select.selectOption("read");
  await dialog.locator("button:has-text('Save sharing')").click();
  await dialog.locator(".ok:has-text('1 device changed')").waitFor();
  assert.equal(await ownShare("home", "recipes"), "read");

  await select.selectOption("");
  await dialog.locator("button:has-text('Save sharing')").click();
  await dialog.locator(".ok:has-text('1 device changed')").waitFor();
  assert.equal(await ownShare("home", "recipes"), null);
  await dialog.locator("button:has-text('Close')").click();

  // A grant through the bucket shows as inherited and is not the dialog's to change.
  await page.goto(`${kitchen.admin}#/buckets/family/collections/photos`);
  await page.click("button.share-button");
  const inherited = page.locator(`.modal tr[data-device='${studyId}'] .inherited`);
  await inherited.waitFor();
  assert.equal(await inherited.textContent(), "Also read-only through its bucket");
  assert.equal(await page.locator(`.modal tr[data-device='${studyId}'] select`).inputValue(), "");
});

test("no share button for a user who is not the owner", async () => {
  const res = await api(kitchen, "PUT", "/buckets/alices", {}, "alice");
  assert.ok(res.status < 300);
  assert.ok((await api(kitchen, "PUT", "/buckets/alices/collections/notes", {}, "alice")).status < 300);
  const page = await newPage(browser);
  await signIn(page, kitchen, "alice");
  const refused = page.waitForResponse((r) => r.url().endsWith("/__devices__") && r.status() === 403);
  await page.goto(`${kitchen.admin}#/buckets/alices/collections/notes`);
  await page.waitForSelector("a:has-text('New record')");
  await refused;
  assert.equal(await page.locator("button.share-button").count(), 0);
});
