// What every view needs: the session (who is signed in, the server's hello) and its client.

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Client } from "./api/client";
import type { Session } from "./api/session";

export interface AppCtx {
  session: Session;
  client: Client;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error("useApp outside the signed-in app");
  return ctx;
}
