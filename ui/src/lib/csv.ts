// CSV for import/export (RFC 4180: quotes, doubled quotes, CRLF or LF). Cells holding objects,
// arrays, numbers or booleans are written as JSON and read back as JSON when they parse.

const SPECIAL = /[",\r\n]/;

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return SPECIAL.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The columns of a set of records: id first, then every top-level field in first-seen order. */
export function columnsOf(records: Record<string, unknown>[]): string[] {
  const seen = new Set<string>(["id"]);
  for (const r of records) for (const k of Object.keys(r)) if (k !== "last_modified" && k !== "schema") seen.add(k);
  return [...seen];
}

export function toCsv(records: Record<string, unknown>[], columns = columnsOf(records)): string {
  const lines = [columns.map(cell).join(",")];
  for (const r of records) lines.push(columns.map((c) => cell(r[c])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** Parses CSV text into rows of cells. */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const src = text.startsWith("\ufeff") ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      if (ch === "\r" && src[i + 1] === "\n") i += 1;
    } else field += ch;
    i += 1;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** A cell's value: JSON when it parses as a number, boolean, null, array or object, else text. */
export function cellValue(text: string): unknown {
  const t = text.trim();
  if (t === "") return undefined;
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(t) || t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

/** CSV text (with a header row) into records; empty cells leave the field out. */
export function fromCsv(text: string): Record<string, unknown>[] {
  const rows = parseCsvRows(text);
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim());
  return rows.slice(1).map((cells) => {
    const record: Record<string, unknown> = {};
    header.forEach((name, i) => {
      if (!name) return;
      const v = cellValue(cells[i] ?? "");
      if (v === undefined) return;
      record[name] = name === "id" ? String(v) : v;
    });
    return record;
  });
}
