import { describe, expect, it } from "vitest";
import {
  effectiveAccess,
  grantingPermissions,
  groupsInChain,
  normalizePrincipal,
  principalLabel,
  togglePrincipal,
  userHas,
  type AclChain,
} from "./permissions";

describe("principal names", () => {
  it("are readable", () => {
    expect(principalLabel("system.Everyone")).toBe("Everyone, even anonymous");
    expect(principalLabel("system.Authenticated")).toBe("Any signed-in user");
    expect(principalLabel("account:alice")).toBe("alice (account)");
    expect(principalLabel("account:alice", "account:alice")).toBe("alice (account) (you)");
    expect(principalLabel("/buckets/b1/groups/friends")).toBe("Group friends in b1");
    expect(principalLabel("/buckets/b1/groups/friends", undefined, { "/buckets/b1/groups/friends": "Friends" })).toBe("Group “Friends” (friends) in b1");
    expect(principalLabel("device:laptop")).toBe("Device laptop");
    expect(principalLabel("app:ext1")).toBe("App ext1");
    expect(principalLabel("basicauth:0123456789abcdef")).toBe("Basic-auth user 01234567…");
  });

  it("are normalised from what users type", () => {
    expect(normalizePrincipal("alice")).toBe("account:alice");
    expect(normalizePrincipal(" everyone ")).toBe("system.Everyone");
    expect(normalizePrincipal("Authenticated")).toBe("system.Authenticated");
    expect(normalizePrincipal("group:friends", "b1")).toBe("/buckets/b1/groups/friends");
    expect(normalizePrincipal("device:x")).toBe("device:x");
    expect(normalizePrincipal("/buckets/b/groups/g")).toBe("/buckets/b/groups/g");
    expect(normalizePrincipal("  ")).toBe("");
  });
});

describe("inheritance", () => {
  it("follows Kinto's rules", () => {
    const sources = (kind: Parameters<typeof grantingPermissions>[0], perm: string) =>
      grantingPermissions(kind, perm).map((g) => `${g.level}:${g.permission}`).sort();
    expect(sources("record", "read")).toEqual(["bucket:read", "bucket:write", "collection:read", "collection:write", "record:read", "record:write"]);
    expect(sources("record", "write")).toEqual(["bucket:write", "collection:write", "record:write"]);
    expect(sources("collection", "record:create")).toEqual(["bucket:write", "collection:record:create", "collection:write"]);
    expect(sources("bucket", "collection:create")).toEqual(["bucket:collection:create", "bucket:write"]);
    expect(sources("group", "read")).toEqual(["bucket:read", "bucket:write", "group:read", "group:write"]);
  });
});

describe("effective access", () => {
  const chain: AclChain = {
    kind: "record",
    levels: [
      { kind: "bucket", id: "b1", acl: { write: ["account:admin"], read: ["/buckets/b1/groups/readers"] } },
      { kind: "collection", id: "c1", acl: { "record:create": ["system.Authenticated"], read: ["account:carol"] } },
      { kind: "record", id: "r1", acl: { write: ["account:alice"] } },
    ],
  };
  const members = { "/buckets/b1/groups/readers": ["account:bob", "account:carol"] };

  it("combines the object's ACL, its parents' and group members", () => {
    const entries = effectiveAccess(chain, members);
    const table = Object.fromEntries(entries.map((e) => [e.principal, e.permissions]));
    expect(table).toEqual({
      "account:admin": ["write", "read"],
      "account:alice": ["write", "read"],
      "account:bob": ["read"],
      "account:carol": ["read"],
      "/buckets/b1/groups/readers": ["read"],
    });
    // record:create on the collection is not a permission of records.
    expect(table["system.Authenticated"]).toBeUndefined();
    const carol = entries.find((e) => e.principal === "account:carol");
    expect(carol?.reasons.read.map((g) => `${g.level}:${g.via}`)).toEqual(["collection:account:carol", "bucket:/buckets/b1/groups/readers"]);
  });

  it("answers whether a user holds a permission through any of its principals", () => {
    expect(userHas(chain, ["account:bob", "system.Authenticated", "system.Everyone"], "read", members)).toBe(true);
    expect(userHas(chain, ["account:bob"], "write", members)).toBe(false);
    // Without the group's members, bob's access is unknown to the UI.
    expect(userHas(chain, ["account:bob"], "read")).toBe(false);
    expect(userHas(chain, ["account:dave", "system.Authenticated"], "read", members)).toBe(false);
  });

  it("lists system principals first and collection-level create permissions", () => {
    const collection: AclChain = {
      kind: "collection",
      levels: [
        { kind: "bucket", id: "b1", acl: { read: ["system.Everyone"] } },
        { kind: "collection", id: "c1", acl: { "record:create": ["system.Authenticated"], write: ["account:a"] } },
      ],
    };
    const entries = effectiveAccess(collection);
    expect(entries.map((e) => e.principal)).toEqual(["system.Everyone", "system.Authenticated", "account:a"]);
    expect(entries[1].permissions).toEqual(["record:create"]);
    expect(entries[2].permissions).toEqual(["write", "read", "record:create"]);
  });

  it("tolerates levels the caller cannot read", () => {
    const hidden: AclChain = { kind: "record", levels: [{ kind: "bucket", id: "b", acl: null }, { kind: "record", id: "r", acl: { read: ["account:x"] } }] };
    expect(effectiveAccess(hidden).map((e) => e.principal)).toEqual(["account:x"]);
    expect(groupsInChain(chain)).toEqual(["/buckets/b1/groups/readers"]);
  });

  it("edits ACLs immutably", () => {
    const acl = { read: ["account:a"] };
    const added = togglePrincipal(acl, "read", "account:b", true);
    expect(added.read).toEqual(["account:a", "account:b"]);
    expect(togglePrincipal(added, "read", "account:b", true).read).toEqual(["account:a", "account:b"]);
    expect(togglePrincipal(added, "read", "account:a", false).read).toEqual(["account:b"]);
    expect(acl.read).toEqual(["account:a"]);
  });
});
