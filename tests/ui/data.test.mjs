// Sign in, create a bucket and a collection with a schema, add records through the generated
// form, filter and sort the table.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const SCHEMA = {
  type: "object",
  properties: {
    title: { type: "string", title: "Title" },
    year: { type: "integer", title: "Year" },
    tags: { type: "array", items: { type: "string" } },
    read: { type: "boolean", title: "Read" },
  },
  required: ["title"],
};

test("a wrong password is refused with the server's answer", async () => {
  const page = await newPage(browser);
  await page.goto(server.admin);
  await page.fill("input[name=user]", "admin");
  await page.fill("input[name=password]", "wrong");
  await page.click("button[type=submit]");
  await page.waitForSelector(".error");
  assert.match(await page.textContent(".error"), /not recognise|401|password/i);
  await screenshot(page, "login-refused");
  await page.context().close();
});

test("sign in, bucket, collection with schema, records via the form, filter and sort", async () => {
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.waitForSelector("h1:has-text('Buckets')");

  await page.fill("input[name=bucket-id]", "library");
  await page.click("button:has-text('Create bucket')");
  await page.waitForSelector("h1:has-text('Bucket library')");

  await page.fill("input[name=collection-id]", "books");
  await page.click("button:has-text('Create collection')");
  await page.waitForSelector("textarea[name=schema]");
  // An invalid schema is caught while typing and cannot be saved.
  await page.fill("textarea[name=schema]", '{"type": "objekt"}');
  await page.waitForSelector(".error:has-text('type')");
  assert.equal(await page.isDisabled("button:has-text('Save settings')"), true);
  await page.fill("textarea[name=schema]", JSON.stringify(SCHEMA, null, 2));
  await page.fill("input[name=displayFields]", "title, year, read");
  await page.click("button:has-text('Save settings')");
  await page.waitForSelector(".ok:has-text('Settings saved')");
  const stored = await api(server, "GET", "/buckets/library/collections/books");
  assert.deepEqual(stored.body.data.schema, SCHEMA);
  assert.deepEqual(stored.body.data.displayFields, ["title", "year", "read"]);

  const books = [
    { title: "Dune", year: "1965", tags: "sf, classic", read: true },
    { title: "Neuromancer", year: "1984", tags: "sf", read: false },
    { title: "Emma", year: "1815", tags: "", read: true },
  ];
  for (const b of books) {
    await page.click("a:has-text('New record')");
    await page.waitForSelector("input[name=field-title]");
    await page.fill("input[name=field-title]", b.title);
    await page.fill("input[name=field-year]", b.year);
    await page.fill("input[name=field-tags]", b.tags);
    if (b.read) await page.check("input[name=field-read]");
    await page.click("button:has-text('Create record')");
    await page.waitForURL(/\/records\/(?!_new)[^/]+$/);
    await page.click(".crumbs a:has-text('books')");
    await page.waitForSelector("table.records");
  }
  const records = await api(server, "GET", "/buckets/library/collections/books/records?_sort=year");
  assert.deepEqual(records.body.data.map((r) => [r.title, r.year, r.read]), [["Emma", 1815, true], ["Dune", 1965, true], ["Neuromancer", 1984, false]]);
  assert.deepEqual(records.body.data[1].tags, ["sf", "classic"]);
  await page.waitForSelector("[data-testid=total]:has-text('3 records')");

  // A server-side filter: year ≥ 1900.
  await page.click("button:has-text('+ Add filter')");
  await page.fill("input[name=filter-field-0]", "year");
  await page.selectOption("select[name=filter-op-0]", "min");
  await page.fill("input[name=filter-value-0]", "1900");
  await page.click("button:has-text('Apply filters')");
  await page.waitForSelector("[data-testid=total]:has-text('2 records match')");
  await page.waitForSelector("table.records[aria-busy=false]");
  assert.match(page.url(), /min_year=1900/);
  let titles = await page.$$eval("table.records tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(titles.sort(), ["Dune", "Neuromancer"]);

  // Sort by year: ascending, then descending.
  await page.click("th button:has-text('year')");
  await page.waitForSelector("th[aria-sort=ascending]:has-text('year')");
  await page.waitForSelector("table.records[aria-busy=false]");
  titles = await page.$$eval("table.records tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(titles, ["Dune", "Neuromancer"]);
  await page.click("th button:has-text('year')");
  await page.waitForSelector("th[aria-sort=descending]:has-text('year')");
  await page.waitForFunction(() => document.querySelector("table.records tbody tr td:nth-child(2)")?.textContent === "Neuromancer");

  // A text filter with a wildcard, replacing the first one.
  await page.fill("input[name=filter-field-0]", "title");
  await page.selectOption("select[name=filter-op-0]", "like");
  await page.fill("input[name=filter-value-0]", "em*");
  await page.click("button:has-text('Apply filters')");
  await page.waitForSelector("[data-testid=total]:has-text('1 record match')");
  await page.waitForSelector("table.records[aria-busy=false]");
  titles = await page.$$eval("table.records tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(titles, ["Emma"]);
  await screenshot(page, "records-filtered-sorted");

  // Duplicate a record through its page, then delete the copy (confirmed).
  await page.click("table.records tbody tr td:first-child a");
  await page.waitForSelector("input[name=field-title]");
  await page.click("a:has-text('Duplicate')");
  await page.waitForSelector("h1:has-text('Duplicate of')");
  assert.equal(await page.inputValue("input[name=field-title]"), "Emma");
  await page.fill("input[name=field-title]", "Emma (copy)");
  await page.click("button:has-text('Create record')");
  await page.waitForURL(/\/records\/(?!_new)[^/?]+$/);
  const copy = await api(server, "GET", "/buckets/library/collections/books/records?title=%22Emma%20(copy)%22");
  assert.equal(copy.body.data.length, 1);
  assert.equal(copy.body.data[0].year, 1815);
  await page.click("button:has-text('Delete record')");
  await page.waitForSelector(".modal:has-text('Delete record')");
  await page.click(".modal button:has-text('Yes, delete record')");
  await page.waitForSelector("table.records");
  const left = await api(server, "GET", "/buckets/library/collections/books/records");
  assert.equal(left.body.data.length, 3);
  await page.context().close();
});

test("schema errors from the server are shown on the form", async () => {
  await api(server, "PUT", "/buckets/strict", {});
  await api(server, "PUT", "/buckets/strict/collections/c", {
    data: { schema: { type: "object", properties: { n: { type: "integer", minimum: 10 } }, required: ["n"] } },
  });
  const page = await newPage(browser);
  await signIn(page, server, "admin");
  await page.goto(`${server.admin}#/buckets/strict/collections/c/records/_new`);
  await page.fill("input[name=field-n]", "3");
  await page.click("button:has-text('Create record')");
  await page.waitForSelector(".error:has-text('minimum')");
  await screenshot(page, "record-schema-error");
  await page.context().close();
});
