// "Share with devices" on a collection page, for the owner: each paired device with what it may
// do here (not shared, read-only, read and write), set through `/__devices__/{id}/shares`. Grants
// through the bucket or a group show as such (change them in Permissions). Not shown to users
// who are not the owner (they cannot read `/__devices__`).

import { useEffect, useState } from "preact/hooks";
import { useApp } from "../context";
import { groupId, shortId, type DevicesOverview, type PairedDevice } from "../lib/devices";
import { accessLabel, shareChanges, standing, type Access, type Share, type Standing } from "../lib/shares";
import { ErrorBox, Modal, Spinner } from "./ui";

interface Row {
  device: PairedDevice;
  standing: Standing;
}

const sharesPath = (id: string) => `/__devices__/${encodeURIComponent(id)}/shares`;

export function ShareButton({ bid, cid }: { bid: string; cid: string }) {
  const { client } = useApp();
  const [owner, setOwner] = useState(false);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    client.get<DevicesOverview>("/__devices__").then(
      () => setOwner(true),
      () => setOwner(false),
    );
  }, [client]);
  if (!owner) return null;
  return (
    <>
      <button class="share-button" onClick={() => setOpen(true)}>
        Share with devices
      </button>
      {open && <ShareDialog bid={bid} cid={cid} onClose={() => setOpen(false)} />}
    </>
  );
}

function ShareDialog({ bid, cid, onClose }: { bid: string; cid: string; onClose: () => void }) {
  const { client } = useApp();
  const [rows, setRows] = useState<Row[] | null>(null);
  const [chosen, setChosen] = useState<Record<string, Access | null>>({});
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = async () => {
    setError(null);
    try {
      const overview = (await client.get<DevicesOverview>("/__devices__")).data;
      const loaded = await Promise.all(
        overview.paired.map(async (device) => {
          const shares = (await client.get<{ shares: Share[] }>(sharesPath(device.id))).data.shares;
          return { device, standing: standing(shares, bid, cid) };
        }),
      );
      setRows(loaded);
      setChosen(Object.fromEntries(loaded.map((row) => [row.device.id, row.standing.own])));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, [bid, cid]);

  const before = Object.fromEntries((rows ?? []).map((row) => [row.device.id, row.standing.own]));
  const changes = shareChanges(before, chosen);
  const save = async () => {
    setError(null);
    let applied = 0;
    try {
      for (const change of changes) {
        const name = rows?.find((row) => row.device.id === change.device)?.device.name ?? change.device;
        setSaving(`Saving ${applied + 1} of ${changes.length}: ${name}…`);
        const path = `${sharesPath(change.device)}/${encodeURIComponent(bid)}/${encodeURIComponent(cid)}`;
        if (change.access) await client.request("PUT", path, { body: { access: change.access } });
        else await client.request("DELETE", path);
        applied += 1;
      }
      setDone(`Saved: ${changes.length} device${changes.length === 1 ? "" : "s"} changed.`);
      await load();
    } catch (e) {
      setError(e);
      await load();
    } finally {
      setSaving(null);
    }
  };

  return (
    <Modal title={`Share ${bid}/${cid} with devices`} onClose={onClose}>
      <p class="muted small">
        A device you share with keeps a copy of this collection that syncs with this one; read-only devices never
        send changes back. It reaches this vault only over the LAN, with its paired key.
      </p>
      {!rows && !error && <Spinner />}
      {rows && rows.length === 0 && (
        <p class="no-devices">
          No device is paired yet. <a href="#/devices" onClick={onClose}>Pair one on the Devices page</a>, then come back.
        </p>
      )}
      {rows && rows.length > 0 && (
        <table class="share-table">
          <thead>
            <tr>
              <th>Device</th>
              <th>Access here</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ device, standing }) => (
              <tr key={device.id} data-device={device.id}>
                <td>
                  <strong>{device.name}</strong>{" "}
                  <code class="muted small" title={groupId(device.display_id ?? device.id)}>
                    {shortId(device.display_id ?? device.id)}
                  </code>
                  {standing.inherited && <div class="muted small inherited">Also {standing.inherited}</div>}
                </td>
                <td>
                  <select
                    name={`access-${device.id}`}
                    aria-label={`Access for ${device.name}`}
                    value={chosen[device.id] ?? ""}
                    disabled={!!saving}
                    onChange={(e) => {
                      const value = e.currentTarget.value;
                      setDone(null);
                      setChosen({ ...chosen, [device.id]: value === "" ? null : (value as Access) });
                    }}
                  >
                    {([null, "read", "write"] as (Access | null)[]).map((access) => (
                      <option key={access ?? "none"} value={access ?? ""}>
                        {accessLabel(access)}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorBox error={error} onRetry={load} />
      {saving && (
        <p role="status" class="muted">
          {saving}
        </p>
      )}
      {done && (
        <div class="ok" role="status">
          {done}
        </div>
      )}
      <div class="actions">
        <button onClick={onClose}>Close</button>
        <button class="primary" disabled={changes.length === 0 || !!saving} onClick={save}>
          Save sharing
        </button>
      </div>
    </Modal>
  );
}
