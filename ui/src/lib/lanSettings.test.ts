import { describe, expect, it } from "vitest";
import {
  addressChoices,
  changes,
  formOf,
  formProblems,
  interfaceChoices,
  parsePort,
  saveEffect,
  type LanSettingsView,
} from "./lanSettings";

const view: LanSettingsView = {
  lan_sharing: false,
  device_name: null,
  effective_device_name: "vm",
  lan_interfaces: [],
  lan_address: "0.0.0.0",
  lan_port: 8889,
  pinned: {},
  listening: null,
  interfaces: [
    { name: "lo", addresses: ["127.0.0.1"], loopback: true },
    { name: "eth0", addresses: ["192.168.1.20", "fe80::1"], loopback: false },
  ],
};

describe("LAN settings form", () => {
  it("sends nothing when nothing changed", () => {
    expect(changes(view, formOf(view))).toEqual({});
  });

  it("sends only the changed fields, trimmed and typed", () => {
    const form = { ...formOf(view), sharing: true, name: "  Kitchen ", port: " 9000 ", interfaces: ["eth0"] };
    expect(changes(view, form)).toEqual({
      lan_sharing: true,
      device_name: "Kitchen",
      lan_port: 9000,
      lan_interfaces: ["eth0"],
    });
  });

  it("clearing the name goes back to the host name", () => {
    const named = { ...view, device_name: "Kitchen" };
    expect(changes(named, { ...formOf(named), name: " " })).toEqual({ device_name: "" });
  });

  it("checks the port and address before asking the server", () => {
    expect(parsePort("0")).toBe(0);
    expect(typeof parsePort("65536")).toBe("string");
    expect(typeof parsePort("80a")).toBe("string");
    const problems = formProblems({ ...formOf(view), port: "-1", address: "kitchen", name: "é".repeat(32) });
    expect(Object.keys(problems).sort()).toEqual(["device_name", "lan_address", "lan_port"]);
    expect(formProblems({ ...formOf(view), address: "::" })).toEqual({});
    expect(formProblems({ ...formOf(view), address: "192.168.1.256" })).toHaveProperty("lan_address");
  });

  it("offers the machine's interfaces and keeps chosen ones that are missing", () => {
    const choices = interfaceChoices(view, ["wlan9"]);
    expect(choices.map((c) => [c.name, c.present])).toEqual([
      ["eth0", true],
      ["wlan9", false],
    ]);
    expect(addressChoices(view).map((c) => c.value)).toEqual(["0.0.0.0", "192.168.1.20", "fe80::1"]);
  });

  it("says what saving does", () => {
    expect(saveEffect(view, { lan_sharing: true })).toMatch(/starts/);
    expect(saveEffect({ ...view, lan_sharing: true }, { lan_port: 1 })).toMatch(/restarts/);
    expect(saveEffect({ ...view, lan_sharing: true }, { lan_sharing: false })).toMatch(/stops/);
  });
});
