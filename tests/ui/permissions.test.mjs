// Edit permissions in the UI and see the effect as other users; groups and effective access.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { api, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await api(server, "PUT", "/buckets/shared", {});
  await api(server, "PUT", "/buckets/shared/collections/notes", { data: { displayFields: ["text"] } });
  await api(server, "POST", "/buckets/shared/collections/notes/records", { data: { text: "hello from admin" } });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("granting read to an account lets that user see the records, not others", async () => {
  const alice = await newPage(browser);
  await signIn(alice, server, "alice");
  await alice.goto(`${server.admin}#/buckets/shared/collections/notes`);
  await alice.waitForSelector(".error:has-text('403')");

  const admin = await newPage(browser);
  await signIn(admin, server, "admin");
  await admin.goto(`${server.admin}#/buckets/shared/collections/notes/permissions`);
  await admin.waitForSelector("fieldset[data-permission=read]");
  await admin.fill("input[name=add-read]", "alice");
  await admin.click("fieldset[data-permission=read] button:has-text('Add')");
  await admin.waitForSelector("fieldset[data-permission=read] .chip:has-text('alice (account)')");
  // The effective view already shows the unsaved grant.
  await admin.waitForSelector("tr[data-principal='account:alice'] td:has-text('read')");
  await admin.click("button:has-text('Save permissions')");
  await admin.waitForSelector(".ok:has-text('Permissions saved')");
  const acl = await api(server, "GET", "/buckets/shared/collections/notes");
  assert.deepEqual(acl.body.permissions.read, ["account:alice"]);
  // The admin's write on the bucket is inherited: shown with its reason.
  assert.match(await admin.textContent("tr[data-principal='account:admin']"), /inherited from the bucket/);
  await screenshot(admin, "permissions-granted");

  await alice.reload();
  await alice.waitForSelector("table.records td:has-text('hello from admin')");
  await screenshot(alice, "permissions-alice-sees");

  const bob = await newPage(browser);
  await signIn(bob, server, "bob");
  await bob.goto(`${server.admin}#/buckets/shared/collections/notes`);
  await bob.waitForSelector(".error:has-text('403')");
  await screenshot(bob, "permissions-bob-refused");
  for (const p of [alice, admin, bob]) await p.context().close();
});

test("a group's members get what the group is granted; who-can-see explains it", async () => {
  const admin = await newPage(browser);
  await signIn(admin, server, "admin");
  await admin.goto(`${server.admin}#/buckets/shared/groups`);
  await admin.fill("input[name=group-id]", "friends");
  await admin.click("button:has-text('Create group')");
  await admin.waitForSelector("h1:has-text('Group friends')");
  await admin.fill("input[name=member]", "bob");
  await admin.click("button:has-text('Add member')");
  await admin.click("button:has-text('Save members')");
  await admin.waitForSelector("button:has-text('Save members'):disabled");
  const group = await api(server, "GET", "/buckets/shared/groups/friends");
  assert.deepEqual(group.body.data.members, ["account:bob"]);

  await admin.goto(`${server.admin}#/buckets/shared/collections/notes/permissions`);
  await admin.fill("input[name=add-read]", "group:friends");
  await admin.click("fieldset[data-permission=read] button:has-text('Add')");
  await admin.waitForSelector("fieldset[data-permission=read] .chip:has-text('Group friends in shared')");
  await admin.click("button:has-text('Save permissions')");
  await admin.waitForSelector(".ok:has-text('Permissions saved')");
  await admin.waitForSelector("tr[data-principal='account:bob']");
  assert.match(await admin.textContent("tr[data-principal='account:bob']"), /member of group friends/);
  await screenshot(admin, "permissions-effective-groups");

  const bob = await newPage(browser);
  await signIn(bob, server, "bob");
  await bob.goto(`${server.admin}#/buckets/shared/collections/notes`);
  await bob.waitForSelector("table.records td:has-text('hello from admin')");
  // Read, not write: creating a record is refused with the server's message.
  await bob.goto(`${server.admin}#/buckets/shared/collections/notes/records/_new`);
  await bob.fill("textarea[name=json]", '{"text": "bob was here"}');
  await bob.click("button:has-text('Create record')");
  await bob.waitForSelector(".error:has-text('403')");
  await screenshot(bob, "permissions-bob-read-only");
  for (const p of [admin, bob]) await p.context().close();
});
