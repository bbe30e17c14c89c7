// Scenario 4: a client subscribed over SSE holds deliveries it has not acked when the gateway is killed with SIGKILL
// (on each broker). Only the client's ack settles a delivery, so after a restart and a new subscription every one of
// them must come again; once acked, none may come a third time.
import { startServerProcess, waitForHttp } from "@kronos/app-kit/testing/process";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { SseClient } from "@kronos/testkit";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import { freePort, gatewayEnv, gatewayServer, stack } from "../harness.js";
import { framedAlert } from "./bodies.js";
import type { BatteryContext } from "./context.js";
import { Ledger } from "./ledger.js";
import { countColumns, type ScenarioResult } from "./report.js";

type Broker = "kafka" | "rabbitmq";

/** Puts `ids` (framed alerts) into the scenario's own queue or single-partition topic `name`, confirmed. */
async function fill(context: BatteryContext, broker: Broker, name: string, ids: readonly string[]): Promise<void> {
  const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });
  const bodies = await Promise.all(
    ids.map((id) => framedAlert(serde, id, "held by a subscriber when the gateway was killed")),
  );
  if (broker === "rabbitmq") {
    const channel = await (await context.harness.amqplib()).createConfirmChannel();
    await channel.assertQueue(name, { durable: true, arguments: { "x-queue-type": "quorum" } });
    ids.forEach((id, i) => {
      channel.sendToQueue(name, bodies[i] as Buffer, {
        persistent: true,
        messageId: id,
        type: CriticalAlertEvent.name,
      });
    });
    await channel.waitForConfirms();
    context.harness.onCleanup(async () => {
      const cleanup = await (await context.harness.amqplib()).createChannel();
      await cleanup.deleteQueue(name);
    });
    return;
  }
  const kafka = createKafkaClient({
    clientId: "kronos-battery-consumer-crash",
    brokers: context.brokers,
    retry: { retries: 5 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
  context.harness.onCleanup(async () => {
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [name] }).finally(() => cleanup.disconnect());
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: name,
    acks: -1,
    messages: ids.map((id, i) => ({ key: id, value: bodies[i] as Buffer, headers: { "message-id": id } })),
  });
  await producer.disconnect();
}

async function consumerCrash(context: BatteryContext, broker: Broker): Promise<ScenarioResult> {
  const { size, run } = context;
  const count = size === "full" ? 1000 : 100;
  const name = `kronos.battery.consumer-crash.${broker}.${run}`;
  const ledger = new Ledger();
  const problems: string[] = [];
  const ids = Array.from({ length: count }, (_, i) => `${run}-consumer-crash-${broker}-${i}`);
  for (const id of ids) ledger.sent(id);
  await fill(context, broker, name, ids);
  for (const id of ids) ledger.acknowledged(id);

  const port = await freePort();
  const env = gatewayEnv(port, context.principalsFile, {
    GATEWAY_SUBSCRIBE_MAX_PREFETCH: String(count),
  }) as Record<string, string>;
  const start = async () => {
    const server = startServerProcess(gatewayServer, env);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, 60_000).catch((error: unknown) => {
      server.kill("SIGKILL");
      throw new Error(`the gateway did not start: ${String(error)}\n${server.stderr().slice(-2000)}`);
    });
    return server;
  };
  const query =
    broker === "kafka"
      ? `prefetch=${count}&leaseMs=600000&group=${encodeURIComponent(`battery-${run}`)}&from=earliest`
      : `prefetch=${count}&leaseMs=600000`;
  const url = `http://127.0.0.1:${port}/subscribe/${encodeURIComponent(name)}?${query}`;
  const headers = context.gateway.headers;

  let server = await start();
  context.harness.onCleanup(async () => server.kill("SIGKILL"));
  const first = await SseClient.open(url, headers);
  if (first.status !== 200) throw new Error(`subscribe answered ${first.status}: ${first.errorBody}`);
  const held = await first.messages(count, 60_000);
  const heldIds = new Set(held.map((m) => m.data.messageId));
  if (heldIds.size !== count) problems.push(`the first subscriber held ${heldIds.size} of ${count}`);

  if (context.faults) {
    server.kill("SIGKILL");
    await server.exited;
    first.close();
    server = await start();
  } else first.close();

  const second = await SseClient.open(url, headers);
  if (second.status !== 200) throw new Error(`subscribe again answered ${second.status}: ${second.errorBody}`);
  const again = await second.messages(count, 120_000).catch((error: unknown) => {
    problems.push(`after the restart: ${String(error)}`);
    return [];
  });
  let ackFailures = 0;
  for (const message of again) {
    if (message.data.messageId) ledger.readBack(message.data.messageId);
    const ack = await fetch(`http://127.0.0.1:${port}/ack/${encodeURIComponent(message.id)}`, {
      method: "POST",
      headers,
      signal: AbortSignal.timeout(10_000),
    });
    if (ack.status !== 204) ackFailures++;
  }
  if (ackFailures > 0) problems.push(`${ackFailures} acks not answered 204`);
  second.close();

  // Acked: a third subscriber gets none of them.
  const third = await SseClient.open(url, headers);
  const extra = await third.nextMessage(3000).then(
    (message) => [message],
    () => [],
  );
  third.close();
  for (const message of extra) {
    if (message.data.messageId) ledger.readBack(message.data.messageId);
    problems.push(`delivered again after its ack: ${message.data.messageId}`);
  }
  server.kill("SIGTERM");
  await server.exited;

  const counts = ledger.counts();
  if (counts.lost > 0)
    problems.push(`held, never delivered again (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  return {
    scenario: `consumer-crash-${broker}`,
    load: `${count} deliveries held unacked by one SSE subscriber (prefetch ${count}) on ${broker === "kafka" ? "a Kafka topic, a group" : "a quorum queue"}`,
    faults: context.faults
      ? "kill -9 the gateway, start it again, subscribe again"
      : "none (--no-faults): unsubscribe, subscribe again",
    ...countColumns(counts),
    serverErrors: 0,
    problems,
    details: { held: heldIds.size, redelivered: again.length },
  };
}

export const consumerCrashKafka = (context: BatteryContext) => consumerCrash(context, "kafka");
export const consumerCrashRabbitmq = (context: BatteryContext) => consumerCrash(context, "rabbitmq");
