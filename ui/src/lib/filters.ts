// The filter builder's model: Kinto's filter operators, how a filter row turns into query
// parameters (with the value typed the way the server will parse it), and back.

export type Operator =
  | "eq" | "not" | "lt" | "max" | "gt" | "min"
  | "in" | "exclude" | "like" | "has" | "contains" | "contains_any";

/** How the value box is read: `auto` lets Kinto parse it (JSON when it parses, else text). */
export type ValueType = "auto" | "string" | "number" | "boolean" | "null";

export interface Filter {
  field: string;
  op: Operator;
  value: string;
  type: ValueType;
}

export interface OperatorInfo {
  op: Operator;
  label: string;
  /** Whether the value is a list (comma separated for in/exclude, a JSON array for contains). */
  list: boolean;
}

export const OPERATORS: OperatorInfo[] = [
  { op: "eq", label: "equals", list: false },
  { op: "not", label: "is not", list: false },
  { op: "like", label: "matches (* wildcard)", list: false },
  { op: "lt", label: "<", list: false },
  { op: "max", label: "≤", list: false },
  { op: "gt", label: ">", list: false },
  { op: "min", label: "≥", list: false },
  { op: "in", label: "is one of", list: true },
  { op: "exclude", label: "is none of", list: true },
  { op: "has", label: "is present", list: false },
  { op: "contains", label: "array contains all of", list: true },
  { op: "contains_any", label: "array contains any of", list: true },
];

const FIELD_RE = /^[\w.]+$/;
// Kinto tries prefixes in this order; `contains_any_` must win over `contains_`.
const PREFIX_ORDER: Operator[] = ["lt", "min", "max", "not", "eq", "gt", "in", "exclude", "like", "has", "contains_any", "contains"];

export class FilterError extends Error {}

/** Whether a string would parse as JSON (so Kinto would not take it as plain text). */
function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** One scalar, written so that Kinto reads it as the chosen type. */
export function encodeScalar(raw: string, type: ValueType, field = ""): string {
  const text = raw.trim();
  switch (type) {
    case "string":
      // Plain text is taken as a string unless it parses as JSON ("10", "true", "null", "[..").
      return parsesAsJson(raw) ? JSON.stringify(raw) : raw;
    case "number": {
      const n = Number(text);
      if (text === "" || !Number.isFinite(n)) throw new FilterError(`${field || "value"}: "${raw}" is not a number`);
      return String(n);
    }
    case "boolean":
      if (text !== "true" && text !== "false") throw new FilterError(`${field || "value"}: use true or false`);
      return text;
    case "null":
      return "null";
    default:
      return raw;
  }
}

/** Splits a list value box on commas (empty items dropped). */
export function splitList(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** The query parameter `[name, value]` of one filter; throws FilterError on invalid input. */
export function toParam(filter: Filter): [string, string] {
  const field = filter.field.trim();
  if (!FIELD_RE.test(field)) throw new FilterError(`"${field}" is not a field name (letters, digits, _ and . only)`);
  const name = filter.op === "eq" && !needsEqPrefix(field) ? field : `${filter.op}_${field}`;
  // `id` values are strings and `last_modified` integers on the server: type them accordingly.
  const type: ValueType = field === "id" && filter.type === "auto" ? "string" : field === "last_modified" ? "number" : filter.type;
  switch (filter.op) {
    case "has": {
      const v = filter.value.trim() || "true";
      if (v !== "true" && v !== "false") throw new FilterError(`${field}: "is present" takes true or false`);
      return [name, v];
    }
    case "like":
      if (filter.value === "") throw new FilterError(`${field}: a pattern is needed`);
      return [name, parsesAsJson(filter.value) ? JSON.stringify(filter.value) : filter.value];
    case "in":
    case "exclude": {
      const items = splitList(filter.value);
      if (items.length === 0) throw new FilterError(`${field}: give at least one value (comma separated)`);
      return [name, items.map((item) => encodeScalar(item, type, field)).join(",")];
    }
    case "contains":
    case "contains_any": {
      const items = splitList(filter.value).map((item) => JSON.parse(encodeJsonItem(item, type, field)));
      if (items.length === 0) throw new FilterError(`${field}: give at least one value (comma separated)`);
      return [name, JSON.stringify(items)];
    }
    default:
      return [name, encodeScalar(filter.value, type, field)];
  }
}

/** A list item as JSON text (contains_ values are a JSON array). */
function encodeJsonItem(item: string, type: ValueType, field: string): string {
  if (type === "string") return JSON.stringify(item);
  if (type === "auto") return parsesAsJson(item) ? item : JSON.stringify(item);
  return encodeScalar(item, type, field);
}

/** A field whose name starts like an operator prefix can only be equality-filtered with `eq_`. */
function needsEqPrefix(field: string): boolean {
  return PREFIX_ORDER.some((op) => field.startsWith(`${op}_`));
}

/** The query parameters of a list of filters (all AND-ed by the server). */
export function toParams(filters: Filter[]): [string, string][] {
  return filters.filter((f) => f.field.trim() !== "").map(toParam);
}

/** Reads query parameters back into filter rows (ignores `_`-prefixed reserved parameters). */
export function fromParams(params: [string, string][]): Filter[] {
  const out: Filter[] = [];
  for (const [name, value] of params) {
    if (name.startsWith("_")) continue;
    let op: Operator = "eq";
    let field = name;
    for (const candidate of PREFIX_ORDER) {
      if (name.startsWith(`${candidate}_`) && name.length > candidate.length + 1) {
        op = candidate;
        field = name.slice(candidate.length + 1);
        break;
      }
    }
    out.push(decodeValue(field, op, value));
  }
  return out;
}

function decodeValue(field: string, op: Operator, value: string): Filter {
  if (op === "contains" || op === "contains_any") {
    try {
      const parsed = JSON.parse(value);
      const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
      const allStrings = items.every((i) => typeof i === "string");
      return { field, op, value: items.map((i) => (typeof i === "string" ? i : JSON.stringify(i))).join(", "), type: allStrings ? "string" : "auto" };
    } catch {
      return { field, op, value, type: "auto" };
    }
  }
  if (op === "in" || op === "exclude" || op === "has" || op === "like") return { field, op, value, type: "auto" };
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      return { field, op, value: String(JSON.parse(value)), type: "string" };
    } catch {
      /* plain text */
    }
  }
  return { field, op, value, type: "auto" };
}

/** `_sort` value from a column and direction. */
export function sortParam(field: string, descending: boolean): string {
  return `${descending ? "-" : ""}${field}`;
}

/** Parses `_sort` (first key only) into the column and direction. */
export function parseSort(sort: string | undefined): { field: string; descending: boolean } | null {
  if (!sort) return null;
  const first = sort.split(",")[0].trim();
  if (!first) return null;
  const descending = first.startsWith("-");
  const field = first.replace(/^[-+]/, "");
  return FIELD_RE.test(field) ? { field, descending } : null;
}

/** Toggles a column's sort: unsorted → ascending → descending → ascending. */
export function nextSort(current: string | undefined, field: string): string {
  const parsed = parseSort(current);
  if (parsed && parsed.field === field) return sortParam(field, !parsed.descending);
  return sortParam(field, false);
}
