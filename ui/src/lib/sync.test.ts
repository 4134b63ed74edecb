// Unit tests of the Sync page's logic: progress wording, slugs, remotes, three-way rows, merges.
import { describe, expect, it } from "vitest";
import {
  KINTO_LINK_EMPTY,
  canMerge,
  conflictRows,
  defaultPick,
  deviceLinkBody,
  keepCopyDefaults,
  newKintoLink,
  fieldErrors,
  isBusy,
  linkForShare,
  mergeFields,
  openConflicts,
  progressText,
  remoteLabel,
  runDone,
  slug,
  type SyncLink,
  type SyncProgress,
} from "./sync";

const progress = (p: Partial<SyncProgress>): SyncProgress => ({ phase: "idle", run: 0, completed_run: 0, pulled: 0, pushed: 0, total: null, ...p });

const link = (p: Partial<SyncLink> = {}): SyncLink => ({
  id: "l1",
  local: { bucket: "kitchen-laptop", collection: "recipes" },
  remote: { kind: "device", url: null, device: "ABCD2345EFGH", bucket: "home", collection: "recipes" },
  direction: "both",
  last_sync: null,
  last_error: null,
  created_at: 1,
  conflicts: 0,
  progress: null,
  ...p,
});

describe("sync progress", () => {
  it("summarises each phase", () => {
    expect(progressText(null)).toBe("Not running");
    expect(progressText(progress({ phase: "pulling", pulled: 3, total: 10 }))).toBe("Pulling… 3 of 10 pulled");
    expect(progressText(progress({ phase: "pulling", pulled: 3 }))).toBe("Pulling… 3 pulled");
    expect(progressText(progress({ phase: "pushing", pulled: 1, pushed: 2 }))).toBe("Pushing… 1 pulled, 2 pushed");
    expect(progressText(progress({ completed_run: 2, pulled: 4, pushed: 0 }))).toBe("Idle (last run: 4 pulled, 0 pushed)");
    expect(progressText(progress({ phase: "waiting" }))).toMatch(/slow down/);
  });
  it("knows when a run asked for is done", () => {
    expect(runDone(link({ progress: progress({ run: 3, completed_run: 2 }) }), 3)).toBe(false);
    expect(runDone(link({ progress: progress({ run: 3, completed_run: 3 }) }), 3)).toBe(true);
    expect(runDone(undefined, 1)).toBe(false);
    expect(isBusy(progress({ run: 2, completed_run: 1 }))).toBe(true);
    expect(isBusy(progress({ run: 2, completed_run: 2 }))).toBe(false);
  });
  it("counts open conflicts over links", () => {
    expect(openConflicts([link({ conflicts: 2 }), link({ conflicts: 1 }), link()])).toBe(3);
  });
});

describe("links and shares", () => {
  it("names the remote", () => {
    expect(remoteLabel(link(), { "ABCD-2345-EFGH": "Kitchen laptop" })).toBe("home/recipes on Kitchen laptop");
    expect(remoteLabel(link())).toBe("home/recipes on device ABCD2345EFGH");
    expect(remoteLabel(link({ remote: { kind: "kinto", url: "https://k.example/v1", device: null, bucket: "b", collection: "c" } }))).toBe("b/c at https://k.example/v1");
  });
  it("finds the link mirroring a share, whatever the id's grouping", () => {
    expect(linkForShare([link()], "abcd-2345-efgh", { bucket: "home", collection: "recipes" })?.id).toBe("l1");
    expect(linkForShare([link()], "abcd-2345-efgh", { bucket: "home", collection: "other" })).toBeUndefined();
    expect(linkForShare([link()], "ZZZZ", { bucket: "home", collection: "recipes" })).toBeUndefined();
  });
  it("makes bucket ids from device names", () => {
    expect(slug("Kitchen laptop")).toBe("kitchen-laptop");
    expect(slug("  Zoë's  Mac!! ")).toBe("zoe-s-mac");
    expect(slug("***")).toBe("shared");
    expect(slug("x".repeat(80)).length).toBe(60);
  });
  it("maps 400 details to fields", () => {
    expect(fieldErrors([{ name: "remote.url", description: "bad scheme" }, { description: "oops" }])).toEqual({ "remote.url": "bad scheme", "": "oops" });
    expect(fieldErrors(undefined)).toEqual({});
  });
});

describe("three-way conflicts", () => {
  const conflict = {
    base: { title: "Soup", time: 10, tags: ["a"] },
    mine: { title: "Soup", time: 15, tags: ["a"], note: "salt" },
    theirs: { title: "Tomato soup", time: 12, tags: ["a"] },
  };
  it("tells which side changed each field", () => {
    const rows = conflictRows(conflict);
    expect(rows.map((r) => [r.field, r.differs, r.changedBy])).toEqual([
      ["note", true, "mine"],
      ["tags", false, "none"],
      ["time", true, "both"],
      ["title", true, "theirs"],
    ]);
  });
  it("without an ancestor every difference is on both sides", () => {
    const rows = conflictRows({ mine: { a: 1 }, theirs: { a: 2 } });
    expect(rows[0].changedBy).toBe("both");
    expect(defaultPick(rows[0])).toBe("mine");
  });
  it("merges the fields picked, leaving out ones absent on the side picked", () => {
    const rows = conflictRows(conflict);
    expect(mergeFields(rows, {})).toEqual({ title: "Tomato soup", time: 15, tags: ["a"], note: "salt" });
    expect(mergeFields(rows, { time: "theirs", note: "theirs", title: "mine" })).toEqual({ title: "Soup", time: 12, tags: ["a"] });
  });
  it("a deleted side has no fields and no merge", () => {
    const rows = conflictRows({ base: { a: 1 }, mine: null, theirs: { a: 2 } });
    expect(rows).toHaveLength(1);
    expect(rows[0].inMine).toBe(false);
    expect(canMerge({ mine: null, theirs: { a: 2 } })).toBe(false);
    expect(canMerge({ mine: { a: 1 }, theirs: { a: 2 } })).toBe(true);
  });
  it("hides id and last_modified", () => {
    expect(conflictRows({ mine: { id: "x", last_modified: 1, a: 1 }, theirs: { a: 1 } }).map((r) => r.field)).toEqual(["a"]);
  });
});

describe("new links", () => {
  it("a Kinto link defaults local ids to the remote ones and sends credentials only when given", () => {
    const v = { ...KINTO_LINK_EMPTY, url: " http://k/v1 ", remoteBucket: "home", remoteCollection: "notes" };
    expect(newKintoLink(v)).toEqual({
      local: { bucket: "home", collection: "notes" },
      remote: { kind: "kinto", url: "http://k/v1", bucket: "home", collection: "notes" },
      direction: "both",
    });
    const withUser = newKintoLink({ ...v, localBucket: "mine", user: "admin", password: "pw", direction: "pull" });
    expect(withUser.local).toEqual({ bucket: "mine", collection: "notes" });
    expect(withUser.remote).toMatchObject({ user: "admin", password: "pw" });
    expect(withUser.direction).toBe("pull");
  });
  it("Keep a copy proposes a bucket named after the device, two-way only for write shares", () => {
    expect(keepCopyDefaults("Kitchen laptop", { collection: "recipes", access: "write" })).toEqual({ bucket: "kitchen-laptop", collection: "recipes", direction: "both" });
    expect(keepCopyDefaults("Kitchen laptop", { collection: "recipes", access: "read" }).direction).toBe("pull");
    const share = { bucket: "home", collection: "recipes", access: "read" as const };
    expect(deviceLinkBody("DEV", share, { bucket: " k ", collection: "r" }, "both")).toEqual({
      local: { bucket: "k", collection: "r" },
      remote: { kind: "device", device: "DEV", bucket: "home", collection: "recipes" },
      direction: "pull",
    });
    expect(deviceLinkBody("DEV", { ...share, access: "write" }, { bucket: "k", collection: "r" }, "both").direction).toBe("both");
  });
});
