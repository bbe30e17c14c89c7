import { createServer } from "node:net";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractError, defineEvent, frame, RegistrySerde } from "../src/index.js";

const resources = new TestResources();
afterAll(() => resources.cleanup());
const url = testEndpoints().registryUrl;
let closedUrl = "";

beforeAll(async () => {
  // A port that was free a moment ago: nothing listens there.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  closedUrl = `http://127.0.0.1:${port}/apis/ccompat/v7`;
});

function orderSchema(name: string, extra: object[] = []) {
  return {
    type: "record",
    name,
    namespace: "kronos.test",
    fields: [
      { name: "id", type: { type: "string", logicalType: "uuid" } },
      { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 9, scale: 2 } },
      { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
      ...extra,
    ],
  };
}

/** v1 and v2 of one event under one unique subject (v2 adds a field with a default). */
function versions() {
  const subject = resources.subject("kronos.test.Order");
  const v1 = defineEvent<Record<string, unknown>>({
    name: "kronos.test.Order",
    subject,
    schema: orderSchema("Order"),
    source: "v1",
  });
  const v2 = defineEvent<Record<string, unknown>>({
    name: "kronos.test.Order",
    subject,
    schema: orderSchema("Order", [{ name: "note", type: "string", default: "none" }]),
    source: "v2",
  });
  return { subject, v1, v2 };
}

const order = { id: "123e4567-e89b-12d3-a456-426614174000", amount: "10.50", at: new Date(1_700_000_000_000) };

async function codeOf(promise: Promise<unknown>): Promise<ContractError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ContractError);
  return error as ContractError;
}

describe("RegistrySerde against the real registry", () => {
  it("encodes with the registered schema id and decodes it back", async () => {
    const { v1 } = versions();
    const serde = new RegistrySerde({ url });
    const id = await serde.register(v1, { compatibility: "BACKWARD" });
    const bytes = await serde.encode(v1, order);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    // A fresh serde knows nothing: it must fetch the writer schema by id.
    expect(await new RegistrySerde({ url }).decode(v1, bytes)).toEqual(order);
    expect(await new RegistrySerde({ url }).decodeAny(bytes)).toEqual({
      schemaId: id,
      writerName: "kronos.test.Order",
      value: order,
    });
  });

  it("refuses to encode an unregistered schema unless autoRegister is on", async () => {
    const { v1 } = versions();
    expect((await codeOf(new RegistrySerde({ url }).encode(v1, order))).code).toBe("SCHEMA_NOT_REGISTERED");
    const bytes = await new RegistrySerde({ url, autoRegister: true }).encode(v1, order);
    expect(await new RegistrySerde({ url }).decode(v1, bytes)).toEqual(order);
  });

  it("a v1 reader decodes v2 messages and a v2 reader decodes v1 messages", async () => {
    const { v1, v2 } = versions();
    const serde = new RegistrySerde({ url });
    await serde.register(v1, { compatibility: "BACKWARD" });
    await serde.register(v2);
    const fromV1 = await serde.encode(v1, order);
    const fromV2 = await serde.encode(v2, { ...order, note: "gift" });
    expect(await serde.decode(v2, fromV1)).toEqual({ ...order, note: "none" });
    expect(await serde.decode(v1, fromV2)).toEqual(order);
  });

  it("registering the same schema twice returns the same id", async () => {
    const { v1 } = versions();
    const first = await new RegistrySerde({ url }).register(v1, { compatibility: "BACKWARD" });
    const second = await new RegistrySerde({ url }).register(v1);
    expect(second).toBe(first);
  });

  it("refuses an incompatible change under BACKWARD with SCHEMA_INCOMPATIBLE and the registry's message", async () => {
    const { subject, v1 } = versions();
    const serde = new RegistrySerde({ url });
    await serde.register(v1, { compatibility: "BACKWARD" });
    const v3 = defineEvent({
      name: "kronos.test.Order",
      subject,
      schema: orderSchema("Order", [{ name: "required", type: "string" }]),
      source: "v3",
    });
    const error = await codeOf(serde.register(v3));
    expect(error.code).toBe("SCHEMA_INCOMPATIBLE");
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(/refused/);
    console.info(`registry's refusal: ${error.message}`);
    expect(error.message.length).toBeGreaterThan(40);
  });

  it("an unknown schema id is SCHEMA_ID_NOT_FOUND", async () => {
    const { v1 } = versions();
    const error = await codeOf(new RegistrySerde({ url }).decode(v1, frame(2_000_000_000, Buffer.alloc(3))));
    expect(error.code).toBe("SCHEMA_ID_NOT_FOUND");
    expect(error.retriable).toBe(false);
  });

  it("a registry on a closed port is REGISTRY_UNAVAILABLE, retriable", async () => {
    const { v1 } = versions();
    const serde = new RegistrySerde({ url: closedUrl, retries: 0 });
    const attempts = [
      () => serde.encode(v1, order),
      () => serde.decode(v1, frame(1, Buffer.alloc(3))),
      () => serde.register(v1),
    ];
    for (const attempt of attempts) {
      const error = await codeOf(attempt());
      expect(error.code).toBe("REGISTRY_UNAVAILABLE");
      expect(error.retriable).toBe(true);
    }
  });

  it("checks the header length before touching the registry", async () => {
    const { v1 } = versions();
    const serde = new RegistrySerde({ url: closedUrl, retries: 0 });
    expect((await codeOf(serde.decode(v1, Buffer.from([0, 0, 0])))).code).toBe("INCOMPLETE_HEADER");
    expect((await codeOf(serde.decode(v1, Buffer.from([1, 0, 0, 0, 1])))).code).toBe("INVALID_MAGIC_BYTE");
  });
});
