import { fileURLToPath } from "node:url";
import { type Env, EnvReader, loadServiceConfig, type ServiceConfig, type ServiceDefinition } from "@kronos/app-kit";

/** The dlq-manager's name, env prefix (`DLQ_MANAGER_PORT`, `DLQ_MANAGER_HOST`) and default port. */
export const SERVICE: ServiceDefinition = { app: "dlq-manager", envPrefix: "DLQ_MANAGER", defaultPort: 3002 };

/** Defaults of the dlq-manager's own variables: the local stack. */
export const DLQ_DEFAULTS = {
  DLQ_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/kronos_dlq",
  DLQ_CONSUMER_GROUP: "kronos-dlq-manager",
  DLQ_REPLAY_MAX_RATE: 1000,
} as const;

// src/config.ts and dist/config.js both sit two folders below the repository root's apps/.
const REPO_SCHEMAS_DIR = fileURLToPath(new URL("../../../schemas", import.meta.url));

/** Where dead letters are read from, besides the manifest's dead-letter destinations. */
export interface SourceConfig {
  /** Read the dead-letter destinations of the contract manifest (`DLQ_CATALOG_SOURCES`, default true). */
  readonly fromCatalog: boolean;
  /** The schemas folder holding the manifest (`DLQ_SCHEMAS_DIR`, default this repository's `schemas/`). */
  readonly schemasDir: string;
  /** Extra Kafka dead-letter topics (`DLQ_KAFKA_SOURCES`, comma-separated). */
  readonly kafkaTopics: readonly string[];
  /** Extra RabbitMQ dead-letter queues (`DLQ_RABBITMQ_SOURCES`, comma-separated). */
  readonly rabbitmqQueues: readonly string[];
}

/** The dlq-manager's configuration: the shared variables plus its own. */
export interface Config extends ServiceConfig {
  /** PostgreSQL holding the dead letters, jobs and audit (`DLQ_DATABASE_URL`); the database is created if missing. */
  readonly databaseUrl: string;
  /** Kafka consumer group (and consumer name) of custody (`DLQ_CONSUMER_GROUP`). */
  readonly consumerGroup: string;
  readonly sources: SourceConfig;
  /** Highest `ratePerSecond` a replay job may ask for (`DLQ_REPLAY_MAX_RATE`, 1..100000, default 1000). */
  readonly replayMaxRate: number;
}

const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const QUEUE_NAME = /^[^\s,]{1,255}$/;

/**
 * Reads the dlq-manager's configuration from `env` (default `process.env`). Throws a `ConfigError` naming every invalid
 * variable. Variables and defaults: see README.md and the root .env.example.
 */
export function loadConfig(env: Env = process.env): Config {
  const reader = new EnvReader(SERVICE.app, env);
  const base = loadServiceConfig(SERVICE, env, reader);
  const problems: string[] = [];
  const raw = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const list = (name: string, pattern: RegExp, what: string): string[] => {
    const value = raw(name);
    if (value === undefined) return [];
    const items = value.split(",").map((item) => item.trim());
    const bad = items.find((item) => !pattern.test(item));
    if (bad !== undefined) {
      problems.push(`${name}="${value}" is not a comma-separated list of ${what} ("${bad}" is not one)`);
      return [];
    }
    return items;
  };
  const fromCatalogRaw = raw("DLQ_CATALOG_SOURCES") ?? "true";
  if (fromCatalogRaw !== "true" && fromCatalogRaw !== "false") {
    problems.push(`DLQ_CATALOG_SOURCES="${fromCatalogRaw}" is not true or false`);
  }
  const consumerGroup = raw("DLQ_CONSUMER_GROUP") ?? DLQ_DEFAULTS.DLQ_CONSUMER_GROUP;
  if (!KAFKA_TOPIC.test(consumerGroup)) {
    problems.push(`DLQ_CONSUMER_GROUP="${consumerGroup}" is not a consumer group name (letters, digits, . _ -)`);
  }
  const config: Config = {
    ...base,
    databaseUrl: reader.url("DLQ_DATABASE_URL", DLQ_DEFAULTS.DLQ_DATABASE_URL, ["postgres:", "postgresql:"]),
    consumerGroup,
    sources: {
      fromCatalog: fromCatalogRaw !== "false",
      schemasDir: raw("DLQ_SCHEMAS_DIR") ?? REPO_SCHEMAS_DIR,
      kafkaTopics: list("DLQ_KAFKA_SOURCES", KAFKA_TOPIC, "Kafka topics"),
      rabbitmqQueues: list("DLQ_RABBITMQ_SOURCES", QUEUE_NAME, "RabbitMQ queue names"),
    },
    replayMaxRate: reader.integer("DLQ_REPLAY_MAX_RATE", DLQ_DEFAULTS.DLQ_REPLAY_MAX_RATE, 1, 100_000),
  };
  reader.finish(problems);
  return config;
}
