// Import a CSV file and export the collection as CSV and JSON.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { api, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await api(server, "PUT", "/buckets/shop", {});
  await api(server, "PUT", "/buckets/shop/collections/items", {
    data: { schema: { type: "object", properties: { name: { type: "string" }, price: { type: "number" } }, required: ["name"] } },
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// 60 rows: more than two batches of 25, so progress moves; one row breaks the schema.
function csvRows() {
  const lines = ["id,name,price,tags"];
  for (let i = 1; i <= 60; i++) lines.push(`item${String(i).padStart(2, "0")},"Item, number ${i}",${i}.5,"[""t${i % 3}""]"`);
  lines.push("bad,,oops,");
  return lines.join("\n") + "\n";
}

test("CSV import with progress and per-row errors, then CSV and JSON export", async () => {
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.goto(`${server.admin}#/buckets/shop/collections/items/transfer`);
  await page.setInputFiles("input[name=import-file]", { name: "items.csv", mimeType: "text/csv", buffer: Buffer.from(csvRows()) });
  await page.click("button:has-text('Import')");
  await page.waitForSelector("[data-testid=transfer-result]:has-text('Imported 60 of 61')");
  assert.match(await page.textContent(".failures"), /row 61 \(bad\)/);
  const item = await api(server, "GET", "/buckets/shop/collections/items/records/item07");
  assert.deepEqual([item.body.data.name, item.body.data.price, item.body.data.tags], ["Item, number 7", 7.5, ["t1"]]);
  await screenshot(page, "import-csv");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("button:has-text('Export CSV')")]);
  assert.equal(download.suggestedFilename(), "shop-items.csv");
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines.length, 61);
  assert.equal(lines[0], "id,name,price,tags");
  assert.equal(lines[7], 'item07,"Item, number 7",7.5,"[""t1""]"');
  await page.waitForSelector("[data-testid=transfer-result]:has-text('Exported 60 records as CSV')");

  const [jsonDownload] = await Promise.all([page.waitForEvent("download"), page.click("button:has-text('Export JSON')")]);
  const json = JSON.parse(readFileSync(await jsonDownload.path(), "utf8"));
  assert.equal(json.length, 60);
  assert.equal(json.find((r) => r.id === "item60").price, 60.5);

  // The table pages through Next-Page (20 per page) and counts them all.
  await page.goto(`${server.admin}#/buckets/shop/collections/items`);
  await page.waitForSelector("[data-testid=total]:has-text('60 records')");
  assert.equal(await page.locator("table.records tbody tr").count(), 20);
  await page.click("button:has-text('Next page')");
  await page.waitForSelector(".pager:has-text('page 2')");
  await page.click("button:has-text('Next page')");
  await page.waitForSelector(".pager:has-text('page 3')");
  await page.waitForSelector("[data-testid=total]:has-text('60 records')");
  await page.waitForFunction(() => document.querySelectorAll("table.records tbody tr").length === 20);
  assert.equal(await page.isDisabled("button:has-text('Next page')"), true, "no page after the third");
  await screenshot(page, "export-and-pages");
  await page.context().close();
});

test("attachments: upload through the record page, download, remove", async () => {
  await api(server, "PUT", "/buckets/shop/collections/items/records/withfile", { data: { name: "Manual" } });
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.goto(`${server.admin}#/buckets/shop/collections/items/records/withfile/attachment`);
  await page.waitForSelector("text=No attachment.");
  await page.setInputFiles("input[name=attachment]", { name: "manual.txt", mimeType: "text/plain", buffer: Buffer.from("read me first\n") });
  await page.click("button:has-text('Upload')");
  await page.waitForSelector("dl.facts a:has-text('manual.txt')");
  const record = await api(server, "GET", "/buckets/shop/collections/items/records/withfile");
  assert.equal(record.body.data.attachment.filename, "manual.txt");
  assert.equal(record.body.data.name, "Manual");
  const link = await page.getAttribute("dl.facts a", "href");
  const file = await fetch(link);
  assert.equal(await file.text(), "read me first\n");
  await screenshot(page, "attachment-uploaded");
  await page.click("button:has-text('Remove attachment')");
  await page.click(".modal button:has-text('Yes')");
  await page.waitForSelector("text=No attachment.");
  const after = await api(server, "GET", "/buckets/shop/collections/items/records/withfile");
  assert.equal(after.body.data.attachment ?? null, null);
  await page.context().close();
});
