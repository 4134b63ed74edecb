// Every main screen fits 1280x800 and 800x600 without horizontal page scroll; the Status page
// appears only for users /__stats__ answers 200 to, and so do Connected apps (/__apps__) and
// Devices (/__devices__, here with LAN sharing off) and Sync (/__sync__/links).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, hasHorizontalScroll, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await api(server, "PUT", "/buckets/a-bucket-with-a-rather-long-identifier-for-layout-checks", {});
  const b = "/buckets/a-bucket-with-a-rather-long-identifier-for-layout-checks";
  await api(server, "PUT", `${b}/collections/wide`, {
    data: { displayFields: ["a", "b", "c", "d", "e", "f", "g", "h"], schema: { type: "object", properties: { a: { type: "string" }, b: { type: "string" } } } },
  });
  const long = "lorem ipsum dolor sit amet ".repeat(12);
  await api(server, "PUT", `${b}/collections/wide/records/r1`, { data: { a: long, b: long, c: long, d: long, e: long, f: long, g: long, h: long } });
  await api(server, "PUT", `${b}/groups/a-group-with-a-long-name`, { data: { members: ["account:alice", "account:bob", "system.Authenticated"] } });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const b = "buckets/a-bucket-with-a-rather-long-identifier-for-layout-checks";
const SCREENS = [
  "",
  b,
  `${b}/collections/wide`,
  `${b}/collections/wide/settings`,
  `${b}/collections/wide/transfer`,
  `${b}/collections/wide/records/r1`,
  `${b}/collections/wide/records/r1/history`,
  `${b}/collections/wide/records/r1/permissions`,
  `${b}/groups/a-group-with-a-long-name`,
  "apps",
  "devices",
  "sync",
];

for (const [width, height] of [[1280, 800], [800, 600]]) {
  test(`no horizontal page scroll at ${width}x${height}`, async () => {
    const page = await newPage(browser, { width, height });
    await signIn(page, server, "admin");
    for (const screen of SCREENS) {
      await page.goto(`${server.admin}#/${screen}`);
      await page.waitForSelector("main.content h1");
      await page.waitForFunction(() => !document.querySelector(".loading"));
      assert.equal(await hasHorizontalScroll(page), false, `horizontal scroll on #/${screen} at ${width}x${height}`);
    }
    await page.goto(`${server.admin}#/${b}/collections/wide`);
    await page.waitForSelector("table.records td");
    await screenshot(page, `layout-${width}x${height}`);
    await page.context().close();
  });
}

test("the Status page shows for admins (GET /__stats__ answers 200) and not for others", async () => {
  assert.equal((await api(server, "GET", "/__stats__")).status, 200);
  assert.equal((await api(server, "GET", "/__stats__", undefined, "alice")).status, 403);
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.click("header.top a:has-text('Status')");
  await page.waitForSelector("h1:has-text('Server status')");
  await page.waitForSelector("dl.facts dt:has-text('Requests')");
  assert.match(await page.textContent("dl.facts"), /records\s*1/);
  await screenshot(page, "status");
  const alice = await newPage(browser);
  await signIn(alice, server, "alice");
  await alice.waitForLoadState("networkidle");
  assert.equal(await alice.locator("header.top a:has-text('Status')").count(), 0);
  assert.equal((await api(server, "GET", "/__apps__", undefined, "alice")).status, 403);
  assert.equal(await alice.locator("header.top a:has-text('Connected apps')").count(), 0);
  await page.locator("header.top a:has-text('Connected apps')").waitFor();
  assert.equal((await api(server, "GET", "/__devices__", undefined, "alice")).status, 403);
  assert.equal(await alice.locator("header.top a.devices-link").count(), 0);
  await page.locator("header.top a.devices-link").waitFor();
  assert.equal((await api(server, "GET", "/__sync__/links", undefined, "alice")).status, 403);
  assert.equal(await alice.locator("header.top a.sync-nav").count(), 0);
  await page.locator("header.top a.sync-nav").waitFor();
  await page.goto(`${server.admin}#/devices`);
  await page.locator(".lan-sharing[data-on=false]:has-text('KINTOUN_LAN_SHARING=1')").waitFor();
  await page.locator(".warning.lan-off").waitFor();
  await page.context().close();
  await alice.context().close();
});
