import { describe, expect, it } from "vitest";
import { RETRIABLE, TransportError, type TransportErrorCode } from "../errors.js";
import {
  KAFKA_ERROR_CODES,
  KAFKA_ERROR_MEANINGS,
  type KafkaErrorMeaning,
  type KafkaOperation,
  kafkaErrorCode,
  kafkaErrorMeaning,
  kafkaErrorTypes,
} from "./errors.js";

const protocolError = (type: string) => Object.assign(new Error(type), { type });

describe("kafkaErrorTypes", () => {
  it("finds the protocol error type in causes and aggregates", () => {
    const nested = Object.assign(new Error("retries exceeded"), {
      cause: { errors: [new Error("x"), protocolError("UNKNOWN_TOPIC_OR_PARTITION")] },
    });
    expect([...kafkaErrorTypes(nested)]).toEqual(["UNKNOWN_TOPIC_OR_PARTITION"]);
    expect(kafkaErrorCode(nested, "publish")).toBe("DESTINATION_NOT_FOUND");
  });

  it("follows kafkajs' originalError and survives cycles", () => {
    const inner = protocolError("MESSAGE_TOO_LARGE");
    const outer: Record<string, unknown> = { originalError: inner };
    outer.cause = outer;
    expect([...kafkaErrorTypes(outer)]).toEqual(["MESSAGE_TOO_LARGE"]);
    expect(kafkaErrorTypes(undefined).size).toBe(0);
  });
});

describe("kafkaErrorMeaning", () => {
  it("a topic deleted mid-request is recognised through wrappers (TransportError cause, retries, aggregates)", () => {
    const protocol = Object.assign(new Error("This server does not host this topic-partition"), {
      type: "UNKNOWN_TOPIC_OR_PARTITION",
    });
    const retries = new Error("retries exceeded", { cause: protocol });
    expect(kafkaErrorMeaning(new Error("KAFKA_UNAVAILABLE", { cause: retries }))).toBe("not-found");
    expect(kafkaErrorMeaning(Object.assign(new Error("many"), { errors: [new Error("x"), protocol] }))).toBe(
      "not-found",
    );
    expect(kafkaErrorMeaning(new Error("connect ECONNREFUSED"))).toBe("unavailable");
    expect(kafkaErrorMeaning(undefined)).toBe("unavailable");
  });

  it("not-found wins over a refusal, a refusal over an unknown type, when one aggregate carries several", () => {
    const aggregate = (...types: string[]) => Object.assign(new Error("batch"), { errors: types.map(protocolError) });
    expect(kafkaErrorMeaning(aggregate("NOT_LEADER_FOR_PARTITION", "MESSAGE_TOO_LARGE"))).toBe("rejected");
    expect(kafkaErrorMeaning(aggregate("MESSAGE_TOO_LARGE", "UNKNOWN_TOPIC_OR_PARTITION"))).toBe("not-found");
    expect(kafkaErrorMeaning(aggregate("TOPIC_AUTHORIZATION_FAILED", "INVALID_CONFIG"))).toBe("invalid");
  });
});

describe("kafkaErrorCode: each mapping, retriable from the RETRIABLE table", () => {
  // Every row of the table, per operation: the code it becomes and whether that code is retriable.
  const expected: Record<KafkaOperation, Record<KafkaErrorMeaning, [TransportErrorCode, boolean]>> = {
    publish: {
      "not-found": ["DESTINATION_NOT_FOUND", false],
      rejected: ["PUBLISH_REJECTED", false],
      invalid: ["PUBLISH_REJECTED", false],
      unauthorized: ["PUBLISH_REJECTED", false],
      unauthenticated: ["KAFKA_ACCESS_DENIED", false],
      unavailable: ["KAFKA_UNAVAILABLE", true],
    },
    consume: {
      "not-found": ["DESTINATION_NOT_FOUND", false],
      rejected: ["KAFKA_UNAVAILABLE", true],
      invalid: ["KAFKA_UNAVAILABLE", true],
      unauthorized: ["KAFKA_ACCESS_DENIED", false],
      unauthenticated: ["KAFKA_ACCESS_DENIED", false],
      unavailable: ["KAFKA_UNAVAILABLE", true],
    },
    admin: {
      "not-found": ["DESTINATION_NOT_FOUND", false],
      rejected: ["INVALID_OPTIONS", false],
      invalid: ["INVALID_OPTIONS", false],
      unauthorized: ["KAFKA_ACCESS_DENIED", false],
      unauthenticated: ["KAFKA_ACCESS_DENIED", false],
      unavailable: ["KAFKA_UNAVAILABLE", true],
    },
  };

  for (const operation of ["publish", "consume", "admin"] as const) {
    for (const [type, meaning] of Object.entries(KAFKA_ERROR_MEANINGS)) {
      it(`${operation}: ${type} is ${meaning}`, () => {
        const [code, retriable] = expected[operation][meaning];
        expect(kafkaErrorMeaning(protocolError(type))).toBe(meaning);
        expect(kafkaErrorCode(protocolError(type), operation)).toBe(code);
        expect(new TransportError(kafkaErrorCode(protocolError(type), operation), "x").retriable).toBe(retriable);
      });
    }
    it(`${operation}: any other type, or none, is KAFKA_UNAVAILABLE (retriable)`, () => {
      for (const error of [
        protocolError("NOT_LEADER_FOR_PARTITION"),
        protocolError("REQUEST_TIMED_OUT"),
        new Error("Connection error: connect ECONNREFUSED"),
        "a string",
      ]) {
        expect(kafkaErrorCode(error, operation)).toBe("KAFKA_UNAVAILABLE");
      }
      expect(RETRIABLE.KAFKA_UNAVAILABLE).toBe(true);
    });
  }

  it(`${"unauthenticated"}: a failed SASL authentication or an untrusted certificate, however wrapped`, () => {
    const sasl = Object.assign(new Error("SASL SCRAM SHA512 authentication failed"), {
      name: "KafkaJSSASLAuthenticationError",
    });
    const certificate = Object.assign(new Error("Connection error: unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    const retried = Object.assign(new Error("Number of retries exceeded"), { originalError: certificate });
    for (const error of [sasl, retried, { cause: sasl }]) {
      expect(kafkaErrorMeaning(error)).toBe("unauthenticated");
      expect(kafkaErrorCode(error, "admin")).toBe("KAFKA_ACCESS_DENIED");
    }
    expect(RETRIABLE.KAFKA_ACCESS_DENIED).toBe(false);
  });

  it("the table maps every meaning of every operation (and nothing is retriable but Kafka being unavailable)", () => {
    expect(KAFKA_ERROR_CODES).toEqual(
      Object.fromEntries(
        Object.entries(expected).map(([operation, rows]) => [
          operation,
          Object.fromEntries(Object.entries(rows).map(([meaning, [code]]) => [meaning, code])),
        ]),
      ),
    );
  });
});
