// The gateway publishes the scenarios send: valid events of the catalog, each with the scenario's message id.
import { randomUUID } from "node:crypto";
import type { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";

/** Gaia's log stream (Kafka) and critical-alert exchange (RabbitMQ), both in the contract manifest. */
export const LOG_TOPIC = "kronos.log.entries";
export const CRITICAL_EXCHANGE = "kronos.gaia.critical";

/** A valid `kronos.log.LogEntry` publish to Kafka with message id `id`, logged by `logger` (the scenario). */
export function logEntry(id: string, logger = "battery") {
  return {
    topic: LOG_TOPIC,
    headers: { "message-id": id },
    payload: {
      meta: {
        eventId: randomUUID(),
        occurredAt: Date.now(),
        producer: "battery",
        correlationId: null,
        traceparent: null,
      },
      timestamp: Date.now(),
      level: "INFO",
      service: "battery",
      instance: null,
      logger,
      message: `battery message ${id}`,
      attributes: { run: "battery" },
      traceId: null,
      spanId: null,
    },
  };
}

/** A valid `kronos.gaia.CriticalAlert` publish to RabbitMQ (routing key `alert.CRITICAL.auth`) with id `id`. */
export function criticalAlert(id: string) {
  return {
    topic: CRITICAL_EXCHANGE,
    headers: { "message-id": id },
    payload: {
      meta: { eventId: randomUUID(), occurredAt: Date.now(), producer: "gaia", correlationId: null, traceparent: null },
      alertId: randomUUID(),
      severity: "CRITICAL",
      sourceService: "auth",
      fingerprint: `fp-${id}`,
      title: "battery alert",
      description: "published by the reliability battery",
      labels: {},
      raisedAt: Date.now(),
      runbookUrl: null,
    },
  };
}

/**
 * A `kronos.gaia.CriticalAlert` with id `id` framed by the catalog's codec (the Confluent frame), for scenarios that
 * write to a broker directly (a relay's source, a dead-letter queue, a subscriber's queue).
 */
export function framedAlert(serde: RegistrySerde, id: string, description: string): Promise<Buffer> {
  const now = new Date();
  return serde.encode(CriticalAlertEvent, {
    meta: { eventId: randomUUID(), occurredAt: now, producer: "gaia", correlationId: null, traceparent: null },
    alertId: randomUUID(),
    severity: "CRITICAL",
    sourceService: "battery",
    fingerprint: `fp-${id}`,
    title: "battery alert",
    description,
    labels: {},
    raisedAt: now,
    runbookUrl: null,
  });
}
