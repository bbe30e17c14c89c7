import { describe, expect, it } from "vitest";
import { CONTRACT_ERROR_CODES, ContractError, isContractError } from "./errors.js";

describe("ContractError", () => {
  it("takes retriable from the one table", () => {
    for (const [code, { retriable }] of Object.entries(CONTRACT_ERROR_CODES)) {
      const error = new ContractError(code as keyof typeof CONTRACT_ERROR_CODES, "x");
      expect(error.retriable).toBe(retriable);
      expect(error.code).toBe(code);
    }
  });

  it("only REGISTRY_UNAVAILABLE is retriable", () => {
    const retriable = Object.entries(CONTRACT_ERROR_CODES)
      .filter(([, v]) => v.retriable)
      .map(([k]) => k);
    expect(retriable).toEqual(["REGISTRY_UNAVAILABLE"]);
  });

  it("keeps the cause and the violations", () => {
    const cause = new Error("low level");
    const error = new ContractError("VALIDATION_FAILED", "bad", {
      cause,
      violations: [{ path: "a", message: "expected string" }],
    });
    expect(error.cause).toBe(cause);
    expect(error.violations).toEqual([{ path: "a", message: "expected string" }]);
    expect(isContractError(error, "VALIDATION_FAILED")).toBe(true);
    expect(isContractError(error, "DECODE_FAILED")).toBe(false);
    expect(error.name).toBe("ContractError");
  });
});
