// Signing in: in the desktop app the owner session comes from the Tauri command `session`
// (a bearer token); in a browser the user signs in with an account (Basic auth), kept for the
// tab's lifetime in sessionStorage.

import { Client, type Credentials } from "./client";

export interface Session {
  creds: Credentials;
  user: { id: string; principals: string[] };
  /** The hello view (`GET /v1/`): capabilities, settings... */
  server: any;
  desktop: boolean;
}

const KEY = "kintoun.session";

interface TauriInternals {
  invoke: (cmd: string, args?: unknown) => Promise<any>;
}

function tauri(): TauriInternals | null {
  const internals = (window as any).__TAURI_INTERNALS__;
  return internals && typeof internals.invoke === "function" ? internals : null;
}

export function isDesktop(): boolean {
  return tauri() !== null;
}

/** Calls a command of the desktop app (only in its window). */
export async function desktopCommand<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const t = tauri();
  if (!t) throw new Error("Not in the desktop app");
  return (await t.invoke(cmd, args)) as T;
}

/** The API root when the UI is served by the server itself at `/v1/admin/`. */
export function defaultServerUrl(): string {
  const m = /^(.*\/v1)\/admin(\/|$)/.exec(window.location.pathname);
  return `${window.location.origin}${m ? m[1] : "/v1"}`;
}

/** Checks credentials against the hello view; throws ApiError when the server refuses them. */
export async function open(creds: Credentials, desktop: boolean): Promise<Session> {
  const client = new Client(creds);
  const hello = await client.get("/");
  if (!hello.data?.user?.id) throw new Error("Wrong user name or password (the server did not recognise you).");
  return { creds, user: hello.data.user, server: hello.data, desktop };
}

export async function desktopSession(): Promise<Session> {
  const t = tauri();
  if (!t) throw new Error("Not in the desktop app");
  const s = await t.invoke("session");
  const url = String(s.url).replace(/\/+$/, "");
  return open({ url, authorization: `Bearer ${s.token}` }, true);
}

export function basicAuth(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = "";
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return `Basic ${btoa(bin)}`;
}

export async function signIn(url: string, user: string, password: string): Promise<Session> {
  const session = await open({ url: url.replace(/\/+$/, ""), authorization: basicAuth(user, password) }, false);
  sessionStorage.setItem(KEY, JSON.stringify(session.creds));
  return session;
}

/** The session saved in this tab, if its credentials still work. */
export async function restore(): Promise<Session | null> {
  const saved = sessionStorage.getItem(KEY);
  if (!saved) return null;
  try {
    return await open(JSON.parse(saved) as Credentials, false);
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}
