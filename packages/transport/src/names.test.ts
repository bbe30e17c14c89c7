import { describe, expect, it } from "vitest";
import { derivedFrom, isInternalName, kafkaTopicNameProblem, nameProblem, rabbitmqNameProblem } from "./names.js";

describe("broker names", () => {
  it("accepts Kafka topic names Kafka accepts and refuses the others, naming the rule", () => {
    for (const name of ["kronos.log.entries", "a_b-c", "x".repeat(249)])
      expect(kafkaTopicNameProblem(name)).toBe(undefined);
    for (const name of ["", ".", "..", "a b", "\u0000", "%", "../..", "é", "x".repeat(250), "orders\n"]) {
      expect(kafkaTopicNameProblem(name), JSON.stringify(name)).toMatch(/Kafka topic name/);
    }
  });

  it("refuses RabbitMQ names the broker would alter (CR/LF stripped, lone surrogates) or refuse (empty, > 255 bytes)", () => {
    for (const name of ["orders", "a b", "a:b/c", "é".repeat(127)]) expect(rabbitmqNameProblem(name)).toBe(undefined);
    expect(rabbitmqNameProblem("orders\n")).toMatch(/control characters/);
    expect(rabbitmqNameProblem("orders\r")).toMatch(/control characters/);
    expect(rabbitmqNameProblem("a\u0000b")).toMatch(/control characters/);
    expect(rabbitmqNameProblem("a\u0085b")).toMatch(/control characters/);
    expect(rabbitmqNameProblem("a\ud800b")).toMatch(/well-formed/);
    expect(rabbitmqNameProblem("")).toMatch(/empty/);
    expect(rabbitmqNameProblem("é".repeat(128))).toMatch(/255 bytes/);
    expect(nameProblem("rabbitmq", "a b")).toBe(undefined);
    expect(nameProblem("kafka", "a b")).toMatch(/Kafka/);
  });

  it("knows the brokers' and the registry's own objects", () => {
    for (const name of [
      "__consumer_offsets",
      "__transaction_state",
      "_schemas",
      "kafkasql-journal",
      "registry-events",
    ]) {
      expect(isInternalName("kafka", name), name).toBe(true);
    }
    expect(isInternalName("kafka", "kronos.log.entries")).toBe(false);
    expect(isInternalName("rabbitmq", "amq.gen-123")).toBe(true);
    expect(isInternalName("rabbitmq", "_orders")).toBe(false);
  });

  it("finds the source of retry and dead-letter names", () => {
    expect(derivedFrom("orders.dlq")).toBe("orders");
    expect(derivedFrom("kronos.auth.events.retry.30000")).toBe("kronos.auth.events");
    expect(derivedFrom("orders.retry.5000.dlq")).toBe("orders.retry.5000");
    expect(derivedFrom("orders")).toBeUndefined();
    expect(derivedFrom("orders.retry.x")).toBeUndefined();
    expect(derivedFrom(".dlq")).toBeUndefined();
  });
});
