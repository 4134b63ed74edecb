// The navigation's "Devices" link with the count of pairings waiting for confirmation: shown only
// to users `/__devices__` answers 200 to (the owner), refreshed now and then.

import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, type Client } from "../api/client";
import type { DevicesOverview } from "../lib/devices";

/** How often the navigation asks (the page itself polls every 2 s). */
const NAV_POLL_MS = 10000;

export interface DevicesBadge {
  /** `/__devices__` answered 200: the link is shown. */
  ok: boolean;
  /** Peers waiting for "They match" (0 on servers without the confirmation step). */
  pending: number;
  /** Updates the badge from a fresh overview (the Devices page calls it). */
  update: (overview: DevicesOverview) => void;
}

export function useDevicesBadge(client: Client): DevicesBadge {
  const [ok, setOk] = useState(false);
  const [pending, setPending] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = () =>
      client.get<DevicesOverview>("/__devices__").then(
        (res) => {
          setOk(true);
          setPending(res.data?.pending?.length ?? 0);
          if (!stopped) timer = setTimeout(poll, NAV_POLL_MS);
        },
        (err) => {
          // Not the owner (401/403) or a server without devices (404): no link, no polling.
          const refused = err instanceof ApiError && [401, 403, 404].includes(err.status);
          if (refused) setOk(false);
          else if (!stopped) timer = setTimeout(poll, NAV_POLL_MS);
        },
      );
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client]);
  const update = useCallback((overview: DevicesOverview) => {
    setOk(true);
    setPending(overview.pending?.length ?? 0);
  }, []);
  return { ok, pending, update };
}

export function DevicesLink({ pending }: { pending: number }) {
  return (
    <a href="#/devices" class="devices-link">
      Devices
      {pending > 0 && (
        <span class="badge count" title={`${pending} pairing${pending === 1 ? "" : "s"} to confirm`} aria-label={`${pending} to confirm`}>
          {pending}
        </span>
      )}
    </a>
  );
}
