// Scenario 6: the built dlq-manager takes custody of RabbitMQ dead letters (rejected by a consumer, `x-death`), then
// replays all of them to their original queue as a job, and is killed with SIGKILL three times mid-job (restarted on
// the same database each time). Every dead letter must reach its queue at least once; every one marked `replayed`
// must be there (none marked without the broker's confirm); a copy may repeat only the send in flight at each kill.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServerProcess, waitForHttp } from "@kronos/app-kit/testing/process";
import { RegistrySerde } from "@kronos/contracts";
import pg from "pg";
import { stack } from "../harness.js";
import { framedAlert } from "./bodies.js";
import { type BatteryContext, pollUntil, sleep } from "./context.js";
import { Ledger } from "./ledger.js";
import { drainQueueBack } from "./readback.js";
import { countColumns, type ScenarioResult } from "./report.js";

const managerDist = dirname(fileURLToPath(import.meta.resolve("@kronos/dlq-manager")));
/** The PostgreSQL server of the local stack (the scenario creates and drops a database of its own there). */
const DATABASE_SERVER = process.env.DLQ_TEST_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432";
/** Job progress (share of the dead letters sent) at which the manager is killed. */
const KILLS = [0.25, 0.5, 0.75];

interface JobView {
  readonly state: string;
  readonly progress: { pending: number; sent: number; skipped: number; failed: number };
}

export async function dlqCrash(context: BatteryContext): Promise<ScenarioResult> {
  const { size, harness, run } = context;
  const total = size === "full" ? 10_000 : 600;
  const ratePerSecond = size === "full" ? 1000 : 60;
  const prefix = `${run}-dlq-`;
  const ledger = new Ledger();
  const problems: string[] = [];
  const queue = `kronos.battery.dlq.${run}`;
  const deadLetters = `${queue}.dlq`;
  const database = `kronos_battery_${run.replace(/[^a-z0-9]/g, "_")}`;
  const operator = {
    "x-api-key": harness.addPrincipal(context.principalsFile, `${run}-dlq-operator`, "dlq:read,dlq:replay,produce:*"),
  };

  // The original queue dead-letters what its consumer rejects into `<queue>.dlq` (RabbitMQ's own `x-death`).
  const connection = await harness.amqplib();
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(deadLetters, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      "x-queue-type": "quorum",
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": deadLetters,
    },
  });
  harness.onCleanup(async () => {
    const cleanup = await (await harness.amqplib()).createChannel();
    await cleanup.deleteQueue(queue);
    await cleanup.deleteQueue(deadLetters);
  });
  harness.onCleanup(async () => {
    const client = new pg.Client({ connectionString: `${DATABASE_SERVER}/postgres` });
    await client.connect();
    await client
      .query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`)
      .finally(() => client.end());
  });

  const started = performance.now();
  const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });
  for (let from = 0; from < total; from += 500) {
    const batch = Array.from({ length: Math.min(500, total - from) }, (_, i) => `${prefix}${from + i}`);
    for (const id of batch) {
      const body = await framedAlert(serde, id, "dead-lettered and replayed by the reliability battery");
      channel.sendToQueue(queue, body, { persistent: true, messageId: id, contentType: "application/vnd.kronos+avro" });
      ledger.sent(id);
    }
    await channel.waitForConfirms();
  }
  // The consumer rejects every one of them.
  let rejected = 0;
  const rejecting = await channel.consume(queue, (message) => {
    if (!message) return;
    channel.nack(message, false, false);
    rejected++;
  });
  const deadline = performance.now() + 120_000;
  while (rejected < total && performance.now() < deadline) await sleep(100);
  await channel.cancel(rejecting.consumerTag);
  if (rejected < total) problems.push(`only ${rejected} of ${total} dead-lettered by the rejecting consumer`);

  let manager: ServerProcess | undefined;
  let origin = "";
  const startManager = async (): Promise<void> => {
    const port = await freePort();
    manager = startServerProcess(join(managerDist, "server.js"), {
      KAFKA_BROKERS: stack.kafkaBrokers,
      SCHEMA_REGISTRY_URL: stack.registryUrl,
      RABBITMQ_URL: stack.rabbitmqUrl,
      RABBITMQ_MANAGEMENT_URL: stack.rabbitmqManagementUrl,
      LOG_LEVEL: "warn",
      DLQ_MANAGER_PORT: String(port),
      DLQ_DATABASE_URL: `${DATABASE_SERVER}/${database}`,
      DLQ_CATALOG_SOURCES: "false",
      DLQ_RABBITMQ_SOURCES: deadLetters,
      DLQ_MANAGER_PRINCIPALS_FILE: context.principalsFile,
    });
    origin = `http://127.0.0.1:${port}`;
    await waitForHttp(`${origin}/healthz`, 60_000).catch((error: unknown) => {
      manager?.kill("SIGKILL");
      throw new Error(`the dlq-manager did not start: ${String(error)}\n${manager?.stderr().slice(-2000)}`);
    });
  };
  harness.onCleanup(async () => {
    manager?.kill("SIGKILL");
    await manager?.exited;
  });
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${origin}${path}`, { headers: operator, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  /** Polls `read` until it gives a value; a problem when it did not within `limitMs`. */
  const until = async <T>(read: () => Promise<T | undefined>, limitMs: number, what: string) => {
    const value = await pollUntil(read, limitMs);
    if (value === undefined) problems.push(`${what}: not within ${limitMs / 1000} s`);
    return value;
  };
  await startManager();

  // Custody: every dead letter stored.
  const filter = `source=${encodeURIComponent(deadLetters)}`;
  await until(
    async () => {
      const { groups } = await get<{ groups: Array<{ count: number }> }>(`/dead-letters/groups?${filter}`);
      return groups.reduce((sum, group) => sum + group.count, 0) >= total ? true : undefined;
    },
    180_000,
    `custody of ${total} dead letters`,
  );

  // The replay job, to the original queue (the default: where `x-death` says it was).
  const created = await fetch(`${origin}/replays`, {
    method: "POST",
    headers: { ...operator, "content-type": "application/json" },
    body: JSON.stringify({ filter: { source: deadLetters }, ratePerSecond }),
  });
  if (created.status !== 201) throw new Error(`POST /replays: ${created.status} ${await created.text()}`);
  const { id: jobId } = (await created.json()) as { id: string };
  const job = () => get<JobView>(`/replays/${jobId}`);
  let kills = 0;
  if (context.faults) {
    for (const share of KILLS) {
      const reached = await until(
        async () => ((await job()).progress.sent >= total * share ? true : undefined),
        180_000,
        `${share * 100}% of the job sent`,
      );
      if (!reached) break;
      manager?.kill("SIGKILL");
      await manager?.exited;
      kills++;
      await startManager();
    }
  }
  const finished = await until(
    async () => {
      const current = await job();
      return current.state === "completed" ? current : undefined;
    },
    600_000,
    "the job to complete after the last restart",
  );
  if (finished && finished.progress.sent !== total) {
    problems.push(`the job ended with ${JSON.stringify(finished.progress)}, not ${total} sent`);
  }

  // What the manager marked replayed: each must be in the queue (read back below).
  let cursor: string | undefined;
  do {
    const page = await get<{ items: Array<{ messageId: string | null }>; nextCursor?: string }>(
      `/dead-letters?${filter}&state=replayed&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    for (const item of page.items) if (item.messageId) ledger.acknowledged(item.messageId);
    cursor = page.nextCursor;
  } while (cursor);
  manager?.kill("SIGTERM");
  await manager?.exited;
  manager = undefined;
  await drainQueueBack({ connection: await harness.amqplib(), queue, prefix, ledger, timeoutMs: 180_000 });

  const counts = ledger.counts();
  if (counts.lost > 0) problems.push(`marked replayed, not in the queue: ${ledger.missing().slice(0, 5).join(", ")}`);
  if (counts.readBack < total) problems.push(`${total - counts.readBack} dead letters never reached their queue`);
  // A job sends a batch at a time (a tenth of a second's worth, at most 256), then marks it: a kill may repeat the
  // batch in flight.
  const batch = Math.max(1, Math.min(256, Math.floor(ratePerSecond / 10)));
  if (counts.duplicated > kills * batch) {
    problems.push(`${counts.duplicated} arrived twice after ${kills} kills (batches of ${batch})`);
  }
  return {
    scenario: "dlq-crash",
    load: `${total.toLocaleString("en-US")} RabbitMQ dead letters (x-death) replayed at ≤ ${ratePerSecond}/s`,
    faults: context.faults
      ? `kill -9 the dlq-manager at ${KILLS.slice(0, kills)
          .map((s) => `${s * 100}%`)
          .join(", ")} of the job`
      : "none (--no-faults)",
    ...countColumns(counts),
    serverErrors: 0,
    problems,
    details: { kills, duplicateBound: kills * batch, elapsedMs: Math.round(performance.now() - started) },
  };
}
