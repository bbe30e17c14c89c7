import type { Env } from "@kronos/app-kit";
import type { AmqpPublisher, KafkaPublisher } from "@kronos/transport";

/**
 * A benchmarking aid, never on by default: `GATEWAY_BENCH_NULL_SINK=1` replaces the broker sends of the publish
 * routes with an immediate acknowledgement, so a benchmark can measure the gateway's own pipeline (HTTP,
 * authentication, validation, encoding with the registry serde) without a broker. Everything else still runs: the
 * Kafka and RabbitMQ connections, readiness, metrics. Used by `packages/benchmarks` (`npm run bench -- publish`).
 * This file is the only place that reads the variable.
 */
export const BENCH_NULL_SINK_VARIABLE = "GATEWAY_BENCH_NULL_SINK";

/**
 * Reads `GATEWAY_BENCH_NULL_SINK`: unset, empty or `0` → false; `1` → true. Pushes a problem naming the variable
 * (so `loadConfig` refuses to start) for any other value, and for `1` when `NODE_ENV=production`: a gateway that
 * answers 202 without writing anything must never run in production.
 */
export function readBenchNullSink(env: Env, problems: string[]): boolean {
  const raw = env[BENCH_NULL_SINK_VARIABLE]?.trim() ?? "";
  if (raw === "" || raw === "0") return false;
  if (raw !== "1") {
    problems.push(`${BENCH_NULL_SINK_VARIABLE}="${raw}" must be 1 or 0 (a benchmarking aid; leave it unset)`);
    return false;
  }
  if (env.NODE_ENV === "production") {
    problems.push(
      `${BENCH_NULL_SINK_VARIABLE}=1 is refused when NODE_ENV=production: it acknowledges messages without sending them`,
    );
    return false;
  }
  return true;
}

/**
 * Publishers that acknowledge at once and send nothing (Kafka acks say partition 0, offset "0"), for
 * {@link BENCH_NULL_SINK_VARIABLE}.
 */
export function nullSinkPublishers(): { kafka: KafkaPublisher; amqp: AmqpPublisher } {
  const kafka: KafkaPublisher = {
    publish: async (record) => ({ topic: record.topic, partition: 0, offset: "0" }),
    publishMany: async (records) => records.map((record) => ({ topic: record.topic, partition: 0, offset: "0" })),
    close: async () => {},
  };
  const amqp: AmqpPublisher = {
    publish: async () => {},
    publishMany: async () => {},
    close: async () => {},
  };
  return { kafka, amqp };
}
