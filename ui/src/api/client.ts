// The Kinto HTTP client the views use: one `request` that adds the credentials, parses Kinto's
// error body, and exposes ETag/Next-Page/Total-Objects; list pagination and counting on top.

export interface Credentials {
  /** The API root, e.g. `http://127.0.0.1:8888/v1` (no trailing slash). */
  url: string;
  /** The `Authorization` header value (Basic or Bearer). */
  authorization: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public errno?: number,
    public details?: unknown,
    public body?: unknown,
  ) {
    super(message);
  }
  /** 412: someone changed the object since it was loaded. */
  get conflict(): boolean {
    return this.status === 412;
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: [string, string][];
  headers?: Record<string, string>;
  /** Sends `If-Match: "<ts>"` (optimistic concurrency). */
  ifMatch?: number;
  /** Sends `If-None-Match: *` (create only). */
  ifNoneMatch?: boolean;
  raw?: BodyInit;
}

export interface Response<T> {
  status: number;
  data: T;
  headers: Headers;
}

export type Fetch = typeof fetch;

/** Percent-encodes one path segment. */
export const seg = encodeURIComponent;

export class Client {
  constructor(public creds: Credentials, private fetchImpl: Fetch = (...a) => fetch(...a)) {}

  url(path: string, query: [string, string][] = []): string {
    const qs = query.length ? `?${new URLSearchParams(query).toString()}` : "";
    return path.startsWith("http") ? `${path}${qs}` : `${this.creds.url}${path}${qs}`;
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    if (this.creds.authorization) headers.Authorization = this.creds.authorization;
    if (opts.ifMatch !== undefined) headers["If-Match"] = `"${opts.ifMatch}"`;
    if (opts.ifNoneMatch) headers["If-None-Match"] = "*";
    let body: BodyInit | undefined = opts.raw;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let res: globalThis.Response;
    try {
      res = await this.fetchImpl(this.url(path, opts.query), { method, headers, body });
    } catch (e) {
      throw new ApiError(0, `The server cannot be reached (${(e as Error).message}).`);
    }
    const text = method === "HEAD" ? "" : await res.text();
    let data: any = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!res.ok) {
      const message = data && typeof data === "object" && data.message ? String(data.message) : `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, message, data?.errno, data?.details, data);
    }
    return { status: res.status, data: data as T, headers: res.headers };
  }

  get<T = any>(path: string, query: [string, string][] = []) {
    return this.request<T>("GET", path, { query });
  }

  /** One page of a plural endpoint, with the URL of the next one. */
  async page<T = any>(pathOrNext: string, query: [string, string][] = []): Promise<{ items: T[]; next: string | null }> {
    const res = await this.request<{ data: T[] }>("GET", pathOrNext, { query });
    return { items: res.data?.data ?? [], next: res.headers.get("Next-Page") };
  }

  /** Every object of a plural endpoint, following Next-Page; `onProgress` gets the count so far. */
  async all<T = any>(path: string, query: [string, string][] = [], onProgress?: (n: number) => void): Promise<T[]> {
    const out: T[] = [];
    let page = await this.page<T>(path, query);
    for (;;) {
      out.push(...page.items);
      onProgress?.(out.length);
      if (!page.next) return out;
      page = await this.page<T>(page.next);
    }
  }

  /** `Total-Objects` of a plural endpoint with these filters (a HEAD request). */
  async count(path: string, query: [string, string][] = []): Promise<number | null> {
    const res = await this.request("HEAD", path, { query });
    const total = res.headers.get("Total-Objects") ?? res.headers.get("Total-Records");
    return total === null ? null : Number(total);
  }

  /** `POST /batch` of up to `batch_max_requests` sub-requests; returns each one's response. */
  async batch(requests: { method: string; path: string; body?: unknown; headers?: Record<string, string> }[]) {
    const res = await this.request<{ responses: { status: number; body: any; path: string }[] }>("POST", "/batch", {
      body: { requests },
    });
    return res.data.responses;
  }
}

/** Path helpers. */
export const paths = {
  buckets: () => "/buckets",
  bucket: (b: string) => `/buckets/${seg(b)}`,
  collections: (b: string) => `/buckets/${seg(b)}/collections`,
  collection: (b: string, c: string) => `/buckets/${seg(b)}/collections/${seg(c)}`,
  groups: (b: string) => `/buckets/${seg(b)}/groups`,
  group: (b: string, g: string) => `/buckets/${seg(b)}/groups/${seg(g)}`,
  records: (b: string, c: string) => `/buckets/${seg(b)}/collections/${seg(c)}/records`,
  record: (b: string, c: string, r: string) => `/buckets/${seg(b)}/collections/${seg(c)}/records/${seg(r)}`,
  attachment: (b: string, c: string, r: string) => `/buckets/${seg(b)}/collections/${seg(c)}/records/${seg(r)}/attachment`,
  history: (b: string) => `/buckets/${seg(b)}/history`,
};
