// The Sync page against real servers: two paired over loopback through the owner API (as in
// share.test.mjs). The kitchen shares a collection read+write with the study; on the study's UI
// "Shared with me" lists it, "Keep a copy" mirrors it, two concurrent edits land in the conflict
// inbox, one is settled with "Keep theirs" and one with a field merge, and both servers end up
// with the same records; a read-only share becomes a pull-only mirror. Then a third server (LAN sharing off) links a collection with the
// kitchen as a plain Kinto remote: field errors from the server, a working link, Stop syncing.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, hasHorizontalScroll, launchBrowser, newPage, screenshot, signIn, startServer, test, lanEnv } from "./lib/harness.mjs";

// Only the UI's "Sync now" (and a new link's first run) sync: the concurrent edits below
// must not be pulled in between.
const lan = (name) => lanEnv(name, { KINTOUN_SYNC_INTERVAL_SECONDS: "3600", KINTOUN_SYNC_LIVE: "false" });

let kitchen;
let study;
let browser;
let studyId;

const ok = (res, what) => assert.ok(res.status < 300, `${what}: ${res.status} ${JSON.stringify(res.body)}`);

before(async () => {
  [kitchen, study] = await Promise.all([
    startServer(["admin"], { env: lan("Kitchen laptop") }),
    startServer(["admin"], { env: lan("Study desktop") }),
  ]);
  browser = await launchBrowser();
  const invitation = await api(kitchen, "POST", "/__devices__/pairing");
  assert.equal(invitation.status, 201, JSON.stringify(invitation.body));
  const joined = await api(study, "POST", "/__devices__/join", { device: `127.0.0.1:${invitation.body.pairing_port}`, code: invitation.body.code });
  assert.equal(joined.status, 201, JSON.stringify(joined.body));
  studyId = (await api(study, "GET", "/__devices__")).body.this.id;
  assert.equal((await api(kitchen, "POST", `/__devices__/${studyId}/confirm`)).status, 200);
  assert.equal((await api(study, "POST", `/__devices__/${joined.body.device}/confirm`)).status, 200);
  for (const [path, body] of [
    ["/buckets/home", {}],
    ["/buckets/home/collections/recipes", { data: { title: "Recipes" } }],
    ["/buckets/home/collections/recipes/records/soup", { data: { title: "Soup", minutes: 10 } }],
    ["/buckets/home/collections/recipes/records/cake", { data: { title: "Cake", minutes: 45, note: "eggs" } }],
    ["/buckets/home/collections/notes", {}],
    ["/buckets/home/collections/notes/records/n1", { data: { text: "Buy milk" } }],
  ]) {
    ok(await api(kitchen, "PUT", path, body), path);
  }
  ok(await api(kitchen, "PUT", `/__devices__/${studyId}/shares/home/recipes`, { access: "write" }), "share");
});
after(async () => {
  await browser?.close();
  await kitchen?.stop();
  await study?.stop();
});

/** A record's own fields (no id, last_modified). */
const fields = async (server, path) => {
  const res = await api(server, "GET", path);
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
  const { id, last_modified, ...rest } = res.body.data;
  return rest;
};

test("Shared with me → Keep a copy → conflicts settled with Keep theirs and a merge → both sides agree", async () => {
  const page = await newPage(browser, { width: 800, height: 600 });
  await signIn(page, study, "admin");
  await page.click("header.top a.sync-nav");
  const share = page.locator(".shared-with-me li.share[data-share='home/recipes']");
  await share.waitFor();
  assert.match(await page.locator(".shared-with-me li.peer").first().textContent(), /Kitchen laptop/);
  assert.match(await share.textContent(), /read and write/);

  await share.locator("button.keep-copy").click();
  assert.equal(await share.locator("input[name=local_bucket]").inputValue(), "kitchen-laptop");
  assert.equal(await share.locator("select[name=direction]").inputValue(), "both");
  await share.locator("button:has-text('Keep a copy here')").click();
  // The new link syncs at once; its state replaces the button.
  await share.locator(".mirror-state .synced").waitFor();
  assert.match(await share.locator(".mirror-state").textContent(), /kitchen-laptop\/recipes/);
  const card = page.locator("li.sync-link").first();
  await card.locator(".last-sync:has-text('Last synced')").waitFor();
  const mirrored = await api(study, "GET", "/buckets/kitchen-laptop/collections/recipes/records?_sort=id");
  assert.deepEqual(mirrored.body.data.map((r) => [r.id, r.title]), [["cake", "Cake"], ["soup", "Soup"]]);
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "sync-page");

  // The same records edited on both sides before the study syncs again.
  ok(await api(kitchen, "PATCH", "/buckets/home/collections/recipes/records/soup", { data: { title: "Tomato soup" } }), "kitchen soup");
  ok(await api(kitchen, "PATCH", "/buckets/home/collections/recipes/records/cake", { data: { minutes: 50 } }), "kitchen cake");
  ok(await api(study, "PATCH", "/buckets/kitchen-laptop/collections/recipes/records/soup", { data: { title: "Pea soup" } }), "study soup");
  ok(await api(study, "PATCH", "/buckets/kitchen-laptop/collections/recipes/records/cake", { data: { note: "eggs, flour" } }), "study cake");
  await card.locator("button.sync-now").click();
  await card.locator("a.conflicts-link:has-text('2 conflicts to settle')").waitFor();
  await page.locator("header.top a.sync-nav .badge.count:has-text('2')").waitFor();

  await card.locator("a.conflicts-link").click();
  const soup = page.locator("li.conflict[data-record=soup]");
  const cake = page.locator("li.conflict[data-record=cake]");
  await soup.waitFor();
  await cake.waitFor();
  const title = soup.locator("tr[data-field=title] td");
  assert.deepEqual(await title.allTextContents(), ['"Soup"', '"Pea soup"', '"Tomato soup"']);
  assert.equal(await soup.locator("tr[data-field=title]").getAttribute("class"), "differs");
  assert.equal(await soup.locator("tr[data-field=minutes]").getAttribute("class"), null);
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "sync-conflict-inbox");

  await soup.locator("button.keep-theirs").click();
  await soup.waitFor({ state: "detached" });

  await cake.locator("button.merge").click();
  // Defaults: each field from the side that changed it; pick both explicitly anyway.
  assert.equal(await cake.locator("input[name='pick-cake-minutes'][value=theirs]").isChecked(), true);
  assert.equal(await cake.locator("input[name='pick-cake-note'][value=mine]").isChecked(), true);
  await cake.locator("input[name='pick-cake-note'][value=mine]").check();
  await cake.locator("input[name='pick-cake-minutes'][value=theirs]").check();
  await screenshot(page, "sync-conflict-merge");
  await cake.locator("button.save-merge").click();
  await page.locator(".no-conflicts").waitFor();
  await page.locator(".synced-outcome").waitFor();

  const expected = {
    soup: { title: "Tomato soup", minutes: 10 },
    cake: { title: "Cake", minutes: 50, note: "eggs, flour" },
  };
  for (const [id, want] of Object.entries(expected)) {
    assert.deepEqual(await fields(study, `/buckets/kitchen-laptop/collections/recipes/records/${id}`), want, `study ${id}`);
    assert.deepEqual(await fields(kitchen, `/buckets/home/collections/recipes/records/${id}`), want, `kitchen ${id}`);
  }
  await page.goto(`${study.admin}#/sync`);
  await page.locator("li.sync-link .last-sync:has-text('Last synced')").waitFor();
  assert.equal(await page.locator("li.sync-link a.conflicts-link").count(), 0);
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "sync-settled");
});

test("a read-only share mirrors pull-only: local edits never reach the sharing device", async () => {
  ok(await api(kitchen, "PUT", `/__devices__/${studyId}/shares/home/notes`, { access: "read" }), "share notes");
  const page = await newPage(browser, { width: 800, height: 600 });
  await signIn(page, study, "admin");
  await page.goto(`${study.admin}#/sync`);
  const share = page.locator(".shared-with-me li.share[data-share='home/notes']");
  await share.waitFor();
  assert.match(await share.textContent(), /read-only/);
  await share.locator("button.keep-copy").click();
  assert.equal(await share.locator("select[name=direction]").count(), 0, "no two-way choice for a read share");
  assert.match(await share.locator("form").textContent(), /never sends changes back/);
  await share.locator("button:has-text('Keep a copy here')").click();
  await share.locator(".mirror-state .synced").waitFor();
  const card = page.locator("li.sync-link:has-text('kitchen-laptop/notes')");
  assert.match(await card.textContent(), /Read-only mirror/);
  assert.deepEqual(await fields(study, "/buckets/kitchen-laptop/collections/notes/records/n1"), { text: "Buy milk" });

  ok(await api(study, "PATCH", "/buckets/kitchen-laptop/collections/notes/records/n1", { data: { text: "Mine only" } }), "study edit");
  await card.locator("button.sync-now").click();
  await card.locator("button.sync-now:has-text('Sync now')").waitFor();
  assert.match(await card.locator(".progress-text").textContent(), /0 pushed/);
  assert.deepEqual(await fields(kitchen, "/buckets/home/collections/notes/records/n1"), { text: "Buy milk" });
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, "sync-read-only-share");
});

test("a link to a plain Kinto server: field errors, a two-way link that syncs, Stop syncing keeps the data", async () => {
  const lone = await startServer(["admin"]);
  try {
    const page = await newPage(browser, { width: 800, height: 600 });
    await signIn(page, lone, "admin");
    await page.goto(`${lone.admin}#/sync`);
    const off = page.locator(".shared-lan-off");
    await off.waitFor();
    assert.match(await off.textContent(), /LAN sharing is off/);
    assert.equal(await off.locator("a").getAttribute("href"), "#/devices");

    const form = page.locator("form.kinto-link-form");
    await form.locator("input[name=url]").fill("ftp://127.0.0.1/v1");
    await form.locator("input[name=remote_bucket]").fill("home");
    await form.locator("input[name=remote_collection]").fill("notes");
    await form.locator("input[name=local_bucket]").fill("from-kitchen");
    await form.locator("input[name=user]").fill("admin");
    await form.locator("input[name=password]").fill("s3cret-pass");
    await form.locator("button[type=submit]").click();
    const urlError = form.locator("#kinto-link-url-error");
    await urlError.waitFor();
    assert.equal(await form.locator("input[name=url]").getAttribute("aria-invalid"), "true");
    await form.locator("input[name=url]").scrollIntoViewIfNeeded();
    await screenshot(page, "sync-kinto-field-error");

    await form.locator("input[name=password]").fill("s3cret-pass");
    await form.locator("input[name=url]").fill(kitchen.root);
    await form.locator("button[type=submit]").click();
    const card = page.locator("li.sync-link");
    await card.waitFor();
    assert.match(await card.textContent(), /from-kitchen\/notes/);
    assert.match(await card.textContent(), new RegExp(`home/notes at ${kitchen.root.replace(/[.]/g, "\\.")}`));
    assert.match(await card.textContent(), /Two-way/);
    await card.locator(".last-sync:has-text('Last synced')").waitFor();
    assert.deepEqual(await fields(lone, "/buckets/from-kitchen/collections/notes/records/n1"), { text: "Buy milk" });

    // Two-way: a local edit goes to the kitchen with Sync now.
    ok(await api(lone, "PATCH", "/buckets/from-kitchen/collections/notes/records/n1", { data: { text: "Buy oat milk" } }), "lone edit");
    await card.locator("button.sync-now").click();
    await card.locator("button.sync-now:has-text('Sync now')").waitFor();
    assert.deepEqual(await fields(kitchen, "/buckets/home/collections/notes/records/n1"), { text: "Buy oat milk" });
    assert.equal(await card.locator(".last-error").count(), 0);
    assert.equal(await hasHorizontalScroll(page), false);
    await screenshot(page, "sync-kinto-link");

    await card.locator("button:has-text('Stop syncing')").click();
    const dialog = page.locator(".modal[role=dialog]");
    assert.match(await dialog.textContent(), /keep all their data/);
    await dialog.locator("button:has-text('Yes, stop syncing')").click();
    await card.waitFor({ state: "detached" });
    assert.equal((await api(lone, "GET", "/__sync__/links")).body.data.length, 0);
    assert.deepEqual(await fields(lone, "/buckets/from-kitchen/collections/notes/records/n1"), { text: "Buy oat milk" });
    await page.locator(".no-links").waitFor();
    await screenshot(page, "sync-kinto-link-stopped");
  } finally {
    await lone.stop();
  }
});
