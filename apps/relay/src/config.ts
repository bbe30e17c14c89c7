import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { type Env, EnvReader, loadServiceConfig, type ServiceConfig, type ServiceDefinition } from "@kronos/app-kit";

/** The relay's name, env prefix (`RELAY_PORT`, `RELAY_HOST`) and default port. */
export const SERVICE: ServiceDefinition = { app: "relay", envPrefix: "RELAY", defaultPort: 3001 };

/** The schemas folder of the repository the relay was built in (src/ or dist/ → ../../../schemas). */
export const DEFAULT_SCHEMAS_DIR = fileURLToPath(new URL("../../../schemas", import.meta.url));

/** The relay's own settings (see README.md "Configuration"). */
export interface RelaySettings {
  /** Folder with the contract manifest whose `x-kronos-relay` routes run (`RELAY_SCHEMAS_DIR`). */
  readonly schemasDir: string;
  /** Ids of the routes to run; empty: all of the manifest's; `none`: none (`RELAY_ROUTES`). */
  readonly routes: readonly string[];
  /** Redis holding the dedup window shared by all instances (`RELAY_REDIS_URL`). */
  readonly redisUrl: string;
  /** This instance's name in the hop headers (`RELAY_INSTANCE_ID`, default `<hostname>-<pid>`). */
  readonly instanceId: string;
  /** Copies a message may make across relays before it is stopped (`RELAY_HOP_LIMIT`). */
  readonly hopLimit: number;
  /** Default dedup window in ms (`RELAY_DEDUP_WINDOW_MS`); a route's `dedupWindowMs` wins. */
  readonly dedupWindowMs: number;
  /** Messages in flight per RabbitMQ source (its prefetch) and per Kafka partition (`RELAY_PREFETCH`). */
  readonly prefetch: number;
  /** Longest wait for a destination's confirm, in ms (`RELAY_PUBLISH_TIMEOUT_MS`). */
  readonly publishTimeoutMs: number;
  /** First and longest pause of a degraded route before it tries again, in ms (`RELAY_BACKOFF_MS`, `RELAY_MAX_BACKOFF_MS`). */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Where a new Kafka consumer group starts (`RELAY_KAFKA_FROM`: earliest or latest). */
  readonly kafkaFromBeginning: boolean;
  /** RabbitMQ management API, for queue depths (`RABBITMQ_MANAGEMENT_URL`). */
  readonly managementUrl: string;
}

/**
 * The relay's configuration: the shared variables, authentication (`RELAY_JWT_*`, `RELAY_PRINCIPALS_FILE`, read by
 * app-kit) and its own.
 */
export type Config = ServiceConfig & { readonly relay: RelaySettings };

/**
 * Reads the relay's configuration from `env` (default `process.env`). Throws a `ConfigError` naming every invalid
 * variable. Variables and defaults: see README.md and the root .env.example.
 */
export function loadConfig(env: Env = process.env): Config {
  const reader = new EnvReader(SERVICE.app, env);
  const service = loadServiceConfig(SERVICE, env, reader);
  const text = (name: string) => env[name]?.trim() || undefined;
  const from = text("RELAY_KAFKA_FROM") ?? "earliest";
  const problems: string[] = [];
  if (from !== "earliest" && from !== "latest") problems.push(`RELAY_KAFKA_FROM="${from}" is not earliest or latest`);
  const instanceId = text("RELAY_INSTANCE_ID") ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9._-]+$/.test(instanceId))
    problems.push(`RELAY_INSTANCE_ID="${instanceId}" must be letters, digits, . _ -`);
  const relay: RelaySettings = {
    schemasDir: text("RELAY_SCHEMAS_DIR") ?? DEFAULT_SCHEMAS_DIR,
    routes: (text("RELAY_ROUTES") ?? "")
      .split(",")
      .map((id) => id.trim())
      .filter((id) => id !== ""),
    redisUrl: reader.url("RELAY_REDIS_URL", "redis://127.0.0.1:6379", ["redis:", "rediss:"]),
    instanceId,
    hopLimit: reader.integer("RELAY_HOP_LIMIT", 4, 1, 100),
    dedupWindowMs: reader.integer("RELAY_DEDUP_WINDOW_MS", 3_600_000, 1000, 30 * 86_400_000),
    prefetch: reader.integer("RELAY_PREFETCH", 256, 1, 65_535),
    publishTimeoutMs: reader.integer("RELAY_PUBLISH_TIMEOUT_MS", 10_000, 100, 600_000),
    backoffMs: reader.integer("RELAY_BACKOFF_MS", 1000, 10, 600_000),
    maxBackoffMs: reader.integer("RELAY_MAX_BACKOFF_MS", 15_000, 10, 3_600_000),
    kafkaFromBeginning: from !== "latest",
    managementUrl: reader.url("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672", ["http:", "https:"]),
  };
  reader.finish(problems);
  return { ...service, relay };
}
