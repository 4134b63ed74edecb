// The LAN settings on the Devices page against a real server started with LAN sharing off: the
// owner turns sharing on and names the device from the UI (no restart), the page shows where the
// LAN side listens; a port out of range is caught in the form; a port already in use is refused
// by the server with the field named while the previous settings keep running; settings fixed by
// environment variables are shown locked with the variable's name.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { api, hasHorizontalScroll, launchBrowser, newPage, screenshot, signIn, startServer, test } from "./lib/harness.mjs";

let server;
let browser;
before(async () => {
  server = await startServer(["admin"], {
    env: {
      // Locked by the environment: LAN side on loopback only, and no interface has this name,
      // so mDNS never runs in the root namespace in tests.
      KINTOUN_LAN_ADDRESS: "127.0.0.1",
      KINTOUN_LAN_INTERFACES: "kintoun-none0",
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A port something else is listening on. */
async function takenPort() {
  const blocker = net.createServer();
  await new Promise((res) => blocker.listen(0, "127.0.0.1", res));
  return { port: blocker.address().port, close: () => new Promise((res) => blocker.close(res)) };
}

test("turn LAN sharing on and rename the device from the UI; bad and taken ports are refused", async () => {
  const page = await newPage(browser, { width: 800, height: 600 });
  await signIn(page, server, "admin");
  await page.click("header.top a.devices-link");
  await page.waitForSelector(".this-device .lan-sharing[data-on=false]");
  const panel = page.locator("details.lan-settings-panel");
  assert.equal(await panel.getAttribute("open"), "", "the panel is open while sharing is off");
  await panel.locator("form.lan-settings").waitFor();

  // Locked settings say which variable fixes them.
  assert.equal(await panel.locator("input[name=lan_address]").isDisabled(), true);
  await panel.locator("text=set by KINTOUN_LAN_ADDRESS").waitFor();
  await panel.locator("text=set by KINTOUN_LAN_INTERFACES").waitFor();
  assert.equal(await panel.locator("input[name=lan_interfaces][value=kintoun-none0]").isChecked(), true);
  assert.equal(await panel.locator("input[name=lan_interfaces][value=kintoun-none0]").isDisabled(), true);
  assert.equal(await panel.locator("button:has-text('Save LAN settings')").isDisabled(), true, "nothing to save yet");

  await panel.locator("input[name=lan_sharing]").check();
  await panel.locator("input[name=device_name]").fill("Pantry tablet");
  await panel.locator("input[name=lan_port]").fill("70000");
  await panel.locator("p.error:has-text('lan_port')").waitFor();
  assert.equal(await panel.locator("button:has-text('Save LAN settings')").isDisabled(), true, "an impossible port cannot be saved");
  await panel.locator("input[name=lan_port]").fill("0");
  await panel.locator("text=LAN sharing starts").waitFor();
  await panel.locator("button:has-text('Save LAN settings')").click();
  const saved = page.locator(".ok[role=status]:has-text('LAN settings saved')");
  await saved.waitFor();
  assert.match(await saved.textContent(), /“Pantry tablet” listens on 127\.0\.0\.1:\d+/);
  await page.waitForSelector(".this-device .lan-sharing[data-on=true]");
  assert.equal(await page.locator(".this-device .device-name").textContent(), "Pantry tablet");

  const before = await api(server, "GET", "/__devices__/settings");
  assert.equal(before.status, 200);
  assert.equal(before.body.lan_sharing, true);
  assert.equal(before.body.device_name, "Pantry tablet");
  assert.deepEqual(before.body.pinned, { lan_address: "KINTOUN_LAN_ADDRESS", lan_interfaces: "KINTOUN_LAN_INTERFACES" });

  // A port in use: the server refuses, names the field, and keeps listening where it was.
  const taken = await takenPort();
  try {
    assert.equal(await panel.getAttribute("open"), "", "the panel stays open after saving");
    await panel.locator("input[name=lan_port]").fill(String(taken.port));
    await panel.locator("text=The LAN side restarts").waitFor();
    await panel.locator("button:has-text('Save LAN settings')").click();
    const refusal = panel.locator(".error[role=alert]:has-text('cannot work')");
    await refusal.waitFor();
    assert.match(await refusal.textContent(), new RegExp(String(taken.port)));
    await refusal.locator("code:has-text('lan_port')").waitFor();
    assert.equal(await panel.locator("input[name=lan_port]").getAttribute("aria-invalid"), "true");
    const afterRefusal = await api(server, "GET", "/__devices__/settings");
    assert.equal(afterRefusal.body.listening, before.body.listening, "the previous LAN side still runs");
    assert.equal(afterRefusal.body.lan_port, 0);
    assert.equal(await hasHorizontalScroll(page), false);
    await screenshot(page, "devices-lan-settings");
    await panel.locator("button:has-text('Undo changes')").click();
    assert.equal(await panel.locator("input[name=lan_port]").inputValue(), "0");
  } finally {
    await taken.close();
  }
});
