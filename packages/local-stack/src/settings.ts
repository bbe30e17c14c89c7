import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StackError } from "./errors.js";
import { KAFKA_APPS, kafkaUserPaths } from "./kafka-users.js";
import { localTlsPaths } from "./tls.js";

/** The versions in infra/local/versions.json, shared with infra/docker-compose.yml. */
export interface StackVersions {
  kafka: string;
  scala: string;
  apicurio: string;
  rabbitmq: string;
  prometheus: string;
  grafana: string;
  /** PostgreSQL's major version (the dlq-manager's store); the local stack uses the machine's server. */
  postgres: string;
  /** Verdaccio, the stack's npm registry (6.8 is the newest that runs on Node 20). */
  verdaccio: string;
}

/** Where things live and which ports they use. Built once from the environment by {@link loadSettings}. */
export interface StackSettings {
  /** The repository's infra/local folder: templates and versions. */
  infraDir: string;
  /** Downloads (Kafka jars, Apicurio), kept across clones. `KRONOS_CACHE_DIR`, default `~/.cache/kronos`. */
  cacheDir: string;
  /** Data, logs and pid files. `KRONOS_STATE_DIR`, default `~/.local/state/kronos`. */
  stateDir: string;
  versions: StackVersions;
  kafkaPort: number;
  /**
   * The port Kafka tells its clients to use (`advertised.listeners`), default {@link kafkaPort}: another one puts a
   * TCP proxy in front of Kafka for every connection a client makes (the battery's network faults).
   */
  kafkaAdvertisedPort: number;
  kafkaControllerPort: number;
  /**
   * Kafka's SASL_SSL listener (TLS from the stack's local CA, SCRAM users per app, ACLs): `KRONOS_KAFKA_SASL_PORT`,
   * default {@link kafkaPort} + 2 (9094). Node `i` of a cluster listens on it + 10 × i.
   */
  kafkaSaslPort: number;
  /**
   * Kafka nodes (KRaft, each broker and controller in its own process): 1 (the default) or 3 to 5, a cluster with
   * replication (`KRONOS_KAFKA_NODES`, or `up --kafka-nodes N`). Node `i` (0-based) listens on
   * {@link kafkaPort} + 10 × i and {@link kafkaControllerPort} + 10 × i.
   */
  kafkaNodes: number;
  registryPort: number;
  /** The npm registry (Verdaccio) that `npm run release` publishes the typed packages to. `KRONOS_NPM_REGISTRY_PORT`. */
  npmRegistryPort: number;
  /** The RabbitMQ the stack checks (and starts, if installed and stopped). `RABBITMQ_URL`. */
  rabbitmqUrl: string;
  /** RabbitMQ's management API. `RABBITMQ_MANAGEMENT_URL`. */
  rabbitmqManagementUrl: string;
  /** The amqps listener (stunnel in front of {@link rabbitmqUrl}). `KRONOS_RABBITMQ_TLS_PORT`, default 5671. */
  rabbitmqTlsPort: number;
  /** HTTPS in front of the management API (same stunnel). `KRONOS_RABBITMQ_MANAGEMENT_TLS_PORT`, default 15671. */
  rabbitmqManagementTlsPort: number;
  /** Maximum heap of each Java service, e.g. `768m`. `KRONOS_JAVA_HEAP`. */
  javaHeap: string;
}

// dist/settings.js -> packages/local-stack -> repository root.
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new StackError(`${name}="${raw}" is not a TCP port: use a whole number between 1 and 65535.`);
  }
  return value;
}

function kafkaNodes(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || !(value === 1 || (value >= 3 && value <= 5))) {
    throw new StackError(
      `KRONOS_KAFKA_NODES="${raw}" is not a cluster size: use 1, or 3 to 5 (a quorum of controllers needs a majority).`,
    );
  }
  return value;
}

/** Node `index`'s (0-based) plaintext listener, controller and SASL_SSL listener ports. */
export function kafkaNodePorts(
  settings: StackSettings,
  index: number,
): { port: number; controllerPort: number; saslPort: number } {
  return {
    port: settings.kafkaPort + 10 * index,
    controllerPort: settings.kafkaControllerPort + 10 * index,
    saslPort: settings.kafkaSaslPort + 10 * index,
  };
}

/**
 * Reads the stack's settings from the environment, with defaults for the local machine.
 * @throws StackError when a variable holds an invalid value (the message names it).
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const infraDir = join(repoRoot, "infra", "local");
  let versions: StackVersions;
  try {
    versions = JSON.parse(readFileSync(join(infraDir, "versions.json"), "utf8")) as StackVersions;
  } catch (error) {
    throw new StackError(`cannot read ${join(infraDir, "versions.json")}: ${(error as Error).message}`);
  }
  const kafkaPort = port(env, "KRONOS_KAFKA_PORT", 9092);
  return {
    infraDir,
    cacheDir: env.KRONOS_CACHE_DIR || join(homedir(), ".cache", "kronos"),
    stateDir: env.KRONOS_STATE_DIR || join(homedir(), ".local", "state", "kronos"),
    versions,
    kafkaPort,
    kafkaAdvertisedPort: port(env, "KRONOS_KAFKA_ADVERTISED_PORT", kafkaPort),
    kafkaControllerPort: port(env, "KRONOS_KAFKA_CONTROLLER_PORT", 9093),
    kafkaSaslPort: port(env, "KRONOS_KAFKA_SASL_PORT", Math.min(kafkaPort + 2, 65535)),
    kafkaNodes: kafkaNodes(env.KRONOS_KAFKA_NODES),
    registryPort: port(env, "KRONOS_REGISTRY_PORT", 8081),
    npmRegistryPort: port(env, "KRONOS_NPM_REGISTRY_PORT", 4873),
    rabbitmqUrl: env.RABBITMQ_URL || "amqp://guest:guest@127.0.0.1:5672",
    rabbitmqManagementUrl: env.RABBITMQ_MANAGEMENT_URL || "http://guest:guest@127.0.0.1:15672",
    rabbitmqTlsPort: port(env, "KRONOS_RABBITMQ_TLS_PORT", 5671),
    rabbitmqManagementTlsPort: port(env, "KRONOS_RABBITMQ_MANAGEMENT_TLS_PORT", 15671),
    javaHeap: env.KRONOS_JAVA_HEAP || "768m",
  };
}

/** The addresses clients use, as printed by `up` and `status`. */
export function endpoints(settings: StackSettings) {
  const nodes = Array.from({ length: settings.kafkaNodes }, (_, index) => kafkaNodePorts(settings, index));
  return {
    kafkaBrokers: nodes.map((node) => `127.0.0.1:${node.port}`).join(","),
    /**
     * Kafka's SASL_SSL listener: its bootstrap brokers, the CA file that signed its certificate
     * (`KAFKA_SSL_CA_FILE`), and each app's SCRAM user and the file holding its password
     * (`KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD_FILE`), plus the stack's admin user (allowed everything).
     */
    kafkaSecure: {
      brokers: nodes.map((node) => `127.0.0.1:${node.saslPort}`).join(","),
      caFile: localTlsPaths(settings).caFile,
      /** A CA that signed nothing the stack serves: for tests of an untrusted broker certificate. */
      untrustedCaFile: localTlsPaths(settings).untrustedCaFile,
      users: Object.fromEntries(KAFKA_APPS.map((app) => [app, kafkaUserPaths(settings, app)])) as Record<
        (typeof KAFKA_APPS)[number],
        { username: string; passwordFile: string }
      >,
      admin: kafkaUserPaths(settings, "admin"),
      mechanism: "SCRAM-SHA-512" as const,
    },
    registryUrl: `http://127.0.0.1:${settings.registryPort}/apis/ccompat/v7`,
    npmRegistryUrl: `http://127.0.0.1:${settings.npmRegistryPort}/`,
    rabbitmqUrl: settings.rabbitmqUrl,
    rabbitmqManagementUrl: settings.rabbitmqManagementUrl,
    /** amqps through the stack's TLS terminator, no login: each app's user is in {@link rabbitmqAppUser}. */
    rabbitmqTlsUrl: `amqps://localhost:${settings.rabbitmqTlsPort}`,
    /** The management API over HTTPS, no login. */
    rabbitmqManagementTlsUrl: `https://localhost:${settings.rabbitmqManagementTlsPort}`,
  };
}
