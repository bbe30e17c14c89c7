// Gaia's side of a critical alert, written as a service in its own repository would: the typed event and its codec
// come from @kronos/events-gaia, the Confluent wire format and the registry client from @kronos/contracts, Kafka
// from kafkajs. It sends one CriticalAlert to Gaia's alert topic (or $TOPIC), reads it back and prints what it
// read as one JSON line.
import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { type CriticalAlert, CriticalAlertEvent } from "@kronos/events-gaia";
import { Kafka, logLevel } from "kafkajs";

const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081/apis/ccompat/v7";
const topic = process.env.TOPIC ?? "kronos.gaia.alerts";

// autoRegister: the schema is registered on first use when the registry does not have it yet (in production the
// schemas are registered by the catalog's CI with `kronos-schemas register`, and this stays false).
const serde = new RegistrySerde({ url: registryUrl, autoRegister: true });
const kafka = new Kafka({ clientId: "gaia-alerts-example", brokers, logLevel: logLevel.ERROR });

const alert: CriticalAlert = {
  meta: {
    eventId: randomUUID(),
    occurredAt: new Date(),
    producer: "gaia",
    correlationId: null,
    traceparent: null,
  },
  alertId: randomUUID(),
  severity: "CRITICAL",
  sourceService: "auth",
  fingerprint: "auth-brute-force:eu-west-1",
  title: "Login failures above 50/min",
  description: "Failed logins for one account from 40 addresses in 5 minutes.",
  labels: { rule: "auth-brute-force", region: "eu-west-1" },
  raisedAt: new Date(),
  runbookUrl: null,
};

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const value = await serde.encode(CriticalAlertEvent, alert);
  await producer.send({
    topic,
    acks: -1,
    messages: [{ key: alert.fingerprint, value, headers: { "event-type": CriticalAlertEvent.name } }],
  });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `gaia-alerts-example-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const read = await new Promise<CriticalAlert>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no alert read back from ${topic} within 60 s`)), 60_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (message.value === null) return;
          const decoded = await serde.decode(CriticalAlertEvent, message.value);
          if (decoded.alertId !== alert.alertId) return;
          clearTimeout(timer);
          resolve(decoded);
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  console.log(
    JSON.stringify({
      topic,
      subject: CriticalAlertEvent.subject,
      alertId: read.alertId,
      severity: read.severity,
      raisedAt: read.raisedAt.toISOString(),
      labels: read.labels,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
