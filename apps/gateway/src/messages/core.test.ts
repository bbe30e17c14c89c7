import { ContractError, type RegistrySerde } from "@kronos/contracts";
import { type AmqpPublisher, type KafkaPublisher, TransportError } from "@kronos/transport";
import { describe, expect, it } from "vitest";
import { criticalAlert, logEntry } from "../../test/publish-helpers.js";
import { contractsOf, eventsByName } from "../contracts/index.js";
import { clockOf, MessageCore } from "./core.js";
import type { MessageOutcome } from "./failures.js";
import type { CheckedMessage } from "./message.js";

const contracts = contractsOf(eventsByName.values());

/** A core on a serde that fails for `failing` events with `error`, and publishers that ack at once. */
function coreFailingOn(failing: string, error: Error) {
  const recorded: Array<[string, MessageOutcome]> = [];
  const serde = {
    encode: async (event: { name: string }) => {
      if (event.name === failing) throw error;
      return Buffer.from([0, 0, 0, 0, 1]);
    },
  } as unknown as RegistrySerde;
  const sent: string[] = [];
  const kafka = {
    publish: async (record: { topic: string }) => {
      sent.push(record.topic);
      return { partition: 0, offset: "0" };
    },
  } as unknown as KafkaPublisher;
  const amqp = { publish: async () => {} } as unknown as AmqpPublisher;
  const core = new MessageCore({
    contracts,
    serde,
    publishers: { kafka, amqp },
    recorder: { outcome: (topic, _broker, outcome) => recorded.push([topic, outcome]) },
  });
  return { core, recorded, sent };
}

function checkAll(core: MessageCore): CheckedMessage[] {
  return [
    { topic: "kronos.log.entries", payload: logEntry() },
    { topic: "kronos.gaia.alerts", payload: criticalAlert() },
  ].map((input) => {
    const result = core.check(input, { principalId: "svc" });
    if (!result.ok) throw new Error(JSON.stringify(result.violations));
    return result.message;
  });
}

describe("MessageCore.publishAll", () => {
  it("describes an encode failure with the failing message, not the first one, and sends nothing", async () => {
    const refused = coreFailingOn("kronos.gaia.CriticalAlert", new ContractError("SCHEMA_INCOMPATIBLE", "no"));
    const result = await refused.core.publishAll(checkAll(refused.core), clockOf(1000));
    expect(result).toMatchObject({
      index: 1,
      encodeFailure: { statusCode: 500, code: "SCHEMA_REGISTRY_REFUSED", outcome: "error" },
    });
    const failure = "encodeFailure" in result ? result.encodeFailure : undefined;
    expect(failure?.message).toContain("kronos.gaia.CriticalAlert");
    expect(failure?.message).not.toContain("kronos.log.LogEntry");
    expect(refused.sent).toEqual([]);
    expect(refused.recorded).toEqual([
      ["kronos.log.entries", "error"],
      ["kronos.gaia.alerts", "error"],
    ]);

    const slow = coreFailingOn("kronos.gaia.CriticalAlert", new TransportError("TIMEOUT", "encoding timed out"));
    const timedOut = await slow.core.publishAll(checkAll(slow.core), clockOf(1000));
    expect(timedOut).toMatchObject({ index: 1, encodeFailure: { statusCode: 503, code: "TIMEOUT", retryAfter: 5 } });
    expect("encodeFailure" in timedOut && timedOut.encodeFailure.message).toContain('Kafka topic "kronos.gaia.alerts"');
  });

  it("times the encodes out together, failing the first message still encoding when the deadline passes", async () => {
    const recorded: MessageOutcome[] = [];
    const serde = {
      // The registry answers the log entry's schema, never the alert's.
      encode: (event: { name: string }) =>
        event.name === "kronos.gaia.CriticalAlert"
          ? new Promise(() => {})
          : Promise.resolve(Buffer.from([0, 0, 0, 0, 1])),
    } as unknown as RegistrySerde;
    const core = new MessageCore({
      contracts,
      serde,
      publishers: { kafka: {} as KafkaPublisher, amqp: {} as AmqpPublisher },
      recorder: { outcome: (_t, _b, outcome) => recorded.push(outcome) },
    });
    const messages = checkAll(core);
    const result = await core.publishAll([messages[0], messages[1], messages[1]] as CheckedMessage[], clockOf(50));
    expect(result).toMatchObject({ index: 1, encodeFailure: { statusCode: 503, code: "TIMEOUT", retryAfter: 5 } });
    const failure = "encodeFailure" in result ? result.encodeFailure : undefined;
    expect(failure?.message).toContain('Kafka topic "kronos.gaia.alerts"');
    expect(recorded).toEqual(["timeout", "timeout", "timeout"]);
  });

  it("sends every message when all encode, each with its ack, and counts them accepted", async () => {
    const fine = coreFailingOn("none", new Error("unused"));
    const result = await fine.core.publishAll(checkAll(fine.core), clockOf(1000));
    expect("sent" in result && result.sent.map((s) => s.ok)).toEqual([true, true]);
    expect(fine.sent).toEqual(["kronos.log.entries", "kronos.gaia.alerts"]);
    expect(fine.recorded.map(([, outcome]) => outcome)).toEqual(["accepted", "accepted"]);
  });
});

describe("MessageCore.check", () => {
  it("counts an invalid payload once, as invalid, with its event", () => {
    const invalid: string[] = [];
    const outcomes: MessageOutcome[] = [];
    const core = new MessageCore({
      contracts,
      serde: {} as RegistrySerde,
      publishers: { kafka: {} as KafkaPublisher, amqp: {} as AmqpPublisher },
      recorder: { outcome: (_t, _b, outcome) => outcomes.push(outcome), invalid: (event) => invalid.push(event) },
    });
    const result = core.check({ topic: "kronos.gaia.alerts", payload: { nope: 1 } }, { principalId: "svc" });
    expect(result.ok).toBe(false);
    expect(outcomes).toEqual(["invalid"]);
    expect(invalid).toEqual(["kronos.gaia.CriticalAlert"]);
  });
});
