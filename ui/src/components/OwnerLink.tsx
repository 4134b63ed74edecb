// Navigation links to the owner's pages (Connected apps, Devices) with a count of what waits
// for the owner: shown only to users the page's endpoint answers 200 to, refreshed now and then.

import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, type Client } from "../api/client";

/** How often the navigation asks (the pages themselves poll every 2 s). */
const NAV_POLL_MS = 10000;

export interface OwnerBadge<T> {
  /** The endpoint answered 200: the link is shown. */
  ok: boolean;
  /** What waits for the owner (requests to approve, pairings to confirm). */
  pending: number;
  /** Updates the badge from a fresh answer (the page calls it). */
  update: (answer: T) => void;
}

/** Polls `path` and counts what waits in its answer with `count`. */
export function useOwnerBadge<T>(client: Client, path: string, count: (answer: T) => number): OwnerBadge<T> {
  const [ok, setOk] = useState(false);
  const [pending, setPending] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = () =>
      client.get<T>(path).then(
        (res) => {
          setOk(true);
          setPending(res.data ? count(res.data) : 0);
          if (!stopped) timer = setTimeout(poll, NAV_POLL_MS);
        },
        (err) => {
          // Not the owner (401/403) or not on this server (404): no link, no polling.
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
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, path]);
  const update = useCallback(
    (answer: T) => {
      setOk(true);
      setPending(count(answer));
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  return { ok, pending, update };
}

/** The link, with a badge when something waits (`waiting` says what, for the tooltip). */
export function OwnerLink({ href, label, className, pending, waiting }: { href: string; label: string; className: string; pending: number; waiting: (n: number) => string }) {
  return (
    <a href={href} class={className}>
      {label}
      {pending > 0 && (
        <span class="badge count" title={waiting(pending)} aria-label={`${pending} waiting`}>
          {pending}
        </span>
      )}
    </a>
  );
}
