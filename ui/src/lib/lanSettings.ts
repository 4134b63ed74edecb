// The LAN settings form's logic (`GET/PATCH /__devices__/settings`): the form's fields from the
// server's view, which fields changed (only those are sent), port and address checks, and the
// interfaces to offer (the machine's, plus chosen ones that are not plugged in now).

export interface MachineInterface {
  name: string;
  addresses: string[];
  loopback: boolean;
}

export interface LanSettingsView {
  lan_sharing: boolean;
  device_name: string | null;
  effective_device_name: string;
  lan_interfaces: string[];
  lan_address: string;
  lan_port: number;
  /** Keys an environment variable sets, with the variable's name. */
  pinned: Record<string, string>;
  listening: string | null;
  interfaces: MachineInterface[];
}

export interface LanForm {
  sharing: boolean;
  name: string;
  address: string;
  port: string;
  interfaces: string[];
}

export const formOf = (view: LanSettingsView): LanForm => ({
  sharing: view.lan_sharing,
  name: view.device_name ?? "",
  address: view.lan_address,
  port: String(view.lan_port),
  interfaces: [...view.lan_interfaces],
});

/** The port as a number, or an explanation. */
export function parsePort(text: string): number | string {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return "The port is a number from 0 to 65535 (0 picks a free one).";
  const port = Number(trimmed);
  return port <= 65535 ? port : "The port is a number from 0 to 65535 (0 picks a free one).";
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Whether the text looks like an IPv4 or IPv6 address (the server checks for real). */
export const looksLikeAddress = (text: string): boolean =>
  IPV4.test(text.trim()) || (/^[0-9a-fA-F:.]+$/.test(text.trim()) && text.includes(":"));

/** Problems the form can see before asking the server, by setting name. */
export function formProblems(form: LanForm): Record<string, string> {
  const problems: Record<string, string> = {};
  const port = parsePort(form.port);
  if (typeof port === "string") problems.lan_port = port;
  if (!looksLikeAddress(form.address)) problems.lan_address = "An IP address, e.g. 0.0.0.0 for every network.";
  if (new TextEncoder().encode(form.name.trim()).length > 63) problems.device_name = "At most 63 bytes.";
  return problems;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The PATCH body: only what differs from the view (empty when nothing changed). */
export function changes(view: LanSettingsView, form: LanForm): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (form.sharing !== view.lan_sharing) body.lan_sharing = form.sharing;
  if (form.name.trim() !== (view.device_name ?? "")) body.device_name = form.name.trim();
  if (form.address.trim() !== view.lan_address) body.lan_address = form.address.trim();
  const port = parsePort(form.port);
  if (typeof port === "number" && port !== view.lan_port) body.lan_port = port;
  if (!sameList(form.interfaces, view.lan_interfaces)) body.lan_interfaces = form.interfaces;
  return body;
}

/** The interfaces to offer: the machine's non-loopback ones, then chosen names not present now. */
export function interfaceChoices(view: LanSettingsView, chosen: string[]): (MachineInterface & { present: boolean })[] {
  const present = view.interfaces.filter((i) => !i.loopback).map((i) => ({ ...i, present: true }));
  const missing = chosen
    .filter((name) => !view.interfaces.some((i) => i.name === name))
    .map((name) => ({ name, addresses: [], loopback: false, present: false }));
  const loopbackChosen = view.interfaces
    .filter((i) => i.loopback && chosen.includes(i.name))
    .map((i) => ({ ...i, present: true }));
  return [...present, ...loopbackChosen, ...missing];
}

/** Addresses the LAN port may listen on: every network, then each interface's addresses. */
export function addressChoices(view: LanSettingsView): { value: string; label: string }[] {
  const choices = [{ value: "0.0.0.0", label: "0.0.0.0 — every network (IPv4)" }];
  for (const i of view.interfaces) {
    if (i.loopback) continue;
    for (const address of i.addresses) choices.push({ value: address, label: `${address} — ${i.name} only` });
  }
  return choices;
}

/** One sentence on what saving will do. */
export function saveEffect(view: LanSettingsView, body: Record<string, unknown>): string {
  if (body.lan_sharing === false) return "LAN sharing stops: paired devices lose access until you turn it on again.";
  if (body.lan_sharing === true) return "LAN sharing starts: paired devices can reach what you share with them.";
  if (view.lan_sharing && Object.keys(body).length > 0)
    return "The LAN side restarts with these settings; a pairing in progress is cancelled.";
  return "Saved for when LAN sharing is on.";
}
