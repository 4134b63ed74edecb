import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, Client } from "./client";
import { basicAuth, desktopSession, isDesktop } from "./session";

function reply(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("client", () => {
  it("sends credentials, If-Match, and parses Kinto's error body", async () => {
    const calls: [string, RequestInit][] = [];
    const client = new Client({ url: "http://h/v1", authorization: "Bearer t" }, async (url, init) => {
      calls.push([String(url), init ?? {}]);
      return reply(412, { code: 412, errno: 114, error: "Precondition Failed", message: "Resource was modified meanwhile" });
    });
    const err = await client.request("PUT", "/buckets/b", { body: { data: {} }, ifMatch: 42 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.errno, err.message, err.conflict]).toEqual([412, 114, "Resource was modified meanwhile", true]);
    const headers = calls[0][1].headers as Record<string, string>;
    expect(calls[0][0]).toBe("http://h/v1/buckets/b");
    expect(headers.Authorization).toBe("Bearer t");
    expect(headers["If-Match"]).toBe('"42"');
  });

  it("follows Next-Page and counts with HEAD", async () => {
    const urls: string[] = [];
    const client = new Client({ url: "http://h/v1", authorization: "" }, async (url, init) => {
      urls.push(`${init?.method} ${url}`);
      if (init?.method === "HEAD") return new Response(null, { status: 200, headers: { "Total-Objects": "3" } });
      if (String(url).includes("_token")) return reply(200, { data: [{ id: "c" }] });
      return reply(200, { data: [{ id: "a" }, { id: "b" }] }, { "Next-Page": "http://h/v1/buckets?_limit=2&_token=x" });
    });
    const progress: number[] = [];
    const all = await client.all("/buckets", [["_limit", "2"]], (n) => progress.push(n));
    expect(all.map((o: any) => o.id)).toEqual(["a", "b", "c"]);
    expect(progress).toEqual([2, 3]);
    expect(await client.count("/buckets", [["min_n", "1"]])).toBe(3);
    expect(urls).toEqual(["GET http://h/v1/buckets?_limit=2", "GET http://h/v1/buckets?_limit=2&_token=x", "HEAD http://h/v1/buckets?min_n=1"]);
  });

  it("reports an unreachable server as status 0", async () => {
    const client = new Client({ url: "http://h/v1", authorization: "" }, async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(client.get("/")).rejects.toMatchObject({ status: 0 });
  });
});

describe("session", () => {
  it("encodes Basic credentials as UTF-8", () => {
    expect(basicAuth("alice", "pässword")).toBe("Basic YWxpY2U6cMOkc3N3b3Jk");
  });

  it("takes the desktop app's session from invoke('session') and uses its bearer token", async () => {
    const invoke = vi.fn(async () => ({ url: "http://127.0.0.1:8888/v1/", token: "tok-1", user: "account:admin", data_dir: "/d" }));
    vi.stubGlobal("window", { __TAURI_INTERNALS__: { invoke } });
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => reply(200, { user: { id: "account:admin", principals: ["account:admin", "system.Authenticated"] } }));
    vi.stubGlobal("fetch", fetchMock);
    expect(isDesktop()).toBe(true);
    const session = await desktopSession();
    expect(invoke).toHaveBeenCalledWith("session");
    expect(session.desktop).toBe(true);
    expect(session.user.id).toBe("account:admin");
    expect(session.creds).toEqual({ url: "http://127.0.0.1:8888/v1", authorization: "Bearer tok-1" });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("http://127.0.0.1:8888/v1/");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok-1");
  });
});
