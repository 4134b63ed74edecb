// Household devices (`/__devices__`, the owner only), refreshed every 2 s while open: this
// device and whether LAN sharing is on (with its LAN settings, components/LanSettings), pairings waiting for the check strings to be compared,
// the code (and QR code) another device can pair with, the paired devices (each revocable), the
// devices nearby that are not paired yet (Pair → code → check string), and recent activity.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { useApp } from "../context";
import { usePoll } from "../hooks";
import {
  LAN_SHARING_HINT,
  describeEvent,
  formatCode,
  formatCountdown,
  formatSas,
  groupId,
  isCompleteCode,
  mergeNearby,
  normalizeCode,
  pairingStateText,
  presenceText,
  remainingSeconds,
  revocationSummary,
  shortId,
  type DeviceEvent,
  type DevicesOverview,
  type NearbyDevice,
  type PairedDevice,
  type PairedView,
  type PairingView,
  type PendingPeer,
  type RevocationReport,
} from "../lib/devices";
import { ConfirmButton, ErrorBox, Spinner, formatDate } from "../components/ui";
import { LanSettings } from "../components/LanSettings";

const POLL_MS = 2000;
const EVENTS_SHOWN = 5;

interface Snapshot {
  overview: DevicesOverview;
  /** Null while LAN sharing is off. */
  pairing: PairingView | null;
  /** When `pairing` was fetched (its countdown runs from there). */
  fetchedAt: number;
  events: DeviceEvent[];
}

const devicePath = (id: string) => `/__devices__/${encodeURIComponent(id)}`;

export function Devices() {
  const { client, onDevices } = useApp();
  const events = useRef<{ since: number; list: DeviceEvent[] }>({ since: 0, list: [] });
  const snapshot = usePoll<Snapshot>(
    async () => {
      const overview = (await client.get<DevicesOverview>("/__devices__")).data;
      onDevices?.(overview);
      let pairing: PairingView | null = null;
      if (overview.lan_sharing) {
        const [view, fresh] = await Promise.all([
          client.get<PairingView>("/__devices__/pairing").then((r) => r.data),
          client
            .get<{ events: DeviceEvent[] }>("/__devices__/events", [["since", String(events.current.since)]])
            .then((r) => r.data?.events ?? [], () => []),
        ]);
        pairing = view;
        if (fresh.length > 0) {
          const list = [...events.current.list, ...fresh].slice(-EVENTS_SHOWN * 4);
          events.current = { since: Math.max(...fresh.map((e) => e.serial)), list };
        }
      }
      return { overview, pairing, fetchedAt: Date.now(), events: events.current.list };
    },
    POLL_MS,
    [client],
  );
  const [notice, setNotice] = useState<string | null>(null);
  const data = snapshot.data;
  const says = (text: string) => {
    setNotice(text);
    snapshot.reload();
  };
  return (
    <section class="devices">
      <h1>Devices</h1>
      <p class="muted">
        Your other computers and phones running Kintoun on the same network. A paired device proves who it is with its
        own key; it sees only the buckets and collections you share with its <code>device:…</code> principal.
      </p>
      {notice && (
        <div class="ok" role="status">
          {notice}
        </div>
      )}
      {snapshot.loading && !data && <Spinner />}
      <ErrorBox error={snapshot.error} onRetry={snapshot.reload} />
      {data && (
        <>
          <ThisDeviceFacts overview={data.overview} />
          <LanSettingsPanel initiallyOpen={!data.overview.lan_sharing} onSaved={says} />
          {data.overview.pending && data.overview.pending.length > 0 && (
            <PendingList pending={data.overview.pending} onDone={says} />
          )}
          <PairingPanel
            lanSharing={data.overview.lan_sharing}
            view={data.pairing}
            fetchedAt={data.fetchedAt}
            confirms={data.overview.pending !== undefined}
            onChange={snapshot.reload}
          />
          <h2>Paired devices</h2>
          <PairedList devices={data.overview.paired} onRevoked={says} />
          <h2>Nearby</h2>
          <NearbyList overview={data.overview} onJoined={says} />
          {data.events.length > 0 && <Activity events={data.events} />}
        </>
      )}
    </section>
  );
}

/** The LAN settings, folded unless sharing is off when the page opens; then the user decides. */
function LanSettingsPanel({ initiallyOpen, onSaved }: { initiallyOpen: boolean; onSaved: (text: string) => void }) {
  const [open, setOpen] = useState(initiallyOpen);
  return (
    <details class="lan-settings-panel" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>LAN settings</summary>
      {open && <LanSettings onSaved={onSaved} />}
    </details>
  );
}

/** Copies text, with the old `execCommand` fallback where the Clipboard API is missing. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Denied (no permission or no focus): fall back below.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  if (!done) throw new Error("copying is not allowed here: select the id and copy it by hand");
}

function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <button
      class="small copy"
      title="Copy to the clipboard"
      onClick={() =>
        copyText(text).then(
          () => setState("copied"),
          () => setState("failed"),
        )
      }
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : label}
    </button>
  );
}

function ThisDeviceFacts({ overview }: { overview: DevicesOverview }) {
  const me = overview.this;
  return (
    <>
      <h2>This device</h2>
      <dl class="facts this-device">
        <dt>Name</dt>
        <dd class="device-name">{me.name ?? <span class="muted">(announced only while LAN sharing is on)</span>}</dd>
        <dt>Device id</dt>
        <dd>
          <code class="device-id" data-id={me.id}>
            {groupId(me.display_id || me.id)}
          </code>{" "}
          <CopyButton text={me.display_id || groupId(me.id)} />
        </dd>
        <dt>Principal</dt>
        <dd>
          <code>{me.principal}</code>
        </dd>
        <dt>LAN sharing</dt>
        <dd class="lan-sharing" data-on={String(overview.lan_sharing)}>
          {overview.lan_sharing ? (
            <>
              <span class="badge create">on</span> listening on <code>{me.address}</code>
            </>
          ) : (
            <>
              <span class="badge delete">off</span> <span class="muted">{LAN_SHARING_HINT}</span>
            </>
          )}
        </dd>
      </dl>
    </>
  );
}

/** The check string, big, for comparing with the other screen. */
function Sas({ sas }: { sas: string }) {
  return (
    <div class="sas" data-sas={sas} aria-label={`Check string ${sas.replace(/\s/g, "").split("").join(" ")}`}>
      {formatSas(sas)}
    </div>
  );
}

function PendingList({ pending, onDone }: { pending: PendingPeer[]; onDone: (text: string) => void }) {
  return (
    <>
      <h2>
        Confirm the check string <span class="badge count">{pending.length}</span>
      </h2>
      <div class="consents">
        {pending.map((peer) => (
          <PendingPanel key={peer.device} peer={peer} onDone={onDone} />
        ))}
      </div>
    </>
  );
}

function PendingPanel({ peer, onDone }: { peer: PendingPeer; onDone: (text: string) => void }) {
  const { client } = useApp();
  const [busy, setBusy] = useState<"confirm" | "reject" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const decide = async (match: boolean) => {
    setBusy(match ? "confirm" : "reject");
    setError(null);
    try {
      if (match) {
        await client.request("POST", `${devicePath(peer.device)}/confirm`);
        onDone(`Paired with “${peer.name}”.`);
      } else {
        await client.request("DELETE", devicePath(peer.device));
        onDone(`Did not pair with “${peer.name}”: it was forgotten.`);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <article class="consent card pending" data-device={peer.device} aria-label={`Pairing with ${peer.name}`}>
      <h2>
        Pair with <span class="peer-name">{peer.name}</span>?
      </h2>
      <p>
        Check that <strong>{peer.name}</strong> shows exactly this check string:
      </p>
      <Sas sas={peer.sas} />
      <p class="muted small">
        Device id <code>{groupId(peer.display_id || peer.device)}</code>. If the strings differ, someone else may have
        answered the code: choose “They don't match”. This request expires {formatDate(peer.expires_at)}.
      </p>
      <ErrorBox error={error} />
      <div class="actions">
        <button class="danger" disabled={busy !== null} onClick={() => decide(false)}>
          {busy === "reject" ? "Forgetting…" : "They don't match"}
        </button>
        <button class="primary" disabled={busy !== null} onClick={() => decide(true)}>
          {busy === "confirm" ? "Pairing…" : "They match"}
        </button>
      </div>
    </article>
  );
}

/** Re-renders every second (for countdowns). */
function useTick(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** The QR code of the live code (`/__devices__/pairing/qr.svg`), or null when the server has none. */
function useQr(code: string | null): string | null {
  const { client } = useApp();
  const [svg, setSvg] = useState<string | null>(null);
  useEffect(() => {
    setSvg(null);
    if (!code) return;
    let current = true;
    client.request<unknown>("GET", "/__devices__/pairing/qr.svg", { headers: { Accept: "image/svg+xml" } }).then(
      (res) => current && typeof res.data === "string" && res.data.includes("<svg") && setSvg(res.data),
      // 404 (a server without QR codes, or the code just ended): the code alone is enough.
      () => current && setSvg(null),
    );
    return () => {
      current = false;
    };
  }, [client, code]);
  return svg;
}

function PairingPanel({
  lanSharing,
  view,
  fetchedAt,
  confirms,
  onChange,
}: {
  lanSharing: boolean;
  view: PairingView | null;
  fetchedAt: number;
  confirms: boolean;
  onChange: () => void;
}) {
  const { client } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const live = view?.state === "live" && view.code !== null;
  const now = useTick(live);
  const qr = useQr(live ? view?.code ?? null : null);
  const act = async (method: "POST" | "DELETE") => {
    setBusy(true);
    setError(null);
    try {
      await client.request(method, "/__devices__/pairing");
      onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const left = view ? remainingSeconds(view.expires_in_seconds, fetchedAt, now) : 0;
  return (
    <>
      <h2>Pair a new device</h2>
      {!lanSharing ? (
        <p class="warning lan-off">
          <strong>LAN sharing is off</strong>, so this device cannot pair or be seen by the others. {LAN_SHARING_HINT}
        </p>
      ) : live && view ? (
        <div class="card pairing-code" data-state="live">
          <div class="code-row">
            {qr && <img class="qr" alt="QR code of the pairing code" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr)}`} />}
            <div>
              <p class="muted">On the other device, open Devices, choose this device (or “Pair by address”) and enter:</p>
              <div class="code" data-code={normalizeCode(view.code ?? "")}>
                {formatCode(view.code ?? "")}
              </div>
              <p>
                <span class="countdown" aria-live="off">
                  {left > 0 ? `Expires in ${formatCountdown(left)}` : "Expired"}
                </span>{" "}
                · <span class="attempts">{pairingStateText(view)}</span>
              </p>
              {view.pairing_port !== null && (
                <p class="muted small">
                  Pairing port <code class="pairing-port">{view.pairing_port}</code>
                </p>
              )}
            </div>
          </div>
          <ErrorBox error={error} />
          <div class="actions">
            <button disabled={busy} onClick={() => act("DELETE")}>
              Cancel the code
            </button>
          </div>
        </div>
      ) : (
        <div class="pairing-code" data-state={view?.state ?? "none"}>
          {view && view.state !== "none" && <p class="muted state">{pairingStateText(view)}</p>}
          {view?.last_paired && view.state === "used" && !confirms && <LastPaired paired={view.last_paired} />}
          <ErrorBox error={error} />
          <button class="primary" disabled={busy} onClick={() => act("POST")}>
            {busy ? "Working…" : "Show a pairing code"}
          </button>{" "}
          <span class="muted small">valid one minute, five tries</span>
        </div>
      )}
    </>
  );
}

/** After a pairing on a server without the confirmation step: the check string to compare now. */
function LastPaired({ paired }: { paired: PairedView }) {
  return (
    <div class="card last-paired">
      <p>
        Paired with <strong>{paired.name}</strong>. Check that it shows the same check string:
      </p>
      <Sas sas={paired.sas} />
      <p class="muted small">If it shows a different one, revoke “{paired.name}” below and pair again.</p>
    </div>
  );
}

function PairedList({ devices, onRevoked }: { devices: PairedDevice[]; onRevoked: (text: string) => void }) {
  if (devices.length === 0) return <p class="muted">No device is paired yet.</p>;
  const sorted = [...devices].sort((a, b) => a.paired_at - b.paired_at);
  return (
    <ul class="entries paired">
      {sorted.map((d) => (
        <PairedItem key={d.id} device={d} onRevoked={onRevoked} />
      ))}
    </ul>
  );
}

function PairedItem({ device, onRevoked }: { device: PairedDevice; onRevoked: (text: string) => void }) {
  const { client } = useApp();
  const online = device.connections > 0;
  return (
    <li class="entry" data-device={device.id}>
      <div class="entry-head">
        <strong class="device-name">{device.name}</strong>
        <span class={`badge presence ${online ? "create" : ""}`}>{online ? "online" : device.nearby ? "nearby" : "away"}</span>
        <ConfirmButton
          label="Revoke"
          question={
            `Revoke “${device.name}”? It is removed from every permission list (ACL) and group, its key is forgotten ` +
            "so it can no longer connect, its open connections are closed, and your other paired devices are told to " +
            "forget it too. To share with it again, pair it again."
          }
          onConfirm={async () => {
            const res = await client.request<RevocationReport>("DELETE", devicePath(device.id));
            onRevoked(revocationSummary(device.name, res.data));
          }}
        />
      </div>
      <div class="small">
        <code class="device-id">{groupId(device.display_id ?? device.id)}</code>
      </div>
      <div class="muted small">
        {device.address} · paired {formatDate(device.paired_at)} · <span class="presence-text">{presenceText(device)}</span>
      </div>
    </li>
  );
}

function NearbyList({ overview, onJoined }: { overview: DevicesOverview; onJoined: (text: string) => void }) {
  const strangers = mergeNearby(overview.nearby).filter((n) => !n.paired);
  return (
    <>
      {!overview.lan_sharing ? (
        <p class="muted">Devices nearby show up here while LAN sharing is on.</p>
      ) : strangers.length === 0 ? (
        <p class="muted">No unpaired device is announcing itself on this network right now.</p>
      ) : (
        <ul class="entries nearby">
          {strangers.map((n) => (
            <NearbyItem key={n.id} device={n} confirms={overview.pending !== undefined} paired={overview.paired} onJoined={onJoined} />
          ))}
        </ul>
      )}
      {overview.lan_sharing && (
        <details class="by-address">
          <summary>Not listed? Pair by address</summary>
          <p class="muted small">
            Enter the other device's id, name, or the <code>address:port</code> of its pairing port (shown under its
            code), then its code.
          </p>
          <JoinForm target={null} confirms={overview.pending !== undefined} paired={overview.paired} onJoined={onJoined} />
        </details>
      )}
    </>
  );
}

function NearbyItem({
  device,
  confirms,
  paired,
  onJoined,
}: {
  device: NearbyDevice;
  confirms: boolean;
  paired: PairedDevice[];
  onJoined: (text: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const inviting = device.pairing_port !== null;
  return (
    <li class="entry" data-device={device.id}>
      <div class="entry-head">
        <strong class="device-name">{device.name}</strong>
        <code class="muted small">{shortId(device.id)}</code>
        {inviting ? <span class="badge create">showing a code</span> : <span class="badge">no code shown</span>}
        <button class={inviting ? "primary" : ""} onClick={() => setOpen(!open)}>
          {open ? "Close" : "Pair"}
        </button>
      </div>
      <div class="muted small">
        {device.addresses.join(", ")} · seen {formatDate(device.seen_at)}
      </div>
      {open && (
        <>
          {!inviting && <p class="muted small">First choose “Show a pairing code” on {device.name}.</p>}
          <JoinForm target={device.id} confirms={confirms} paired={paired} onJoined={onJoined} />
        </>
      )}
    </li>
  );
}

function JoinForm({
  target,
  confirms,
  paired,
  onJoined,
}: {
  target: string | null;
  confirms: boolean;
  /** The paired devices now: the check string of a join is shown only while it stays paired. */
  paired: PairedDevice[];
  onJoined: (text: string) => void;
}) {
  const { client } = useApp();
  const [device, setDevice] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [joined, setJoined] = useState<PairedView | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await client.request<PairedView>("POST", "/__devices__/join", {
        body: { device: (target ?? device).trim(), code: normalizeCode(code) },
      });
      setCode("");
      if (confirms) onJoined(`The code worked. Compare the check string with “${res.data.name}” above.`);
      else {
        setJoined(res.data);
        onJoined(`Paired with “${res.data.name}”.`);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="join" onSubmit={submit}>
      <div class="inline">
        {target === null && (
          <label>
            Device
            <input name="device" value={device} placeholder="id, name or 192.168.1.20:41234" required onInput={(e) => setDevice(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Code
          <input
            name="code"
            value={code}
            inputMode="numeric"
            autoComplete="off"
            placeholder="1234-5678"
            required
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </label>
        <button class="primary" type="submit" disabled={busy || !isCompleteCode(code)}>
          {busy ? "Pairing…" : "Pair"}
        </button>
      </div>
      <ErrorBox error={error} />
      {error instanceof ApiError && error.status === 400 && /wrong pairing code/i.test(error.message) && (
        <p class="muted small">Each wrong code uses one of the five attempts; check the digits on the other screen.</p>
      )}
      {joined && paired.some((d) => d.id === joined.device) && <LastPaired paired={joined} />}
    </form>
  );
}

function Activity({ events }: { events: DeviceEvent[] }) {
  const shown = events
    .map((e) => ({ e, text: describeEvent(e) }))
    .filter((x) => x.text !== null)
    .slice(-EVENTS_SHOWN)
    .reverse();
  if (shown.length === 0) return null;
  return (
    <>
      <h2>Recent activity</h2>
      <ul class="activity small">
        {shown.map(({ e, text }) => (
          <li key={e.serial}>
            <span class="muted">{formatDate(e.at)}</span> {text}
          </li>
        ))}
      </ul>
    </>
  );
}
