import { describe, expect, it } from "vitest";
import { createAvroType } from "./avro.js";
import { defineEvent } from "./event.js";
import { checkAgainstRegistry } from "./registry-check.js";
import type { ConfluentRegistryClient } from "./registry-client.js";

const installed = defineEvent({
  name: "kronos.test.Thing",
  schema: { type: "record", name: "Thing", namespace: "kronos.test", fields: [{ name: "a", type: "int" }] },
  source: "test",
});

/** A registry whose latest version of every subject is `writer` (a unit test of the decision, not of HTTP). */
function registryWith(writer: object | undefined): ConfluentRegistryClient {
  return {
    url: "http://registry.test",
    latestVersion: async () => (writer === undefined ? undefined : { version: 3, id: 42 }),
    getWriterType: async () => (writer === undefined ? undefined : createAvroType(writer)),
  } as unknown as ConfluentRegistryClient;
}

const pkg = {
  name: "@kronos/events-test",
  version: "1.2.0",
  events: [installed],
  pins: {
    registry: "http://registry.test",
    events: { "kronos.test.Thing": { subject: "kronos.test.Thing", version: 2, id: 40 } },
  },
};

describe("checking installed events against the registry's latest", () => {
  it("is readable when the latest only adds a field the installed schema ignores", async () => {
    const writer = {
      type: "record",
      name: "Thing",
      namespace: "kronos.test",
      fields: [
        { name: "a", type: "int" },
        { name: "b", type: ["null", "string"], default: null },
      ],
    };
    const [check] = await checkAgainstRegistry([pkg], registryWith(writer));
    expect(check).toMatchObject({
      event: "kronos.test.Thing",
      pinned: 2,
      latest: 3,
      readable: true,
      problem: undefined,
    });
  });

  it("is not when the latest changed a field's type, and says to update the package", async () => {
    const writer = { type: "record", name: "Thing", namespace: "kronos.test", fields: [{ name: "a", type: "string" }] };
    const [check] = await checkAgainstRegistry([pkg], registryWith(writer));
    expect(check?.readable).toBe(false);
    expect(check?.problem).toContain("npm update @kronos/events-test");
  });

  it("is not when the subject is not registered, and says to register the catalog", async () => {
    const [check] = await checkAgainstRegistry([pkg], registryWith(undefined));
    expect(check).toMatchObject({ readable: false, latest: undefined });
    expect(check?.problem).toContain("kronos-schemas register");
  });
});
