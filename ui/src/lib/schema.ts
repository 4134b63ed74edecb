// Form fields from a collection's JSON schema: one field per top-level property, with a widget
// chosen from its type; values converted between the form's text and the record's JSON.

export type Widget = "text" | "textarea" | "number" | "integer" | "checkbox" | "select" | "list" | "json";

export interface FieldSpec {
  name: string;
  label: string;
  description?: string;
  widget: Widget;
  required: boolean;
  options?: unknown[];
}

type Schema = Record<string, any>;

function widgetOf(prop: Schema): Widget {
  if (Array.isArray(prop.enum)) return "select";
  const type = Array.isArray(prop.type) ? prop.type.find((t: string) => t !== "null") : prop.type;
  switch (type) {
    case "string":
      return prop.maxLength && prop.maxLength <= 200 ? "text" : prop.format === "textarea" || prop["ui:widget"] === "textarea" ? "textarea" : "text";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "checkbox";
    case "array":
      return prop.items && ["string", "number", "integer"].includes(prop.items.type) ? "list" : "json";
    default:
      return "json";
  }
}

/** The fields of a schema; empty when it does not describe an object with properties. */
export function fieldsOf(schema: Schema | undefined | null): FieldSpec[] {
  if (!schema || typeof schema !== "object" || !schema.properties || typeof schema.properties !== "object") return [];
  const required: string[] = Array.isArray(schema.required) ? schema.required : [];
  return Object.entries(schema.properties as Record<string, Schema>)
    .filter(([name]) => name !== "id" && name !== "last_modified")
    .map(([name, prop]) => ({
      name,
      label: typeof prop?.title === "string" ? prop.title : name,
      description: typeof prop?.description === "string" ? prop.description : undefined,
      widget: widgetOf(prop ?? {}),
      required: required.includes(name),
      options: Array.isArray(prop?.enum) ? prop.enum : undefined,
    }));
}

/** The text shown in a field's input for a record value. */
export function toInput(field: FieldSpec, value: unknown): string | boolean {
  if (field.widget === "checkbox") return value === true;
  if (value === undefined || value === null) return "";
  if (field.widget === "list" && Array.isArray(value)) return value.join(", ");
  if (field.widget === "json") return JSON.stringify(value, null, 2);
  if (field.widget === "select") return JSON.stringify(value);
  return String(value);
}

export class FieldError extends Error {
  constructor(public field: string, message: string) {
    super(message);
  }
}

/** The record value of a field's input; `undefined` leaves the field out. Throws FieldError. */
export function fromInput(field: FieldSpec, input: string | boolean, itemType?: string): unknown {
  if (field.widget === "checkbox") return input === true;
  const text = String(input);
  if (text.trim() === "") return undefined;
  switch (field.widget) {
    case "number":
    case "integer": {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new FieldError(field.name, `${field.label}: not a number`);
      if (field.widget === "integer" && !Number.isInteger(n)) throw new FieldError(field.name, `${field.label}: not an integer`);
      return n;
    }
    case "select":
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    case "list": {
      const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
      return itemType === "number" || itemType === "integer" ? items.map(Number) : items;
    }
    case "json":
      try {
        return JSON.parse(text);
      } catch {
        throw new FieldError(field.name, `${field.label}: not valid JSON`);
      }
    default:
      return text;
  }
}

/** Checks that a schema is something the server will accept as a collection schema. */
export function checkSchema(text: string): { schema: Schema | null; error: string | null } {
  if (text.trim() === "") return { schema: null, error: null };
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    return { schema: null, error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return { schema: null, error: "A schema must be a JSON object" };
  const s = schema as Schema;
  const types = ["string", "number", "integer", "boolean", "array", "object", "null"];
  const typeOk = (t: unknown) => typeof t === "string" ? types.includes(t) : Array.isArray(t) && t.every((x) => types.includes(x));
  if (s.type !== undefined && !typeOk(s.type)) return { schema: null, error: `"type" must be one of ${types.join(", ")}` };
  if (s.properties !== undefined) {
    if (typeof s.properties !== "object" || Array.isArray(s.properties)) return { schema: null, error: '"properties" must be an object' };
    for (const [name, prop] of Object.entries(s.properties as Record<string, Schema>)) {
      if (typeof prop !== "object" || prop === null) return { schema: null, error: `property "${name}" must be an object` };
      if (prop.type !== undefined && !typeOk(prop.type)) return { schema: null, error: `property "${name}": unknown type ${JSON.stringify(prop.type)}` };
    }
  }
  if (s.required !== undefined && !(Array.isArray(s.required) && s.required.every((r: unknown) => typeof r === "string")))
    return { schema: null, error: '"required" must be a list of property names' };
  return { schema: s, error: null };
}
