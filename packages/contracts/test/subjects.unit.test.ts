import { describe, expect, it } from "vitest";
import { ContractError, defineEvent, RegistrySerde, unframe } from "../src/index.js";
import { InMemorySchemaRegistry } from "../src/testing/index.js";
import { LINKED_LIST } from "./fixtures.js";

const cell = { head: 1, tail: null };
const define = (extra: object) =>
  defineEvent<typeof cell>({ name: "kronos.fixtures.Cell", schema: LINKED_LIST, source: "test/fixtures.ts", ...extra });

describe("an event's subjects", () => {
  it("RecordNameStrategy (the default): the record name on every topic", () => {
    const event = define({});
    expect(event.subjectNaming).toBe("RecordNameStrategy");
    expect(event.subjects).toEqual(["kronos.fixtures.Cell"]);
    expect(event.subjectFor()).toBe("kronos.fixtures.Cell");
    expect(event.subjectFor("any.topic")).toBe("kronos.fixtures.Cell");
  });

  it("a topic strategy: the topic's subject, the first topic's by default, and TOPIC_NOT_BOUND elsewhere", () => {
    const event = define({
      subjectNaming: "TopicNameStrategy",
      topicSubjects: { cells: "cells-value", "cells.copy": "cells.copy-value" },
    });
    expect(event.subject).toBe("cells-value");
    expect(event.subjects).toEqual(["cells-value", "cells.copy-value"]);
    expect(event.subjectFor("cells.copy")).toBe("cells.copy-value");
    expect(event.subjectFor()).toBe("cells-value");
    const error = (() => {
      try {
        event.subjectFor("elsewhere");
      } catch (e) {
        return e;
      }
    })() as ContractError;
    expect(error).toBeInstanceOf(ContractError);
    expect(error.code).toBe("TOPIC_NOT_BOUND");
    expect(error.retriable).toBe(false);
    expect(error.message).toBe(
      "event kronos.fixtures.Cell uses TopicNameStrategy and has no subject on Kafka topic elsewhere " +
        "(its topics: cells, cells.copy): bind it to the topic in the manifest",
    );
    expect(() => define({ subjectNaming: "TopicNameStrategy" })).toThrow(/names no topic subject/);
  });

  it("the serde looks the id up under the topic's subject, and refuses a topic the event is not bound to", async () => {
    const registry = new InMemorySchemaRegistry();
    const serde = new RegistrySerde({ client: registry });
    const event = define({
      subjectNaming: "TopicRecordNameStrategy",
      topicSubjects: { a: "a-kronos.fixtures.Cell", b: "b-kronos.fixtures.Cell" },
    });
    const id = await serde.register(event, { subject: "b-kronos.fixtures.Cell" });
    // Registered under b only: a (the default) is not registered, b is, warm or cold.
    await expect(serde.encode(event, cell, { topic: "a" })).rejects.toMatchObject({ code: "SCHEMA_NOT_REGISTERED" });
    await expect(serde.encode(event, cell)).rejects.toThrow(/not registered under subject a-kronos.fixtures.Cell/);
    expect(unframe(await serde.encode(event, cell, { topic: "b" })).schemaId).toBe(id);
    expect(unframe(await new RegistrySerde({ client: registry }).encode(event, cell, { topic: "b" })).schemaId).toBe(
      id,
    );
    await expect(serde.encode(event, cell, { topic: "c" })).rejects.toMatchObject({ code: "TOPIC_NOT_BOUND" });
    expect(await registry.getLatestSchemaId("b-kronos.fixtures.Cell")).toBe(id);
    expect(await registry.getLatestSchemaId("kronos.fixtures.Cell")).toBeUndefined();
  });
});
