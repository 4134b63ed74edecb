// The filter builder: rows of field / operator / value / value type, turned into Kinto's
// filter query parameters (lib/filters) and applied server-side.

import { useState } from "preact/hooks";
import { FilterError, OPERATORS, fromParams, toParams, type Filter, type Operator, type ValueType } from "../lib/filters";

const TYPES: ValueType[] = ["auto", "string", "number", "boolean", "null"];

export function FilterBuilder({ params, fields, onApply }: { params: [string, string][]; fields: string[]; onApply: (params: [string, string][]) => void }) {
  const [rows, setRows] = useState<Filter[]>(() => fromParams(params));
  const [error, setError] = useState<string | null>(null);
  const update = (i: number, patch: Partial<Filter>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const apply = () => {
    try {
      setError(null);
      onApply(toParams(rows));
    } catch (e) {
      if (e instanceof FilterError || e instanceof SyntaxError) setError(e.message);
      else throw e;
    }
  };
  const known = [...new Set(["id", "last_modified", ...fields])];
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <datalist id="filter-fields">
        {known.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      {rows.map((row, i) => (
        <div class="filter-row" key={i}>
          <input aria-label="Field" name={`filter-field-${i}`} list="filter-fields" placeholder="field" value={row.field} onInput={(e) => update(i, { field: e.currentTarget.value })} />
          <select aria-label="Operator" name={`filter-op-${i}`} value={row.op} onChange={(e) => update(i, { op: e.currentTarget.value as Operator })}>
            {OPERATORS.map((o) => (
              <option key={o.op} value={o.op}>
                {o.label}
              </option>
            ))}
          </select>
          <input
            aria-label="Value"
            name={`filter-value-${i}`}
            placeholder={OPERATORS.find((o) => o.op === row.op)?.list ? "a, b, c" : row.op === "has" ? "true / false" : "value"}
            value={row.value}
            onInput={(e) => update(i, { value: e.currentTarget.value })}
          />
          <select aria-label="Value type" name={`filter-type-${i}`} value={row.type} onChange={(e) => update(i, { type: e.currentTarget.value as ValueType })}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <button type="button" class="link" aria-label="Remove filter" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <div class="filter-actions">
        <button type="button" onClick={() => setRows([...rows, { field: "", op: "eq", value: "", type: "auto" }])}>
          + Add filter
        </button>
        {rows.length > 0 && <button type="submit" class="primary">Apply filters</button>}
        {params.length > 0 && (
          <button
            type="button"
            onClick={() => {
              setRows([]);
              onApply([]);
            }}
          >
            Clear filters
          </button>
        )}
      </div>
    </form>
  );
}
