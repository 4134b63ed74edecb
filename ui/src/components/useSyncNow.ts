// "Sync now" for one link: POST `/__sync__/links/{id}/sync` answers the run that will include
// the request; the link is then re-read until its `progress.completed_run` reaches that run,
// each fresh view handed to `onUpdate` so the page shows live progress meanwhile.

import { useEffect, useRef, useState } from "preact/hooks";
import type { Client } from "../api/client";
import { runDone, type SyncLink } from "../lib/sync";

/** How often a followed run is re-read. */
const FOLLOW_MS = 500;

export const linkPath = (id: string) => `/__sync__/links/${encodeURIComponent(id)}`;

export interface SyncNow {
  /** Starts a run and follows it (a second call while one is followed follows the newer run). */
  start: () => Promise<void>;
  syncing: boolean;
  error: unknown;
}

export function useSyncNow(client: Client, id: string, onUpdate: (link: SyncLink) => void): SyncNow {
  const [syncing, setSyncing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  const start = async () => {
    setSyncing(true);
    setError(null);
    try {
      const run = (await client.request<{ data: { run: number } }>("POST", `${linkPath(id)}/sync`)).data.data.run;
      for (;;) {
        const link = (await client.get<{ data: SyncLink }>(linkPath(id))).data.data;
        if (!alive.current) return;
        onUpdate(link);
        if (runDone(link, run)) break;
        await new Promise((r) => setTimeout(r, FOLLOW_MS));
      }
    } catch (e) {
      if (alive.current) setError(e);
    } finally {
      if (alive.current) setSyncing(false);
    }
  };
  return { start, syncing, error };
}
