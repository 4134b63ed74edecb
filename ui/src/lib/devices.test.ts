import { describe, expect, it } from "vitest";
import {
  describeEvent,
  formatCode,
  formatCountdown,
  formatSas,
  groupId,
  isAddressTarget,
  isCompleteCode,
  mergeNearby,
  normalizeCode,
  pairingStateText,
  presenceText,
  remainingSeconds,
  revocationSummary,
  shortId,
} from "./devices";

const COMPACT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWX";

describe("device ids", () => {
  it("are grouped by 7 from the compact form", () => {
    expect(COMPACT).toHaveLength(56);
    expect(groupId(COMPACT)).toBe("ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ23-4567ABC-DEFGHIJ-KLMNOPQ-RSTUVWX");
  });

  it("keep their grouping whatever dashes, spaces or case they came with", () => {
    const grouped = groupId(COMPACT);
    expect(groupId(grouped)).toBe(grouped);
    expect(groupId(COMPACT.toLowerCase())).toBe(grouped);
    expect(groupId(` ${COMPACT.slice(0, 10)} ${COMPACT.slice(10)}`)).toBe(grouped);
    expect(groupId("ABCDEFGHI")).toBe("ABCDEFG-HI");
    expect(groupId("")).toBe("");
  });

  it("are mentioned by their first group", () => {
    expect(shortId(COMPACT)).toBe("ABCDEFG");
    expect(shortId("abc")).toBe("ABC");
  });
});

describe("pairing codes and check strings", () => {
  it("accept codes typed with spaces or dashes", () => {
    expect(normalizeCode(" 1234-5678 ")).toBe("12345678");
    expect(normalizeCode("1234 56 78")).toBe("12345678");
    expect(isCompleteCode("1234-5678")).toBe(true);
    expect(isCompleteCode("1234-567")).toBe(false);
    expect(isCompleteCode("1234-56789")).toBe(false);
  });

  it("show codes as 1234-5678 and check strings as 123 456", () => {
    expect(formatCode("12345678")).toBe("1234-5678");
    expect(formatCode("1234-5678")).toBe("1234-5678");
    expect(formatCode("123")).toBe("123");
    expect(formatSas("042917")).toBe("042 917");
    expect(formatSas("198 318")).toBe("198 318");
    expect(formatSas("abc")).toBe("abc");
  });

  it("count down in m:ss from the time the code was fetched", () => {
    expect(formatCountdown(60)).toBe("1:00");
    expect(formatCountdown(9)).toBe("0:09");
    expect(formatCountdown(-3)).toBe("0:00");
    expect(remainingSeconds(60, 1000, 1000)).toBe(60);
    expect(remainingSeconds(60, 1000, 11_500)).toBe(50);
    expect(remainingSeconds(5, 0, 9000)).toBe(0);
  });

  it("tell an ip:port from an id or a name", () => {
    expect(isAddressTarget("127.0.0.1:41234")).toBe(true);
    expect(isAddressTarget("[fe80::1]:8889")).toBe(true);
    expect(isAddressTarget("ABCDEFG")).toBe(false);
    expect(isAddressTarget("Kitchen laptop")).toBe(false);
  });
});

describe("state wording", () => {
  it("describes every code state", () => {
    expect(pairingStateText({ state: "live", attempts_left: 5 })).toBe("Waiting for the other device: 5 attempts left.");
    expect(pairingStateText({ state: "live", attempts_left: 1 })).toBe("Waiting for the other device: 1 attempt left.");
    expect(pairingStateText({ state: "used", attempts_left: 4 })).toMatch(/paired with this one/);
    expect(pairingStateText({ state: "burned", attempts_left: 0 })).toMatch(/Too many wrong codes/);
    expect(pairingStateText({ state: "expired", attempts_left: 5 })).toBe("The code expired. Show a new one.");
    expect(pairingStateText({ state: "none", attempts_left: 0 })).toBe("No code is being shown.");
    expect(pairingStateText({ state: "odd", attempts_left: 0 })).toBe("The code is odd.");
  });

  it("describes a paired device's presence", () => {
    expect(presenceText({ connections: 2, nearby: true })).toBe("online, 2 open connections");
    expect(presenceText({ connections: 1, nearby: false })).toBe("online, 1 open connection");
    expect(presenceText({ connections: 0, nearby: true })).toBe("nearby (no open connection)");
    expect(presenceText({ connections: 0, nearby: false })).toBe("not seen on this network");
  });

  it("sums up a revocation, including devices that could not be told", () => {
    const report = { device: COMPACT, was_paired: true, acls: 3, groups: 1, connections_closed: 0, notified: [], not_notified: [] };
    expect(revocationSummary("Phone", report)).toBe(
      "Revoked “Phone”: removed from 3 permission lists and 1 group, 0 connections closed, no other device to notify.",
    );
    expect(revocationSummary("Phone", { ...report, acls: 1, groups: 0, connections_closed: 1, notified: ["A"] })).toBe(
      "Revoked “Phone”: removed from 1 permission list and 0 groups, 1 connection closed, 1 other device notified.",
    );
    expect(revocationSummary("Phone", { ...report, notified: ["A"], not_notified: ["B", "C"] })).toMatch(
      /1 notified, 2 could not be reached/,
    );
  });

  it("puts events in words and skips the uninteresting ones", () => {
    expect(describeEvent({ serial: 1, at: 0, type: "paired", name: "Phone" })).toBe("Paired with “Phone”.");
    expect(describeEvent({ serial: 2, at: 0, type: "pairing_failed", reason: "wrong pairing code", attempts_left: 4 })).toBe(
      "A pairing attempt failed: wrong pairing code (4 attempts left).",
    );
    expect(describeEvent({ serial: 3, at: 0, type: "revoked", device: COMPACT, by: COMPACT })).toBe("Device ABCDEFG was revoked.");
    expect(describeEvent({ serial: 4, at: 0, type: "pairing_confirm", name: "Phone", sas: "123456" })).toMatch(/compare/);
    expect(describeEvent({ serial: 5, at: 0, type: "pairing_started", code_expires_in_seconds: 60 })).toBeNull();
  });
});

describe("nearby devices", () => {
  const seen = (seen_at: number, extra: object = {}) => ({
    id: COMPACT,
    name: "Kitchen laptop",
    addresses: ["127.0.0.1"],
    data_port: 8889,
    pairing_port: null,
    seen_at,
    paired: false,
    ...extra,
  });

  it("list a device heard several times once, with its latest sighting and every address", () => {
    const merged = mergeNearby([seen(3), seen(1, { addresses: ["192.168.1.5"], pairing_port: 4100 }), seen(2)]);
    expect(merged).toHaveLength(1);
    expect(merged[0].seen_at).toBe(3);
    expect(merged[0].addresses).toEqual(["192.168.1.5", "127.0.0.1"]);
    expect(merged[0].pairing_port).toBe(4100);
  });

  it("keep different devices apart, sorted by name", () => {
    const other = { ...seen(1), id: "B".repeat(56), name: "Attic" };
    expect(mergeNearby([seen(1), other]).map((n) => n.name)).toEqual(["Attic", "Kitchen laptop"]);
    expect(mergeNearby([])).toEqual([]);
  });
});
