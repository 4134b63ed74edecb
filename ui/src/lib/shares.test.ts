import { describe, expect, it } from "vitest";
import { accessLabel, shareChanges, standing, type Share } from "./shares";

const shares: Share[] = [
  { bucket: "home", collection: "recipes", access: "write", via: "/buckets/home/collections/recipes", title: "Recipes" },
  { bucket: "family", collection: "photos", access: "read", via: "/buckets/family" },
  { bucket: "family", collection: "chores", access: "write", via: "/buckets/family/groups/household" },
];

describe("collection shares", () => {
  it("tells its own grant from inherited ones", () => {
    expect(standing(shares, "home", "recipes")).toEqual({ access: "write", own: "write", inherited: null });
    expect(standing(shares, "family", "photos")).toEqual({ access: "read", own: null, inherited: "read-only through its bucket" });
    expect(standing(shares, "family", "chores").inherited).toBe("read and write through the group “household”");
    expect(standing(shares, "home", "other")).toEqual({ access: null, own: null, inherited: null });
  });

  it("sends only the changed devices", () => {
    expect(shareChanges({ a: "read", b: null, c: "write" }, { a: "read", b: "write", c: null })).toEqual([
      { device: "b", access: "write" },
      { device: "c", access: null },
    ]);
    expect(shareChanges({ a: null }, { a: null })).toEqual([]);
  });

  it("labels access", () => {
    expect([accessLabel("write"), accessLabel("read"), accessLabel(null)]).toEqual(["Read and write", "Read-only", "Not shared"]);
  });
});
