// History with diffs and one-click revert; a 412 conflict explained with reload/overwrite.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

let server;
let browser;
const REC = "/buckets/diary/collections/days/records/monday";
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await api(server, "PUT", "/buckets/diary", {});
  await api(server, "PUT", "/buckets/diary/collections/days", {});
  await api(server, "PUT", REC, { data: { mood: "good", weather: "sun" } });
  await api(server, "PUT", REC, { data: { mood: "bad", weather: "sun", note: "rain later" } });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the record's history shows each change as a diff and reverts in one click", async () => {
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.goto(`${server.admin}#/buckets/diary/collections/days/records/monday/history`);
  await page.waitForSelector("li.entry.update");
  const update = await page.textContent("li.entry.update");
  assert.match(update, /mood\s*"good"\s*→\s*"bad"/);
  assert.match(update, /note\s*"rain later"/);
  assert.equal(await page.locator("li.entry").count(), 2);
  await page.click("li.entry.create button:has-text('Revert to this version')");
  await page.click(".modal button:has-text('Yes')");
  await page.waitForSelector(".ok:has-text('Reverted record monday')");
  const now = await api(server, "GET", REC);
  assert.deepEqual({ mood: now.body.data.mood, weather: now.body.data.weather, note: now.body.data.note }, { mood: "good", weather: "sun", note: undefined });
  await page.waitForFunction(() => document.querySelectorAll("li.entry").length === 3);
  await screenshot(page, "history-reverted");

  // The bucket's history lists the bucket, collection and record entries.
  await page.goto(`${server.admin}#/buckets/diary/history`);
  await page.waitForSelector("li.entry a:has-text('collection days')");
  await page.context().close();
});

test("saving over someone else's change explains the 412 and can overwrite", async () => {
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.goto(`${server.admin}#/buckets/diary/collections/days/records/monday`);
  await page.waitForSelector("textarea[name=json]");
  await api(server, "PATCH", REC, { data: { mood: "changed elsewhere" } });
  await page.fill("textarea[name=json]", '{"mood": "mine"}');
  await page.click("button:has-text('Save')");
  await page.waitForSelector(".modal:has-text('412')");
  await screenshot(page, "conflict-dialog");
  await page.click(".modal button:has-text('Overwrite')");
  await page.waitForSelector(".ok:has-text('Saved')");
  const now = await api(server, "GET", REC);
  assert.equal(now.body.data.mood, "mine");
  await page.context().close();
});
