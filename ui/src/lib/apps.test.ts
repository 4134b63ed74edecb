import { describe, expect, it } from "vitest";
import { approvalFailure, describeLifetime, describeOrigin, describeScope, isExtensionOrigin } from "./apps";

describe("extension origins", () => {
  it("are moz-, chrome- and safari-web-extension origins with an id", () => {
    expect(isExtensionOrigin("chrome-extension://abcdefghijklmnopabcdefghijklmnop")).toBe(true);
    expect(isExtensionOrigin("moz-extension://2b4a0c1e-8f0b-4a61-9d7a-3c2f1e0d9b8a")).toBe(true);
    expect(isExtensionOrigin("safari-web-extension://ABC123.example")).toBe(true);
  });

  it("are not web pages, local apps or look-alikes", () => {
    expect(isExtensionOrigin(null)).toBe(false);
    expect(isExtensionOrigin(undefined)).toBe(false);
    expect(isExtensionOrigin("")).toBe(false);
    expect(isExtensionOrigin("null")).toBe(false);
    expect(isExtensionOrigin("https://chrome-extension.example.com")).toBe(false);
    expect(isExtensionOrigin("http://127.0.0.1:8888")).toBe(false);
    expect(isExtensionOrigin("chrome-extension://")).toBe(false);
    expect(isExtensionOrigin("edge-extension://abc")).toBe(false);
    expect(isExtensionOrigin("chrome-extension://abc/evil")).toBe(false);
    expect(isExtensionOrigin("chrome-extension://abc@evil.example")).toBe(false);
    expect(isExtensionOrigin(" chrome-extension://abc")).toBe(false);
  });
});

describe("origin descriptions", () => {
  it("name the browser of an extension without a warning", () => {
    const info = describeOrigin("moz-extension://2b4a0c1e");
    expect(info.kind).toBe("Browser extension (Firefox)");
    expect(info.warning).toBeNull();
    expect(describeOrigin("chrome-extension://abc").kind).toMatch(/Chrom/);
    expect(describeOrigin("safari-web-extension://abc").kind).toBe("Browser extension (Safari)");
  });

  it("warn about a web page, naming it", () => {
    const info = describeOrigin("https://evil.example");
    expect(info.kind).toBe("Web page");
    expect(info.warning).toContain("https://evil.example");
    expect(info.warning).toContain("not a browser extension");
  });

  it("warn about a local app without an origin", () => {
    for (const origin of [null, undefined, ""]) {
      const info = describeOrigin(origin);
      expect(info.kind).toBe("Local app (no origin)");
      expect(info.warning).toMatch(/program on this computer/);
    }
  });
});

describe("scope wording", () => {
  it("says read or read and write, with bucket/collection", () => {
    expect(describeScope({ bucket: "home", collection: "recipes", access: "write" })).toBe("read and write home/recipes");
    expect(describeScope({ bucket: "home", collection: "recipes", access: "read" })).toBe("read home/recipes");
    expect(describeScope({ bucket: "home", collection: "recipes", access: "read", create: false })).toBe("read home/recipes");
  });

  it("says when a new collection is created", () => {
    expect(describeScope({ bucket: "notes", collection: "drafts", access: "write", create: true })).toBe(
      "create a new collection notes/drafts (and its bucket) if it does not exist, and read and write it",
    );
    expect(describeScope({ bucket: "notes", collection: "drafts", access: "read", create: true })).toMatch(/^create a new collection notes\/drafts .* and read it$/);
  });

  it("describes token lifetimes", () => {
    expect(describeLifetime(null)).toBe("until revoked");
    expect(describeLifetime(undefined)).toBe("until revoked");
    expect(describeLifetime(3600)).toBe("1 hour");
    expect(describeLifetime(30 * 86400)).toBe("30 days");
    expect(describeLifetime(90)).toBe("90 seconds");
    expect(describeLifetime(120)).toBe("2 minutes");
  });
});

describe("approval failures", () => {
  it("explain Kinto's 404 for a missing collection", () => {
    const body = { code: 404, errno: 110, error: "Not Found", details: { id: "/buckets/home/collections/notes", resource_name: "collection" } };
    expect(approvalFailure(404, body)).toBe(
      "The collection /buckets/home/collections/notes does not exist, and the app did not ask to create it. " +
        "Create it first (or ask the app to request a new collection), or deny this request.",
    );
  });

  it("leave other errors to their own message", () => {
    expect(approvalFailure(403, { details: { id: "x" } })).toBeNull();
    expect(approvalFailure(404, { code: 404, message: "gone" })).toBeNull();
    expect(approvalFailure(404, null)).toBeNull();
    expect(approvalFailure(404, "text")).toBeNull();
  });
});
