// Hash routing (works at /v1/admin/ and in the desktop window without server help):
// `#/buckets/b1/collections/c1/records/r1/history` → { parts: [...], query }.

import { useEffect, useState } from "preact/hooks";

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const [path, qs = ""] = raw.split("?", 2);
  const parts = path.split("/").filter((p) => p !== "").map((p) => decodeURIComponent(p));
  return { parts, query: new URLSearchParams(qs) };
}

/** A hash link from path parts (each percent-encoded) and optional query. */
export function href(parts: string[], query?: Record<string, string>): string {
  const qs = query && Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : "";
  return `#/${parts.map(encodeURIComponent).join("/")}${qs}`;
}

export function navigate(parts: string[], query?: Record<string, string>) {
  window.location.hash = href(parts, query);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
