import { Type } from "typebox";
import { describe, expect, it } from "vitest";
import { typeBoxValidatorCompiler } from "./validation.js";

const compile = (schema: Parameters<typeof typeBoxValidatorCompiler>[0]["schema"], httpPart: string) =>
  typeBoxValidatorCompiler({ schema, httpPart, method: "GET", url: "/" }) as (value: unknown) => {
    value?: unknown;
    error?: unknown;
  };

describe("typeBoxValidatorCompiler", () => {
  const Query = Type.Object({ limit: Type.Number(), verbose: Type.Optional(Type.Boolean()), name: Type.String() });

  it("hands a valid params/querystring/headers value through untouched (same object)", () => {
    const validate = compile(Query, "querystring");
    const value = { limit: 5, name: "a" };
    expect(validate(value).value).toBe(value);
  });

  it("converts strings where the schema wants numbers or booleans, like the type provider's compiler", () => {
    const validate = compile(Query, "querystring");
    expect(validate({ limit: "5", verbose: "true", name: "a" })).toEqual({
      value: { limit: 5, verbose: true, name: "a" },
    });
  });

  it("returns TypeBox's errors when even the converted value fails", () => {
    const validate = compile(Query, "params");
    const result = validate({ limit: "five", name: "a" });
    expect(result.value).toBeUndefined();
    expect(Array.isArray(result.error) && result.error.length > 0).toBe(true);
  });

  it("never converts a body: JSON has its own types", () => {
    const validate = compile(Type.Object({ limit: Type.Number() }), "body");
    expect(validate({ limit: 5 })).toEqual({ value: { limit: 5 } });
    expect(validate({ limit: "5" }).error).toBeDefined();
  });
});
