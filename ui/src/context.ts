// What every view needs: the session (who is signed in, the server's hello) and its client;
// and a way for the Connected apps, Devices and Sync pages to refresh the navigation's badges.

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Client } from "./api/client";
import type { Session } from "./api/session";
import type { AppsListing } from "./lib/apps";
import type { DevicesOverview } from "./lib/devices";
import type { SyncLink } from "./lib/sync";

export interface AppCtx {
  session: Session;
  client: Client;
  /** Tells the navigation what `/__apps__` just answered (its pending-requests badge). */
  onApps?: (listing: AppsListing) => void;
  /** Tells the navigation what `/__devices__` just answered (its to-confirm badge). */
  onDevices?: (overview: DevicesOverview) => void;
  /** Tells the navigation what `/__sync__/links` just answered (its open-conflicts badge). */
  onSync?: (links: SyncLink[]) => void;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error("useApp outside the signed-in app");
  return ctx;
}
