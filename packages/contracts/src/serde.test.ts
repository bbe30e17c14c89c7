import { describe, expect, it } from "vitest";
import { LOG_EVENT } from "../test/fixtures.js";
import { ContractError } from "./errors.js";
import { defineEvent } from "./event.js";
import { frame } from "./framing.js";
import { registryError } from "./registry-client.js";
import { RegistrySerde } from "./serde.js";
import { InMemorySchemaRegistry } from "./testing/index.js";

const log = defineEvent<Record<string, unknown>>({ name: "kronos.log.LogWritten", schema: LOG_EVENT, source: "x" });
const value = { level: "WARN", message: "m", labels: {}, items: [], at: new Date(5), traceId: null };

describe("RegistrySerde (in-memory registry)", () => {
  it("validates before it asks the registry anything", async () => {
    const serde = new RegistrySerde({ client: new InMemorySchemaRegistry() });
    await expect(serde.encode(log, { ...value, level: "LOUD" })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      violations: [{ path: "level", message: "expected one of INFO|WARN|ERROR" }],
    });
  });

  it("frames with the registered id, and decodes with the writer schema it fetches once", async () => {
    const client = new InMemorySchemaRegistry();
    let fetches = 0;
    const getWriterType = client.getWriterType.bind(client);
    client.getWriterType = (id) => {
      fetches++;
      return getWriterType(id);
    };
    const serde = new RegistrySerde({ client, autoRegister: true });
    const bytes = await serde.encode(log, value);
    expect(bytes.readUInt32BE(1)).toBe(1);
    expect(await serde.decode(log, bytes)).toEqual(value);
    expect(await serde.decode(log, bytes)).toEqual(value);
    expect(await serde.decodeAny(bytes)).toEqual({ schemaId: 1, writerName: "kronos.log.LogWritten", value });
    expect(fetches).toBe(1);
  });

  it("decodes from a pre-filled writer cache without a registry", async () => {
    const serde = new RegistrySerde({ client: new InMemorySchemaRegistry() });
    serde.addWriterSchema(77, LOG_EVENT);
    expect(await serde.decode(log, frame(77, log.encode(value)))).toEqual(value);
  });

  it("says SCHEMA_RESOLUTION_FAILED when the writer cannot be read as the reader", async () => {
    const serde = new RegistrySerde({ client: new InMemorySchemaRegistry() });
    serde.addWriterSchema(3, { type: "record", name: "Other", fields: [{ name: "x", type: "boolean" }] });
    await expect(serde.decode(log, frame(3, Buffer.from([1])))).rejects.toMatchObject({
      code: "SCHEMA_RESOLUTION_FAILED",
    });
  });
});

describe("registryError", () => {
  it.each([
    [
      { status: 400, message: "kronos-contracts - Error, status 400: connect ECONNREFUSED 127.0.0.1:1" },
      "REGISTRY_UNAVAILABLE",
    ],
    [{ status: 503, message: "down" }, "REGISTRY_UNAVAILABLE"],
    [{ status: 409, message: "Incompatible" }, "SCHEMA_INCOMPATIBLE"],
    [{ status: 422, message: "Invalid schema" }, "INVALID_SCHEMA"],
    [{ status: 400, message: "kronos-contracts - Invalid request" }, "REGISTRY_REQUEST_FAILED"],
  ])("maps %j to %s", (error, code) => {
    const mapped = registryError(Object.assign(new Error(error.message), { status: error.status }), "act");
    expect(mapped).toBeInstanceOf(ContractError);
    expect(mapped.code).toBe(code);
  });
});
