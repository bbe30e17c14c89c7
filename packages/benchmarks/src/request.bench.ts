// Gateway request/reply benchmark (issue #6): round trips per second of the gateway's POST /request on RabbitMQ
// (kronos.router, direct reply-to) against a raw amqplib direct reply-to loop, at the same concurrency, both served
// by the same responder (a separate process, raw amqplib, prefetch 200), side by side in one run.
//   npm run bench -- request      (from the repository root: set-up, stack up, build, then this)
// Target: the gateway ≥ 0.5× the raw loop, serial and concurrent.

import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { RegistrySerde } from "@kronos/contracts";
import { AsyncRequestEvent, AsyncResponseEvent } from "@kronos/events-router";
import amqplib, { type ConsumeMessage } from "amqplib";
import { BenchHarness, printRates, printRatios, type RatioRow, stack, waitForOutput } from "./harness.js";
import { type Contender, medianRatio, runLanes } from "./measure.js";
import { benchMeta } from "./payloads.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TURN_MS = Number(process.env.BENCH_TURN_MS ?? 2000);
const MAX_PER_TURN = 100_000;
const CONCURRENCY = 16;
const PAYLOADS = 500;
const TIMEOUT_MS = 5000;
const EXCHANGE = "kronos.router";
const SERVICE = `bench-${process.pid}`;
const ROUTING_KEY = `request.${SERVICE}`;
const QUEUE = `kronos.bench.request.${process.pid}`;
const RESPONDER_PREFETCH = 200;
const HARD_LIMIT_MS = 5 * 60_000;
const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

// ---------------------------------------------------------------- responder (the child process)

/**
 * The responder both contenders are served by: consumes `queue` (prefetch 200, manual acks) and answers every
 * request with the same AsyncResponse bytes, to the request's replyTo with its correlation id, then acks.
 */
async function respond(queue: string, reply: Buffer): Promise<void> {
  const connection = await amqplib.connect(stack.rabbitmqUrl, { noDelay: true });
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  await channel.prefetch(RESPONDER_PREFETCH);
  await channel.consume(queue, (message: ConsumeMessage | null) => {
    if (message === null) return;
    const { replyTo, correlationId } = message.properties;
    if (typeof replyTo === "string") {
      channel.publish("", replyTo, reply, {
        correlationId,
        messageId: randomUUID(),
        type: AsyncResponseEvent.name,
        contentType: "application/vnd.kronos.avro",
      });
    }
    channel.ack(message);
  });
  console.log(JSON.stringify({ ready: true }));
  process.on("SIGTERM", () => void connection.close().finally(() => process.exit(0)));
}

const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });
const now = Date.now();
const responseBytes = await serde.encode(AsyncResponseEvent, {
  meta: { eventId: randomUUID(), occurredAt: new Date(now), producer: SERVICE, correlationId: null, traceparent: null },
  requestId: randomUUID(),
  fromService: SERVICE,
  toService: "bench",
  replyTo: DIRECT_REPLY_TO,
  status: "OK",
  errorCode: null,
  errorMessage: null,
  contentType: "application/json",
  body: Buffer.from('{"id":42,"name":"Ada"}'),
  durationMillis: 1,
});

if (process.argv[2] === "--responder") {
  await respond(process.argv[3] as string, responseBytes);
} else {
  await main();
}

// ---------------------------------------------------------------- the benchmark (the parent process)

async function main(): Promise<void> {
  const harness = new BenchHarness("request benchmark", HARD_LIMIT_MS);
  const started = performance.now();

  // The same requests for both contenders: JSON for the gateway, the bytes it would send for amqplib.
  const requestValues = Array.from({ length: PAYLOADS }, (_, i) => ({
    meta: benchMeta("bench", now),
    requestId: randomUUID(),
    fromService: "bench",
    toService: SERVICE,
    operation: "user.get",
    replyTo: DIRECT_REPLY_TO,
    deadline: new Date(now + 3_600_000),
    headers: { tenant: "acme" },
    contentType: "application/json",
    body: Buffer.from(`{"id":${i}}`),
  }));
  await serde.encode(AsyncRequestEvent, requestValues[0] as (typeof requestValues)[0]);
  const requestBytes = await Promise.all(requestValues.map((value) => serde.encode(AsyncRequestEvent, value)));
  // JSON.stringify turns Dates into ISO strings and Buffers into { type, data }: bytes go as base64.
  const requestBodies = requestValues.map((payload) =>
    JSON.stringify({
      topic: EXCHANGE,
      event: AsyncRequestEvent.name,
      payload: { ...payload, body: payload.body.toString("base64") },
      timeoutMs: TIMEOUT_MS,
    }),
  );
  const at = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

  // ---------------------------------------------------------------- the request queue and its responder

  const connection = await harness.amqplib();
  const setup = await connection.createChannel();
  await setup.assertExchange(EXCHANGE, "direct", { durable: true });
  await setup.assertQueue(QUEUE, { durable: false, autoDelete: false });
  await setup.bindQueue(QUEUE, EXCHANGE, ROUTING_KEY);
  harness.onCleanup(async () => {
    const channel = await connection.createChannel();
    await channel.deleteQueue(QUEUE);
  });

  console.log("Starting the responder and the gateway as child processes...");
  const responder = harness.startChild(
    "responder",
    ["--import", "tsx", fileURLToPath(import.meta.url), "--responder", QUEUE],
    process.env,
    fileURLToPath(new URL("..", import.meta.url)),
  );
  const responderReady = waitForOutput(responder, /"ready":true/, "the responder");
  const { apiKey, principalsFile } = harness.principal(`produce:${EXCHANGE}`);
  const [gateway] = await Promise.all([harness.gateway("gateway", principalsFile), responderReady]);

  // ---------------------------------------------------------------- contenders

  /** `connections` workers, each sending one POST /request at a time over its own keep-alive connection. */
  const gatewayContender = (connections: number): Contender =>
    harness.httpContender(
      `gateway, ${connections} conn`,
      {
        origin: gateway,
        path: "/request",
        headers: { "content-type": "application/json", "x-api-key": apiKey },
        bodies: requestBodies,
        expect: 200,
      },
      connections,
    );

  /** A raw direct reply-to loop: `lanes` requests in flight at most, each waiting for its reply. */
  async function amqplibContender(lanes: number): Promise<Contender> {
    const channel = await connection.createChannel();
    const waiting = new Map<string, (answered: boolean) => void>();
    const settle = (correlationId: string, answered: boolean) => {
      const resolve = waiting.get(correlationId);
      waiting.delete(correlationId);
      resolve?.(answered);
    };
    channel.on("return", (message: ConsumeMessage) => {
      harness.failed(`amqplib: returned unroutable (${message.fields.routingKey})`);
      settle(String(message.properties.correlationId), false);
    });
    await channel.consume(
      DIRECT_REPLY_TO,
      (reply: ConsumeMessage | null) => {
        if (reply !== null) settle(String(reply.properties.correlationId), true);
      },
      { noAck: true },
    );
    // The properties and headers the gateway sends its requests with.
    const roundTrip = (i: number) =>
      new Promise<boolean>((resolve) => {
        const correlationId = randomUUID();
        const timer = setTimeout(() => {
          harness.failed(`amqplib: no reply within ${TIMEOUT_MS} ms`);
          settle(correlationId, false);
        }, TIMEOUT_MS);
        waiting.set(correlationId, (answered) => {
          clearTimeout(timer);
          resolve(answered);
        });
        channel.publish(EXCHANGE, ROUTING_KEY, at(requestBytes, i), {
          persistent: false,
          mandatory: true,
          messageId: correlationId,
          correlationId,
          replyTo: DIRECT_REPLY_TO,
          expiration: String(TIMEOUT_MS),
          contentType: "application/vnd.kronos.avro",
          type: AsyncRequestEvent.name,
          timestamp: Math.floor(Date.now() / 1000),
          headers: {
            "event-type": AsyncRequestEvent.name,
            producer: "bench",
            timestamp: String(Date.now()),
          },
        });
      });
    let next = 0;
    return {
      name: `amqplib direct reply-to, ${lanes} in flight`,
      run: (until, max) => runLanes(lanes, until, max, () => roundTrip(next++)),
    };
  }

  const contenders: Contender[] = [
    gatewayContender(1),
    await amqplibContender(1),
    gatewayContender(CONCURRENCY),
    await amqplibContender(CONCURRENCY),
  ];

  // ---------------------------------------------------------------- run

  console.log(
    `${contenders.length} contenders, ${ROUNDS} rounds (+1 warm-up) of ${TURN_MS / 1000} s turns each, in the same ` +
      `order every round; ${PAYLOADS} distinct AsyncRequests → ${EXCHANGE} "${ROUTING_KEY}", answered by one ` +
      `responder process (prefetch ${RESPONDER_PREFETCH}) with an AsyncResponse`,
  );
  const results = await harness.runRounds(
    contenders,
    { rounds: ROUNDS, turnMs: TURN_MS, maxPerTurn: MAX_PER_TURN },
    started,
  );

  const rate = (name: string) => results.get(name) ?? [];
  printRates(contenders, rate, "round trips/s");
  const rows: RatioRow[] = [
    { label: "serial gateway ÷ raw", a: "gateway, 1 conn", b: "amqplib direct reply-to, 1 in flight", target: 0.5 },
    {
      label: `${CONCURRENCY} concurrent: gateway ÷ raw`,
      a: `gateway, ${CONCURRENCY} conn`,
      b: `amqplib direct reply-to, ${CONCURRENCY} in flight`,
      target: 0.5,
    },
  ];
  printRatios(rows, (a, b) => medianRatio(rate(a), rate(b)));
  harness.printServerCpu();
  harness.printFailures("round trips failed");
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
  await harness.finish(harness.failures > 0 ? 1 : 0);
}
