import { ContractError, type RegistrySerde } from "@kronos/contracts";
import { describe, expect, it } from "vitest";
import type { Envelope } from "./envelope.js";
import { RouteRunner, type RouteRunner as Runner, type RunnerDeps } from "./runner.js";

const envelope = (): Envelope => ({
  value: Buffer.from([0, 0, 0, 0, 1, 2]),
  key: null,
  headers: new Map(),
  timestampMs: undefined,
  routingKey: undefined,
});

/** A runner whose serde fails every decode with `error`; the metrics and logger do nothing. */
function runnerFailingWith(error: Error): Runner {
  const counter = { inc: () => undefined, dec: () => undefined };
  const deps = {
    route: { id: "r", from: { broker: "kafka", topic: "a" }, to: { broker: "rabbitmq", exchange: "b" }, events: [] },
    serde: { decodeAny: async () => Promise.reject(error) } as unknown as RegistrySerde,
    metrics: { inFlight: counter, looped: counter, deadLettered: counter },
    log: { debug: () => undefined, warn: () => undefined, error: () => undefined },
    hopLimit: 4,
  } as unknown as RunnerDeps;
  return new RouteRunner(deps);
}

describe("a registry the relay cannot use", () => {
  it.each(["REGISTRY_UNAUTHORIZED", "REGISTRY_TLS_FAILED", "REGISTRY_UNAVAILABLE"] as const)(
    "%s holds the message for a retry and never dead-letters it",
    async (code) => {
      const deadLettered: unknown[] = [];
      const outcome = await runnerFailingWith(new ContractError(code, `registry says ${code}`)).handle(
        envelope(),
        async (...args) => {
          deadLettered.push(args);
        },
      );
      expect(outcome).toEqual({ retry: `registry: registry says ${code}` });
      expect(deadLettered).toEqual([]);
    },
  );

  it("a message the registry has no schema for is still dead-lettered", async () => {
    const deadLettered: unknown[] = [];
    const outcome = await runnerFailingWith(new ContractError("SCHEMA_ID_NOT_FOUND", "unknown id")).handle(
      envelope(),
      async (...args) => {
        deadLettered.push(args);
      },
    );
    expect(outcome).toBe("dead-lettered");
    expect(deadLettered).toHaveLength(1);
  });
});
