// The navigation's "Connected apps" link with the count of requests waiting for approval:
// shown only to users `/__apps__` answers 200 to (the owner and admins), refreshed now and then.

import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, type Client } from "../api/client";
import type { AppsListing } from "../lib/apps";

/** How often the navigation asks for pending requests (the page itself polls every 2 s). */
const NAV_POLL_MS = 10000;

export interface AppsBadge {
  /** `/__apps__` answered 200: the link is shown. */
  ok: boolean;
  pending: number;
  /** Updates the badge from a fresh listing (the Connected apps page calls it). */
  update: (listing: AppsListing) => void;
}

export function useAppsBadge(client: Client): AppsBadge {
  const [ok, setOk] = useState(false);
  const [pending, setPending] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = () =>
      client.get<AppsListing>("/__apps__").then(
        (res) => {
          setOk(true);
          setPending(res.data?.pending?.length ?? 0);
          if (!stopped) timer = setTimeout(poll, NAV_POLL_MS);
        },
        (err) => {
          // Not the owner (401/403) or no connect flow on this server (404): no link, no polling.
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
  const update = useCallback((listing: AppsListing) => {
    setOk(true);
    setPending(listing.pending.length);
  }, []);
  return { ok, pending, update };
}

export function AppsLink({ pending }: { pending: number }) {
  return (
    <a href="#/apps" class="apps-link">
      Connected apps
      {pending > 0 && (
        <span class="badge count" title={`${pending} request${pending === 1 ? "" : "s"} waiting for approval`} aria-label={`${pending} waiting`}>
          {pending}
        </span>
      )}
    </a>
  );
}
