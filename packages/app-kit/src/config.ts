import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { type RegistrySettings, secretSetting } from "@kronos/contracts";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "@kronos/observability";
import { type AuthConfig, readAuthConfig } from "./auth/config.js";
import { type KafkaSecurityConfig, readKafkaSecurity } from "./config-kafka.js";
import { type RabbitmqConfig, readRabbitmqConfig } from "./config-rabbitmq.js";
import { readSchemaRegistryConfig } from "./config-registry.js";

/** Defaults of the shared variables: the local stack (`npm run stack -- up`). */
export const DEFAULTS = {
  KAFKA_BROKERS: "127.0.0.1:9092",
  SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081/apis/ccompat/v7",
  RABBITMQ_URL: "amqp://guest:guest@127.0.0.1:5672",
  LOG_LEVEL: "info",
  HOST: "127.0.0.1",
} as const;

/**
 * Thrown when environment variables are invalid. `problems` holds one sentence per variable, each naming it
 * (`GATEWAY_PORT="abc" is not a port ...`); `message` lists them all. Carries no cause: it is meant to be
 * printed as is, without a stack trace.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** Stable code. */
  readonly code = "INVALID_CONFIG";
  /** One sentence per invalid variable. */
  readonly problems: readonly string[];

  constructor(app: string, problems: readonly string[]) {
    super(`${app}: invalid configuration\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/** The environment as `process.env` gives it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Hides the password of a URL-like value before it is quoted in an error message. */
function redact(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

/**
 * Reads and validates environment variables, collecting every problem instead of stopping at the first, so one
 * start shows everything that is wrong. A variable that is unset or empty takes its default. Call
 * {@link EnvReader.finish} after the last read: it throws a {@link ConfigError} when anything was invalid.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #app: string;
  readonly #problems: string[] = [];

  /** `app` names the app in the {@link ConfigError} message. */
  constructor(app: string, env: Env) {
    this.#app = app;
    this.#env = env;
  }

  #raw(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  #problem(name: string, value: string, what: string): void {
    this.#problems.push(`${name}="${redact(value)}" ${what}`);
  }

  /** A free-text value (trimmed), or `undefined` when unset or empty. */
  optional(name: string): string | undefined {
    return this.#raw(name);
  }

  /** A TCP port, 0-65535 (0: any free port). */
  port(name: string, fallback: number): number {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(port) || port > 65535) {
      this.#problem(name, raw, "is not a port (an integer from 0 to 65535)");
      return fallback;
    }
    return port;
  }

  /** A host name or IP address to listen on (`0.0.0.0` for every interface). */
  host(name: string, fallback: string): string {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    if (!/^[A-Za-z0-9._:-]+$/.test(raw) && !/^\[[0-9A-Fa-f:.]+\]$/.test(raw)) {
      this.#problem(name, raw, "is not a host name or IP address");
      return fallback;
    }
    return raw;
  }

  /** An integer within [min, max]. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.#problem(name, raw, `is not an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  /** An absolute URL whose scheme is one of `protocols` (e.g. `["http:", "https:"]`); trailing `/` removed. */
  url(name: string, fallback: string, protocols: readonly string[]): string {
    const raw = this.#raw(name) ?? fallback;
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !protocols.includes(parsed.protocol) || !parsed.hostname) {
      const schemes = protocols.map((p) => `${p}//`).join(" or ");
      this.#problem(name, raw, `is not an ${schemes} URL`);
      return fallback;
    }
    return raw.replace(/\/+$/, "");
  }

  /** A comma-separated list of `host:port` (Kafka bootstrap brokers). */
  brokers(name: string, fallback: string): string[] {
    const raw = this.#raw(name) ?? fallback;
    const brokers = raw.split(",").map((b) => b.trim());
    const bad = brokers.find((b) => {
      const match = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(b);
      return !match || Number(match[2]) < 1 || Number(match[2]) > 65535;
    });
    if (bad !== undefined) {
      this.#problem(name, raw, `is not a comma-separated list of host:port brokers ("${bad}" is not host:port)`);
      return fallback.split(",");
    }
    return brokers;
  }

  /**
   * A secret: `name`'s value, or the contents of the file `<name>_FILE` names (Docker and Kubernetes secrets; one
   * trailing newline dropped). Setting both is a problem (which one wins would be a guess), as is a `_FILE` that
   * cannot be read or is empty. `undefined` when neither is set. Problems quote the variable's name, never the secret.
   */
  secret(name: string): string | undefined {
    // One reader of *_FILE secrets for the apps and the registry CLIs: @kronos/contracts' secretSetting.
    const { value, problem } = secretSetting(this.#env, name);
    if (problem !== undefined) this.#problems.push(problem);
    return value;
  }

  /**
   * The path of a file that must exist and be readable (a CA bundle, a certificate, a key), made absolute against
   * the working directory; `undefined` when unset.
   */
  readableFile(name: string): string | undefined {
    const raw = this.#raw(name);
    if (raw === undefined) return undefined;
    const path = isAbsolute(raw) ? raw : resolve(raw);
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      this.#problem(name, raw, `is not a readable file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
      return undefined;
    }
    return path;
  }

  /** One of `choices` (compared as written), or `fallback` when unset. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      this.#problem(name, raw, `is not one of ${choices.join(", ")}`);
      return fallback;
    }
    return raw as T;
  }

  /** Records a problem of the app's own (a combination of variables that does not work), reported by {@link finish}. */
  problem(sentence: string): void {
    this.#problems.push(sentence);
  }

  /** A log level, one of {@link LOG_LEVELS}. */
  logLevel(name: string, fallback: LogLevel): LogLevel {
    const raw = this.#raw(name);
    if (raw === undefined) return fallback;
    if (!isLogLevel(raw)) {
      this.#problem(name, raw, `is not a log level (one of ${LOG_LEVELS.join(", ")})`);
      return fallback;
    }
    return raw;
  }

  /**
   * An app's authentication settings, `<prefix>_JWT_*` and `<prefix>_PRINCIPALS_FILE` (see `readAuthConfig`); their
   * problems are reported by {@link finish} with the others.
   */
  auth(prefix: string): AuthConfig {
    return readAuthConfig(this.#env, this.#problems, prefix);
  }

  /**
   * Throws a {@link ConfigError} listing every problem found so far, then `appProblems` (the app's own checks, in
   * the same message); does nothing when there is none.
   */
  finish(appProblems: readonly string[] = []): void {
    const problems = [...this.#problems, ...appProblems];
    if (problems.length > 0) throw new ConfigError(this.#app, problems);
  }
}

/** Which app a {@link ServiceConfig} is for, and the names of its own variables. */
export interface ServiceDefinition {
  /** The app's name: `gateway`, `relay`, `dlq-manager`. In every log line and metric. */
  readonly app: string;
  /** Prefix of its own variables: `GATEWAY` gives `GATEWAY_PORT`, `GATEWAY_HOST`. */
  readonly envPrefix: string;
  /** Its default port. */
  readonly defaultPort: number;
}

/** The configuration every Kronos app has, validated. */
export interface ServiceConfig {
  /** The app's name. */
  readonly app: string;
  /** Interface to listen on (`<PREFIX>_HOST`, default 127.0.0.1). */
  readonly host: string;
  /** Port to listen on (`<PREFIX>_PORT`). */
  readonly port: number;
  /** Minimum log level (`LOG_LEVEL`, default info). */
  readonly logLevel: LogLevel;
  /** Kafka bootstrap brokers (`KAFKA_BROKERS`, default 127.0.0.1:9092). */
  readonly kafkaBrokers: readonly string[];
  /** How the app reaches Kafka: `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_SSL_*` (see `readKafkaSecurity`). */
  readonly kafkaSecurity: KafkaSecurityConfig;
  /** Confluent-compatible registry base URL (`SCHEMA_REGISTRY_URL`), no trailing slash, no credentials. */
  readonly schemaRegistryUrl: string;
  /**
   * The whole registry connection: the URL, credentials (`SCHEMA_REGISTRY_USERNAME` + `SCHEMA_REGISTRY_PASSWORD`,
   * or `SCHEMA_REGISTRY_TOKEN`, each secret also as `_FILE`) and CA (`SCHEMA_REGISTRY_CA_FILE`). Give it to every
   * `RegistrySerde` / `ConfluentRegistryClient` the app makes.
   */
  readonly schemaRegistry: RegistrySettings;
  /** RabbitMQ URL (`RABBITMQ_URL`, default amqp://guest:guest@127.0.0.1:5672). */
  readonly rabbitmqUrl: string;
  /** RabbitMQ's TLS files and login (`RABBITMQ_SSL_*`, `RABBITMQ_USERNAME`, `RABBITMQ_PASSWORD[_FILE]`). */
  readonly rabbitmq: RabbitmqConfig;
  /** Authentication: `<PREFIX>_JWT_*` and `<PREFIX>_PRINCIPALS_FILE` (see `authPlugin`, `readAuthConfig`). */
  readonly auth: AuthConfig;
}

/**
 * Reads the shared variables (`KAFKA_BROKERS` and `KAFKA_SASL_*`/`KAFKA_SSL_*`, `SCHEMA_REGISTRY_*`, `RABBITMQ_URL` and
 * its `RABBITMQ_*` companions, `LOG_LEVEL`) and the app's
 * own `<PREFIX>_HOST` / `<PREFIX>_PORT` / `<PREFIX>_JWT_*` / `<PREFIX>_PRINCIPALS_FILE` from `env` (default `process.env`). Apps with more variables pass their
 * own {@link EnvReader} and read them before calling `finish()`. Throws a {@link ConfigError} naming every invalid
 * variable (unless `reader` is given: then the caller's `finish()` throws).
 */
export function loadServiceConfig(
  definition: ServiceDefinition,
  env: Env = process.env,
  reader?: EnvReader,
): ServiceConfig {
  const read = reader ?? new EnvReader(definition.app, env);
  const prefix = definition.envPrefix;
  const rabbitmqUrl = read.url("RABBITMQ_URL", DEFAULTS.RABBITMQ_URL, ["amqp:", "amqps:"]);
  const schemaRegistry = readSchemaRegistryConfig(read, env);
  const config: ServiceConfig = {
    app: definition.app,
    host: read.host(`${prefix}_HOST`, DEFAULTS.HOST),
    port: read.port(`${prefix}_PORT`, definition.defaultPort),
    logLevel: read.logLevel("LOG_LEVEL", DEFAULTS.LOG_LEVEL),
    kafkaBrokers: read.brokers("KAFKA_BROKERS", DEFAULTS.KAFKA_BROKERS),
    kafkaSecurity: readKafkaSecurity(read, env),
    schemaRegistryUrl: schemaRegistry.url,
    schemaRegistry,
    rabbitmqUrl,
    rabbitmq: readRabbitmqConfig(read, rabbitmqUrl),
    auth: read.auth(prefix),
  };
  if (!reader) read.finish();
  return config;
}
