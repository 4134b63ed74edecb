// Household devices (`/__devices__`): the shapes the server sends, and the words the Devices page
// uses for ids, pairing codes, check strings, countdowns, presence and revocation outcomes.

export interface ThisDevice {
  id: string;
  display_id: string;
  principal: string;
  /** Null while LAN sharing is off. */
  name: string | null;
  address: string | null;
}

export interface PairedDevice {
  id: string;
  display_id: string | null;
  principal: string | null;
  name: string;
  address: string;
  /** Milliseconds since the epoch. */
  paired_at: number;
  connections: number;
  nearby: boolean;
}

export interface NearbyDevice {
  id: string;
  name: string;
  addresses: string[];
  data_port: number;
  /** Set while that device shows a pairing code. */
  pairing_port: number | null;
  seen_at: number;
  paired: boolean;
}

/** A peer whose code exchange succeeded, waiting for the owner to compare check strings. */
export interface PendingPeer {
  device: string;
  display_id: string;
  name: string;
  sas: string;
  expires_at: number;
}

export interface DevicesOverview {
  lan_sharing: boolean;
  this: ThisDevice;
  paired: PairedDevice[];
  nearby: NearbyDevice[];
  /** Absent on servers without the confirmation step. */
  pending?: PendingPeer[];
}

export interface PairedView {
  device: string;
  display_id: string;
  name: string;
  sas: string;
}

export type PairingState = "live" | "used" | "burned" | "expired" | "none";

export interface PairingView {
  state: PairingState | string;
  code: string | null;
  expires_in_seconds: number;
  attempts_left: number;
  pairing_port: number | null;
  qr_payload: string | null;
  last_paired: PairedView | null;
}

export interface RevocationReport {
  device: string;
  was_paired: boolean;
  acls: number;
  groups: number;
  connections_closed: number;
  notified: string[];
  not_notified: string[];
}

export interface DeviceEvent {
  serial: number;
  at: number;
  type: string;
  [key: string]: unknown;
}

/** How to turn LAN sharing on (the server's own 400 message says the same in short). */
export const LAN_SHARING_HINT =
  "Turn it on under LAN settings on this page (or start the server with KINTOUN_LAN_SHARING=1).";

/** A device id in groups of 7 (`ABCDEFG-HIJKLMN-…`), whatever dashes or spaces it came with. */
export function groupId(id: string): string {
  const plain = id.replace(/[\s-]/g, "").toUpperCase();
  return (plain.match(/.{1,7}/g) ?? []).join("-");
}

/** The first group of an id, for short mentions. */
export function shortId(id: string): string {
  return groupId(id).split("-")[0] ?? "";
}

/** A pairing code as typed (spaces, dashes, anything) → its digits. */
export function normalizeCode(input: string): string {
  return input.replace(/\D/g, "");
}

/** Whether a typed code has the 8 digits the server issues. */
export function isCompleteCode(input: string): boolean {
  return normalizeCode(input).length === 8;
}

/** A code as shown: `1234-5678` (shorter input stays as is). */
export function formatCode(code: string): string {
  const digits = normalizeCode(code);
  return digits.length === 8 ? `${digits.slice(0, 4)}-${digits.slice(4)}` : code;
}

/** A check string in groups of three digits (`123 456`, as the server sends it), easier to compare aloud. */
export function formatSas(sas: string): string {
  const digits = sas.replace(/\s/g, "");
  return /^\d{6}$/.test(digits) ? `${digits.slice(0, 3)} ${digits.slice(3)}` : sas;
}

/** Seconds as `m:ss` (never negative). */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Seconds left of a countdown that had `seconds` left at `fetchedAt` (ms), at `now` (ms). */
export function remainingSeconds(seconds: number, fetchedAt: number, now: number): number {
  return Math.max(0, Math.ceil(seconds - (now - fetchedAt) / 1000));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What the code panel says about the code, by its state. */
export function pairingStateText(view: Pick<PairingView, "state" | "attempts_left">): string {
  switch (view.state) {
    case "live":
      return `Waiting for the other device: ${plural(view.attempts_left, "attempt")} left.`;
    case "used":
      return "The code was used: the other device paired with this one.";
    case "burned":
      return "Too many wrong codes were tried: this code no longer works. Show a new one.";
    case "expired":
      return "The code expired. Show a new one.";
    case "none":
      return "No code is being shown.";
    default:
      return `The code is ${view.state}.`;
  }
}

/** A paired device's presence in a few words. */
export function presenceText(device: Pick<PairedDevice, "connections" | "nearby">): string {
  if (device.connections > 0) return `online, ${plural(device.connections, "open connection")}`;
  if (device.nearby) return "nearby (no open connection)";
  return "not seen on this network";
}

/** What revoking did, in one sentence. */
export function revocationSummary(name: string, report: RevocationReport): string {
  const parts = [
    `Revoked “${name}”: removed from ${plural(report.acls, "permission list")} and ${plural(report.groups, "group")}`,
  ];
  parts.push(`${plural(report.connections_closed, "connection")} closed`);
  const told = report.notified.length;
  const missed = report.not_notified.length;
  if (told + missed === 0) parts.push("no other device to notify");
  else if (missed === 0) parts.push(`${plural(told, "other device")} notified`);
  else parts.push(`${told} notified, ${missed} could not be reached (they learn it when they next connect)`);
  return `${parts.join(", ")}.`;
}

/** An event from `/__devices__/events` in plain words, or null for one not worth showing. */
export function describeEvent(event: DeviceEvent): string | null {
  const name = typeof event.name === "string" ? `“${event.name}”` : "a device";
  switch (event.type) {
    case "paired":
      return `Paired with ${name}.`;
    case "pairing_confirm":
      return `${name} entered the code: compare the check strings.`;
    case "pairing_failed": {
      const reason = typeof event.reason === "string" ? event.reason : "failed";
      const left = typeof event.attempts_left === "number" ? ` (${plural(event.attempts_left, "attempt")} left)` : "";
      return `A pairing attempt failed: ${reason}${left}.`;
    }
    case "revoked":
      return `Device ${shortId(String(event.device ?? ""))} was revoked.`;
    default:
      return null;
  }
}

/**
 * The nearby list with one entry per device: discovery can hear a device several times (one
 * answer per interface or address); keep its latest sighting, every address, and its pairing
 * port from the latest sighting that has one.
 */
export function mergeNearby(list: NearbyDevice[]): NearbyDevice[] {
  const byId = new Map<string, NearbyDevice>();
  for (const n of [...list].sort((a, b) => a.seen_at - b.seen_at)) {
    const known = byId.get(n.id);
    if (!known) {
      byId.set(n.id, { ...n, addresses: [...new Set(n.addresses)] });
      continue;
    }
    byId.set(n.id, {
      ...n,
      addresses: [...new Set([...known.addresses, ...n.addresses])],
      pairing_port: n.pairing_port ?? known.pairing_port,
      paired: n.paired || known.paired,
    });
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** Whether a join target is an `ip:port` (typed by hand when discovery cannot see the device). */
export function isAddressTarget(target: string): boolean {
  return /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(target.trim());
}
