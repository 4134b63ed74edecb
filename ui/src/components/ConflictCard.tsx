// One conflict of the inbox as a three-way view: the common ancestor (when known), mine (this
// device) and theirs (the remote), field by field, differences highlighted, a deleted side shown
// as "deleted". Actions: keep mine, keep theirs, or merge (pick a side per differing field).

import { useState } from "preact/hooks";
import { preview } from "../lib/diff";
import { canMerge, conflictRows, defaultPick, mergeFields, type Conflict, type FieldRow, type Side } from "../lib/sync";
import { ErrorBox, formatDate } from "./ui";

export type Resolution = { resolution: "mine" | "theirs" } | { resolution: "merge"; data: Record<string, unknown> };

function Cell({ present, value, deleted, changed }: { present: boolean; value: unknown; deleted: boolean; changed: boolean }) {
  if (deleted) return <td class="deleted">deleted</td>;
  if (!present) return <td class={`absent${changed ? " changed" : ""}`}>—</td>;
  return (
    <td class={changed ? "changed" : undefined}>
      <code>{preview(value, 120)}</code>
    </td>
  );
}

function Row({ row, conflict, merging, pick, onPick }: { row: FieldRow; conflict: Conflict; merging: boolean; pick: Side; onPick: (side: Side) => void }) {
  const hasBase = conflict.base !== undefined;
  const mineChanged = row.changedBy === "mine" || row.changedBy === "both";
  const theirsChanged = row.changedBy === "theirs" || row.changedBy === "both";
  return (
    <tr class={row.differs ? "differs" : undefined} data-field={row.field}>
      <th scope="row">{row.field}</th>
      {hasBase && <Cell present={row.inBase} value={row.base} deleted={conflict.base === null} changed={false} />}
      <Cell present={row.inMine} value={row.mine} deleted={conflict.mine === null} changed={mineChanged} />
      <Cell present={row.inTheirs} value={row.theirs} deleted={conflict.theirs === null} changed={theirsChanged} />
      {merging && (
        <td class="pick">
          {row.differs ? (
            (["mine", "theirs"] as Side[]).map((side) => (
              <label class="check" key={side}>
                <input type="radio" name={`pick-${conflict.record_id}-${row.field}`} value={side} checked={pick === side} onChange={() => onPick(side)} />
                {side}
              </label>
            ))
          ) : (
            <span class="muted small">same</span>
          )}
        </td>
      )}
    </tr>
  );
}

export function ConflictCard({ conflict, onResolve }: { conflict: Conflict; onResolve: (r: Resolution) => Promise<void> }) {
  const rows = conflictRows(conflict);
  const [merging, setMerging] = useState(false);
  const [picks, setPicks] = useState<Record<string, Side>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const hasBase = conflict.base !== undefined;
  const act = async (r: Resolution) => {
    setBusy(true);
    setError(null);
    try {
      await onResolve(r);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <li class="entry conflict" data-record={conflict.record_id}>
      <div class="entry-head">
        <strong>
          Record <code>{conflict.record_id}</code>
        </strong>
        <span class="muted small">changed on both sides · found {formatDate(conflict.detected_at)}</span>
      </div>
      {conflict.mine === null && <p class="warning">Deleted on this device, changed on the other side.</p>}
      {conflict.theirs === null && <p class="warning">Deleted on the other side, changed on this device.</p>}
      <div class="table-wrap">
        <table class="three-way">
          <thead>
            <tr>
              <th>Field</th>
              {hasBase && <th>Before (common)</th>}
              <th>Mine (this device)</th>
              <th>Theirs (remote)</th>
              {merging && <th>Keep</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <Row key={row.field} row={row} conflict={conflict} merging={merging} pick={picks[row.field] ?? defaultPick(row)} onPick={(side) => setPicks({ ...picks, [row.field]: side })} />
            ))}
          </tbody>
        </table>
      </div>
      <ErrorBox error={error} />
      <div class="actions">
        {merging ? (
          <>
            <button onClick={() => setMerging(false)} disabled={busy}>
              Cancel merge
            </button>
            <button class="primary save-merge" disabled={busy} onClick={() => act({ resolution: "merge", data: mergeFields(rows, picks) })}>
              Save merge
            </button>
          </>
        ) : (
          <>
            <button class="keep-mine" disabled={busy} onClick={() => act({ resolution: "mine" })}>
              Keep mine
            </button>
            <button class="keep-theirs" disabled={busy} onClick={() => act({ resolution: "theirs" })}>
              Keep theirs
            </button>
            {canMerge(conflict) && (
              <button class="merge" disabled={busy} onClick={() => setMerging(true)}>
                Merge…
              </button>
            )}
          </>
        )}
      </div>
    </li>
  );
}
