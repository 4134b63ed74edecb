import { describe, expect, it } from "vitest";
import { FilterError, fromParams, nextSort, parseSort, toParam, toParams, type Filter } from "./filters";

const f = (field: string, op: Filter["op"], value: string, type: Filter["type"] = "auto"): Filter => ({ field, op, value, type });

describe("filter builder → Kinto query parameters", () => {
  it("uses the bare field for equality and op_ prefixes otherwise", () => {
    expect(toParam(f("title", "eq", "Dune"))).toEqual(["title", "Dune"]);
    expect(toParam(f("year", "min", "1900"))).toEqual(["min_year", "1900"]);
    expect(toParam(f("year", "lt", "2000"))).toEqual(["lt_year", "2000"]);
    expect(toParam(f("author.name", "not", "Ben"))).toEqual(["not_author.name", "Ben"]);
  });

  it("needs eq_ for fields that look like an operator prefix", () => {
    expect(toParam(f("in_stock", "eq", "true"))).toEqual(["eq_in_stock", "true"]);
    expect(toParam(f("has_cover", "eq", "1"))).toEqual(["eq_has_cover", "1"]);
  });

  it("types values the way the server parses them", () => {
    // auto: Kinto's own parsing (JSON when it parses).
    expect(toParam(f("n", "eq", "3"))).toEqual(["n", "3"]);
    // string: numeric-looking or JSON-looking text is quoted so it stays a string.
    expect(toParam(f("n", "eq", "3", "string"))).toEqual(["n", '"3"']);
    expect(toParam(f("s", "eq", "true", "string"))).toEqual(["s", '"true"']);
    expect(toParam(f("s", "eq", "plain", "string"))).toEqual(["s", "plain"]);
    expect(toParam(f("n", "eq", " 4.50 ", "number"))).toEqual(["n", "4.5"]);
    expect(toParam(f("b", "eq", "false", "boolean"))).toEqual(["b", "false"]);
    expect(toParam(f("x", "eq", "whatever", "null"))).toEqual(["x", "null"]);
    expect(() => toParam(f("n", "eq", "abc", "number"))).toThrow(FilterError);
    expect(() => toParam(f("b", "eq", "yes", "boolean"))).toThrow(FilterError);
  });

  it("keeps ids strings and last_modified numbers", () => {
    expect(toParam(f("id", "eq", "10"))).toEqual(["id", '"10"']);
    expect(toParam(f("id", "in", "a, 10"))).toEqual(["in_id", 'a,"10"']);
    expect(toParam(f("last_modified", "gt", "1700000000000"))).toEqual(["gt_last_modified", "1700000000000"]);
    expect(() => toParam(f("last_modified", "gt", "yesterday"))).toThrow(FilterError);
  });

  it("writes in_/exclude_ as comma lists and contains_ as JSON arrays", () => {
    expect(toParam(f("tag", "in", "a, b,,c"))).toEqual(["in_tag", "a,b,c"]);
    expect(toParam(f("n", "exclude", "1, 2", "string"))).toEqual(["exclude_n", '"1","2"']);
    expect(toParam(f("tags", "contains", "sf, 3"))).toEqual(["contains_tags", '["sf",3]']);
    expect(toParam(f("tags", "contains_any", "sf, 3", "string"))).toEqual(["contains_any_tags", '["sf","3"]']);
    expect(() => toParam(f("tag", "in", " , "))).toThrow(FilterError);
  });

  it("handles has_ and like_", () => {
    expect(toParam(f("cover", "has", ""))).toEqual(["has_cover", "true"]);
    expect(toParam(f("cover", "has", "false"))).toEqual(["has_cover", "false"]);
    expect(() => toParam(f("cover", "has", "maybe"))).toThrow(FilterError);
    expect(toParam(f("title", "like", "du*"))).toEqual(["like_title", "du*"]);
    // A numeric pattern must stay a string for the server (like_n=1 is a 400).
    expect(toParam(f("code", "like", "12"))).toEqual(["like_code", '"12"']);
    expect(() => toParam(f("title", "like", ""))).toThrow(FilterError);
  });

  it("refuses field names the server would not take", () => {
    expect(() => toParam(f("a b", "eq", "x"))).toThrow(FilterError);
    expect(() => toParam(f("a&b=c", "eq", "x"))).toThrow(FilterError);
  });

  it("skips empty rows and reads parameters back", () => {
    const rows = [f("year", "min", "1900"), f("", "eq", "ignored"), f("n", "eq", "3", "string"), f("tags", "contains_any", "a, b")];
    const params = toParams(rows);
    expect(params).toEqual([["min_year", "1900"], ["n", '"3"'], ["contains_any_tags", '["a","b"]']]);
    const back = fromParams([...params, ["_sort", "-year"], ["_limit", "20"]]);
    expect(back).toEqual([f("year", "min", "1900"), f("n", "eq", "3", "string"), f("tags", "contains_any", "a, b", "string")]);
    expect(toParams(back)).toEqual(params);
    // contains_any_ wins over contains_ (Kinto's prefix order).
    expect(fromParams([["contains_any_x", "[1]"]])[0].op).toBe("contains_any");
    expect(fromParams([["eq_in_stock", "true"]])[0]).toEqual(f("in_stock", "eq", "true"));
  });
});

describe("sorting", () => {
  it("parses and toggles _sort", () => {
    expect(parseSort("-year,title")).toEqual({ field: "year", descending: true });
    expect(parseSort("+title")).toEqual({ field: "title", descending: false });
    expect(parseSort("")).toBeNull();
    expect(nextSort("-last_modified", "year")).toBe("year");
    expect(nextSort("year", "year")).toBe("-year");
    expect(nextSort("-year", "year")).toBe("year");
  });
});
