import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { type Env, EnvReader, loadServiceConfig, type ServiceConfig, type ServiceDefinition } from "@kronos/app-kit";
import { readBenchNullSink } from "./plugins/bench-null-sink.js";
import { type PublishConfig, readPublishConfig } from "./publish/config.js";
import { type QueuesConfig, readQueuesConfig } from "./queues/config.js";
import { type RequestConfig, readRequestConfig } from "./request/config.js";
import { readTlsConfig, type TlsConfig } from "./security/tls.js";
import { readSubscribeConfig, type SubscribeConfig } from "./subscribe/config.js";
import { DEFAULT_FORWARD_TIMEOUT_MS } from "./subscribe/forward.js";
import { INSTANCE_ID_PATTERN, newInstanceId } from "./subscribe/handles.js";

/** The gateway's name, env prefix (`GATEWAY_PORT`, `GATEWAY_HOST`) and default port. */
export const SERVICE: ServiceDefinition = { app: "gateway", envPrefix: "GATEWAY", defaultPort: 3000 };

/** Default `GATEWAY_BODY_LIMIT_BYTES`: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Default `GATEWAY_RATE_LIMIT_PER_MINUTE`: requests per principal per minute. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6000;

/** Default `GATEWAY_RATE_LIMIT_SYNC_MS`: how often instances sharing Redis sync their rate-limit counters. */
export const DEFAULT_RATE_LIMIT_SYNC_MS = 100;

/** Default `GATEWAY_HEADERS_TIMEOUT_MS`: longest time to receive a request's headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/** Default `GATEWAY_REQUEST_TIMEOUT_MS`: longest time to receive a whole request, headers and body. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** The gateway's configuration: the shared variables plus authentication, TLS and request limits. */
export interface Config extends ServiceConfig {
  // ServiceConfig's `auth`: `jwt` (`GATEWAY_JWT_*`) and `principalsFile` (`GATEWAY_PRINCIPALS_FILE`).
  /** Certificate and key for HTTPS (`GATEWAY_TLS_CERT` + `GATEWAY_TLS_KEY`); `undefined`: plain HTTP. */
  readonly tls: TlsConfig | undefined;
  /** Largest request body accepted, in bytes (`GATEWAY_BODY_LIMIT_BYTES`, default 1 MiB); larger: 413. */
  readonly bodyLimitBytes: number;
  /** Requests allowed per principal per minute (`GATEWAY_RATE_LIMIT_PER_MINUTE`, default 6000); more: 429. */
  readonly rateLimitPerMinute: number;
  /**
   * With `REDIS_URL`: how often each instance syncs its rate-limit counters with the others'
   * (`GATEWAY_RATE_LIMIT_SYNC_MS`, default 100; see src/security/fixed-window.ts, SharedWindowCounter).
   */
  readonly rateLimitSyncMs: number;
  /**
   * Longest time to receive a request's headers (`GATEWAY_HEADERS_TIMEOUT_MS`, default 10 s) and the whole request
   * with its body (`GATEWAY_REQUEST_TIMEOUT_MS`, default 15 s); slower: 408 `REQUEST_TIMEOUT`, connection closed.
   */
  readonly timeouts: { readonly headersMs: number; readonly requestMs: number };
  /** Queue administration: `RABBITMQ_MANAGEMENT_URL` (see src/queues/config.ts). */
  readonly queues: QueuesConfig;
  /** Publishing: timeout, idempotency window and store, batch size (see src/publish/config.ts). */
  readonly publish: PublishConfig;
  /** Request/reply: the Kafka reply topic (`GATEWAY_REPLY_TOPIC`, see src/request/config.ts). */
  readonly request: RequestConfig;
  /** Subscribing, acks and retries: leases, prefetch, attempts, retry tiers (see src/subscribe/config.ts). */
  readonly subscribe: SubscribeConfig;
  /**
   * This process's gateway instance id, the first part of every handle it issues (`GATEWAY_INSTANCE_ID`, 1–32 of
   * `A-Z a-z 0-9 _ -`; default 8 random characters per start). A cluster worker appends `-w<worker id>`.
   */
  readonly instanceId: string;
  /** Worker processes on the one port (`GATEWAY_WORKERS`: `auto` = the cores, or 1–64; default 1). */
  readonly workers: number;
  /** Longest wait for another instance to answer a forwarded settlement (`GATEWAY_FORWARD_TIMEOUT_MS`, default 5 s). */
  readonly forwardTimeoutMs: number;
  /** Benchmarking aid (`GATEWAY_BENCH_NULL_SINK=1`, refused in production): publish acks without sending. */
  readonly benchNullSink?: boolean;
}

/**
 * Reads the gateway's configuration from `env` (default `process.env`). Throws a `ConfigError` naming every invalid
 * variable; files named by variables (TLS certificate and key, a JWT public key given as a path) are read and
 * checked here, so a bad one stops the app at start. Variables and defaults: see README.md and the root .env.example.
 */
export function loadConfig(env: Env = process.env): Config {
  const reader = new EnvReader(SERVICE.app, env);
  const service = loadServiceConfig(SERVICE, env, reader);
  const bodyLimitBytes = reader.integer("GATEWAY_BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT_BYTES, 1, 1024 ** 3);
  const rateLimitPerMinute = reader.integer("GATEWAY_RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_LIMIT_PER_MINUTE, 1, 1e9);
  const rateLimitSyncMs = reader.integer("GATEWAY_RATE_LIMIT_SYNC_MS", DEFAULT_RATE_LIMIT_SYNC_MS, 10, 10_000);
  const headersMs = reader.integer("GATEWAY_HEADERS_TIMEOUT_MS", DEFAULT_HEADERS_TIMEOUT_MS, 100, 3_600_000);
  const requestMs = reader.integer("GATEWAY_REQUEST_TIMEOUT_MS", DEFAULT_REQUEST_TIMEOUT_MS, 100, 3_600_000);

  const problems: string[] = [];
  if (headersMs > requestMs) {
    problems.push(
      `GATEWAY_HEADERS_TIMEOUT_MS=${headersMs} is longer than GATEWAY_REQUEST_TIMEOUT_MS=${requestMs} (headers are part of the request)`,
    );
  }
  const tls = readTlsConfig(env, problems);
  const queues = readQueuesConfig(reader);
  const publish = readPublishConfig(env, reader);
  const request = readRequestConfig(env, problems);
  const subscribe = readSubscribeConfig(env, reader, problems);
  const benchNullSink = readBenchNullSink(env, problems);
  const forwardTimeoutMs = reader.integer("GATEWAY_FORWARD_TIMEOUT_MS", DEFAULT_FORWARD_TIMEOUT_MS, 100, 60_000);
  const instanceId = readInstanceId(env, problems);
  const workers = readWorkers(env, problems);
  if (workers > 1 && publish.redisUrl === undefined) {
    problems.push(
      `GATEWAY_WORKERS=${env.GATEWAY_WORKERS} runs ${workers} gateway instances, which need REDIS_URL to share deliveries and rate limits (set REDIS_URL, or GATEWAY_WORKERS=1)`,
    );
  }
  reader.finish(problems);

  return {
    ...service,
    tls,
    bodyLimitBytes,
    rateLimitPerMinute,
    rateLimitSyncMs,
    timeouts: { headersMs, requestMs },
    queues,
    publish,
    request,
    subscribe,
    benchNullSink,
    instanceId,
    workers,
    forwardTimeoutMs,
  };
}

function readInstanceId(env: Env, problems: string[]): string {
  const given = env.GATEWAY_INSTANCE_ID?.trim() ?? "";
  if (given !== "" && !INSTANCE_ID_PATTERN.test(given)) {
    problems.push(`GATEWAY_INSTANCE_ID="${given}" must be 1-32 characters of A-Z a-z 0-9 _ - (it starts every handle)`);
  }
  const base = given === "" ? newInstanceId() : given;
  // Workers share the environment: each is an instance of its own.
  return cluster.isWorker && cluster.worker !== undefined ? `${base}-w${cluster.worker.id}`.slice(-32) : base;
}

function readWorkers(env: Env, problems: string[]): number {
  const raw = env.GATEWAY_WORKERS?.trim() ?? "";
  if (raw === "") return 1;
  if (raw === "auto") return availableParallelism();
  if (/^[1-9][0-9]?$/.test(raw) && Number(raw) <= 64) return Number(raw);
  problems.push(`GATEWAY_WORKERS="${raw}" must be auto (one per core) or a whole number from 1 to 64`);
  return 1;
}
