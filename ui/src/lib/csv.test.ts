import { describe, expect, it } from "vitest";
import { fromCsv, parseCsvRows, toCsv } from "./csv";
import { diff } from "./diff";
import { checkSchema, fieldsOf, fromInput } from "./schema";

describe("csv", () => {
  it("round-trips quotes, commas, newlines and JSON cells", () => {
    const records = [
      { id: "a", name: 'Say "hi", then\nleave', n: 2, tags: ["x"], ok: true },
      { id: "007", name: "plain" },
    ];
    const text = toCsv(records);
    expect(text.split("\r\n")[0]).toBe("id,name,n,tags,ok");
    expect(fromCsv(text)).toEqual(records);
    expect(parseCsvRows('a,b\r\n1,"2\r\n3"\n')).toEqual([["a", "b"], ["1", "2\r\n3"]]);
  });
});

describe("diff", () => {
  it("lists changed, added and removed paths, ignoring timestamps", () => {
    expect(diff({ a: 1, b: { c: 1 }, last_modified: 1 }, { a: 2, b: { c: 1, d: 2 }, last_modified: 2 })).toEqual([
      { path: "a", kind: "changed", before: 1, after: 2 },
      { path: "b.d", kind: "added", after: 2 },
    ]);
    expect(diff({ a: 1 }, {})).toEqual([{ path: "a", kind: "removed", before: 1 }]);
  });
});

describe("schema form", () => {
  it("derives fields and converts values", () => {
    const fields = fieldsOf({ type: "object", properties: { t: { type: "string", title: "T" }, n: { type: "integer" }, tags: { type: "array", items: { type: "string" } }, c: { enum: ["x", 1] } }, required: ["t"] });
    expect(fields.map((f) => [f.name, f.widget, f.required])).toEqual([["t", "text", true], ["n", "integer", false], ["tags", "list", false], ["c", "select", false]]);
    expect(fromInput(fields[1], "42")).toBe(42);
    expect(() => fromInput(fields[1], "4.2")).toThrow();
    expect(fromInput(fields[2], "a, b")).toEqual(["a", "b"]);
    expect(fromInput(fields[3], "1")).toBe(1);
    expect(fromInput(fields[0], "")).toBeUndefined();
    expect(checkSchema('{"type": "objekt"}').error).toMatch(/type/);
    expect(checkSchema("{nope").error).toMatch(/JSON/);
    expect(checkSchema('{"type": "object", "required": "a"}').error).toMatch(/required/);
    expect(checkSchema('{"type": "object"}').schema).toEqual({ type: "object" });
  });
});
