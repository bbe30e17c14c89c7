import { defineEvent, RegistrySerde } from "@kronos/contracts";
import { InMemorySchemaRegistry } from "@kronos/contracts/testing";
import { describe, expect, it } from "vitest";
import { ReplayCheck } from "./check.js";

const v1 = {
  type: "record",
  name: "Thing",
  namespace: "kronos.test",
  fields: [{ name: "id", type: "string" }],
};
// A required field v1 messages do not have: v2 cannot read them.
const v2 = { ...v1, fields: [...v1.fields, { name: "count", type: "int" }] };

describe("ReplayCheck honours the destination topic's subject", () => {
  it("checks against <topic>-value (TopicNameStrategy) on a Kafka topic, and the record name elsewhere", async () => {
    const registry = new InMemorySchemaRegistry();
    const serde = new RegistrySerde({ client: registry });
    const event = defineEvent<{ id: string }>({
      name: "kronos.test.Thing",
      schema: v1,
      source: "test",
      subjectNaming: "TopicNameStrategy",
      topicSubjects: { things: "things-value" },
    });
    await serde.register(event);
    const body = await serde.encode(event, { id: "a" }, { topic: "things" });
    const id = body.readUInt32BE(1);
    // The topic's subject moved on to a schema that cannot read v1.
    await registry.register("things-value", JSON.stringify(v2));

    const check = new ReplayCheck(serde);
    const toTopic = await check.check(body, id, "things");
    expect(toTopic).toMatchObject({ ok: false });
    expect(toTopic.ok ? "" : toTopic.problem).toContain(`the current schema of things-value`);
    // To RabbitMQ (no topic): the record-name subject, which nothing registered.
    expect(await check.check(body, id)).toEqual({
      ok: true,
      note: "no schema is registered under kronos.test.Thing today",
    });
  });

  it("falls back to the record name on a topic whose subjects are named by record (RecordNameStrategy)", async () => {
    const registry = new InMemorySchemaRegistry();
    const serde = new RegistrySerde({ client: registry });
    const event = defineEvent<{ id: string }>({ name: "kronos.test.Thing", schema: v1, source: "test" });
    await serde.register(event);
    const body = await serde.encode(event, { id: "a" });
    const verdict = await new ReplayCheck(serde).check(body, body.readUInt32BE(1), "things");
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.ok ? verdict.note : "").toContain("written with the current schema of kronos.test.Thing");
  });
});
