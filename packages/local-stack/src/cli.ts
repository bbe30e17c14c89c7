#!/usr/bin/env node
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { StackError } from "./errors.js";
import { killKafkaNode } from "./services/kafka.js";
import { endpoints, loadSettings } from "./settings.js";
import {
  ensureStackUp,
  killService,
  logFileOf,
  type ServiceName,
  services,
  stackStatus,
  startService,
  stopService,
  stopStack,
} from "./stack.js";
import { localTlsPaths } from "./tls.js";

const USAGE = `kronos-stack: Kafka, Apicurio Registry, RabbitMQ and an npm registry as local processes (no Docker)

Usage: kronos-stack <command>        (from the repository root: npm run stack -- <command>)

Commands:
  up [service] [--kafka-nodes N]
                          Download what is missing (once), start what is not running, wait until every
                          service answers, print the endpoints. Safe to run again. With a service name,
                          only that one (e.g. a second Kafka under another KRONOS_STATE_DIR and ports).
                          --kafka-nodes 3 (3 to 5): Kafka as a cluster of that many KRaft nodes, each its
                          own process and ports (node i on KRONOS_KAFKA_PORT + 10 × i), with replication;
                          the same as KRONOS_KAFKA_NODES=3, which status, kill and down then need too.
  down                    Stop the processes 'up' started (Kafka, the registry, the npm registry, and
                          RabbitMQ only if 'up' started it). Data is kept.
  status                  What runs where. Exit code 0 when every service answers, 1 otherwise.
  logs [service] [-n N] [-f]
                          Show the last N (default 50) lines of a service's log; -f follows it.
  restart <service>       Stop then start one service: kafka | registry | rabbitmq-tls | npm-registry.
  kill <service> [--node N]
                          SIGKILL one service's process, as a crash would (kafka | registry | rabbitmq |
                          rabbitmq-tls | npm-registry);
                          'up' starts it again. For fault tests. --node N: only Kafka node N of a cluster.
  help                    This text.

Environment:
  KRONOS_CACHE_DIR        downloads (default ~/.cache/kronos)
  KRONOS_STATE_DIR        data, logs and pid files (default ~/.local/state/kronos)
  KRONOS_KAFKA_PORT       Kafka's listener (default 9092); KRONOS_KAFKA_CONTROLLER_PORT (default 9093)
  KRONOS_KAFKA_SASL_PORT  Kafka's SASL_SSL listener (default KRONOS_KAFKA_PORT + 2, i.e. 9094)
  KRONOS_KAFKA_NODES      Kafka's nodes: 1 (default), or 3 to 5 for a cluster with replication
  KRONOS_REGISTRY_PORT    Apicurio Registry (default 8081)
  KRONOS_NPM_REGISTRY_PORT
                          the npm registry, Verdaccio (default 4873): npm run release publishes there
  KRONOS_JAVA_HEAP        maximum heap of each Java service (default 768m)
  RABBITMQ_URL            default amqp://guest:guest@127.0.0.1:5672
  RABBITMQ_MANAGEMENT_URL default http://guest:guest@127.0.0.1:15672 (an administrator: up makes the apps' users)
  KRONOS_RABBITMQ_TLS_PORT
                          RabbitMQ's amqps listener, stunnel in front of RABBITMQ_URL (default 5671)
  KRONOS_RABBITMQ_MANAGEMENT_TLS_PORT
                          HTTPS in front of the management API, same stunnel (default 15671)
  DLQ_DATABASE_URL        the PostgreSQL checked (default postgres://postgres@127.0.0.1:5432/kronos_dlq)`;

async function printEndpoints(): Promise<void> {
  const settings = loadSettings();
  const e = endpoints(settings);
  console.log(`
Kafka                  ${e.kafkaBrokers}
Kafka SASL_SSL         ${e.kafkaSecure.brokers}   (SCRAM-SHA-512/256, CA ${e.kafkaSecure.caFile})
Kafka users            ${Object.values(e.kafkaSecure.users)
    .map((u) => u.username)
    .join(", ")}, ${e.kafkaSecure.admin.username} (admin); passwords in ${dirname(e.kafkaSecure.admin.passwordFile)}
Schema registry        ${e.registryUrl}   (Confluent-compatible API of Apicurio Registry)
RabbitMQ               ${e.rabbitmqUrl.replace(/:[^:@/]+@/, ":***@")}
RabbitMQ management    ${e.rabbitmqManagementUrl.replace(/:[^:@/]+@/, ":***@")}
RabbitMQ over TLS      ${e.rabbitmqTlsUrl}   (CA ${localTlsPaths(settings).caFile}; users kronos-<app>, passwords in ${join(settings.stateDir, "rabbitmq", "users")})
RabbitMQ mgmt (HTTPS)  ${e.rabbitmqManagementTlsUrl}
npm registry           ${e.npmRegistryUrl}   (Verdaccio: @kronos/* packages, the rest proxied)
Logs and data          ${settings.stateDir}`);
}

async function status(): Promise<number> {
  const rows = await stackStatus();
  for (const row of rows) {
    const state = row.ready ? "ready" : row.pid !== undefined ? "not answering" : "stopped";
    const owner = row.managed ? `started by the stack${row.pid !== undefined ? `, pid ${row.pid}` : ""}` : "machine's";
    console.log(`${row.name.padEnd(12)} ${state.padEnd(14)} ${row.endpoint.padEnd(44)} ${row.detail ?? ""} (${owner})`);
  }
  return rows.every((row) => row.ready) ? 0 : 1;
}

function logs(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { lines: { type: "string", short: "n", default: "50" }, follow: { type: "boolean", short: "f" } },
  });
  const names = (positionals.length > 0 ? positionals : ["kafka", "registry"]) as ServiceName[];
  const files: string[] = [];
  for (const name of names) {
    if (name === "rabbitmq") {
      console.log("rabbitmq: the machine's RabbitMQ logs under its own folder (usually /var/log/rabbitmq/).");
      continue;
    }
    const file = logFileOf(name);
    if (!file) throw new StackError(`unknown service "${name}": choose kafka, registry or npm-registry.`);
    if (existsSync(file)) files.push(file);
    else console.log(`${name}: no log yet (${file}); it appears after the first 'up'.`);
  }
  if (files.length === 0) return;
  spawn("tail", ["-n", values.lines, ...(values.follow ? ["-F"] : []), ...files], { stdio: "inherit" });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "up": {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { "kafka-nodes": { type: "string" } },
      });
      if (values["kafka-nodes"] !== undefined) process.env.KRONOS_KAFKA_NODES = values["kafka-nodes"];
      const only = positionals[0] as ServiceName | undefined;
      if (only !== undefined) {
        if (!services.some((s) => s.name === only)) {
          throw new StackError(`up takes no service or one of: ${services.map((s) => s.name).join(", ")}.`);
        }
        await startService(only);
        console.log(`${only} is up`);
        return 0;
      }
      await ensureStackUp(undefined, (name) => console.log(`• ${name}`));
      await printEndpoints();
      return 0;
    }
    case "down":
      await stopStack();
      console.log("stopped the processes the stack started (data kept)");
      return 0;
    case "status":
      return status();
    case "logs":
      logs(args);
      return 0;
    case "restart": {
      const name = args[0] as ServiceName | undefined;
      if (!name || !services.some((s) => s.name === name) || name === "rabbitmq") {
        throw new StackError("restart needs a service: kafka, registry, rabbitmq-tls or npm-registry.");
      }
      await stopService(name);
      await startService(name);
      console.log(`${name} restarted`);
      return 0;
    }
    case "kill": {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { node: { type: "string" } },
      });
      const name = positionals[0] as ServiceName | undefined;
      if (!name || !services.some((s) => s.name === name) || name === "postgres") {
        throw new StackError("kill needs a service: kafka, registry, rabbitmq, rabbitmq-tls or npm-registry.");
      }
      if (values.node !== undefined && name !== "kafka") throw new StackError("--node is for kafka only.");
      const pid =
        values.node === undefined ? await killService(name) : await killKafkaNode(loadSettings(), Number(values.node));
      console.log(pid === undefined ? `${name} was not running` : `${name} killed (pid ${pid}); 'up' starts it again`);
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return 0;
    default:
      console.error(USAGE);
      throw new StackError(`unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Errors the user can act on are printed alone; anything else is a bug, shown with its stack.
    if (error instanceof StackError) console.error(`\n✖ ${error.message}`);
    else console.error(error);
    process.exitCode = 1;
  },
);
