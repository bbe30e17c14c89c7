import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { ensureKafkaJars, requireTool } from "../downloads.js";
import { StackError } from "../errors.js";
import { ensureKafkaPasswords, KAFKA_ADMIN_USER, kafkaUsersDir } from "../kafka-users.js";
import { assertPortFree, waitUntil } from "../ports.js";
import { isAlive, killProcess, marker, runningPid, startDetached, stopProcess } from "../processes.js";
import { endpoints, kafkaNodePorts, type StackSettings } from "../settings.js";
import { ensureLocalTls, localTlsPaths } from "../tls.js";
import { ensureKafkaSecurity } from "./kafka-security.js";
import type { ServiceStatus, StackService } from "./service.js";

/**
 * Node `index`'s (0-based) files. A single node keeps the paths it always had; a cluster's nodes live under
 * `kafka-cluster/` (their storage is formatted for a quorum of all of them, so it cannot be the single node's).
 */
const paths = (settings: StackSettings, index = 0) => {
  if (settings.kafkaNodes === 1) {
    return {
      dataDir: join(settings.stateDir, "kafka", "data"),
      configFile: join(settings.stateDir, "kafka", "server.properties"),
      pidFile: join(settings.stateDir, "run", "kafka.pid"),
      logFile: join(settings.stateDir, "logs", "kafka.log"),
    };
  }
  const node = `node-${index + 1}`;
  return {
    dataDir: join(settings.stateDir, "kafka-cluster", node, "data"),
    configFile: join(settings.stateDir, "kafka-cluster", node, "server.properties"),
    pidFile: join(settings.stateDir, "run", `kafka-${node}.pid`),
    logFile: join(settings.stateDir, "logs", `kafka-${node}.log`),
  };
};

const nodeIndexes = (settings: StackSettings) => Array.from({ length: settings.kafkaNodes }, (_, index) => index);

/** True when the broker answers a metadata request (kafkajs `describeCluster`). */
export async function kafkaAnswers(brokers: string, timeoutMs = 2000): Promise<boolean> {
  const admin = new Kafka({
    clientId: "kronos-stack-probe",
    brokers: [brokers],
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Node `index`'s (0-based) `server.properties`, from infra/local/kafka/server.properties. */
export function renderKafkaConfig(settings: StackSettings, index: number, dataDir: string): string {
  const template = readFileSync(join(settings.infraDir, "kafka", "server.properties"), "utf8");
  const { port, controllerPort, saslPort } = kafkaNodePorts(settings, index);
  const tls = localTlsPaths(settings);
  const voters = nodeIndexes(settings)
    .map((i) => `${i + 1}@127.0.0.1:${kafkaNodePorts(settings, i).controllerPort}`)
    .join(",");
  const replicas = Math.min(3, settings.kafkaNodes);
  const values: Record<string, string> = {
    KAFKA_NODE_ID: String(index + 1),
    KAFKA_VOTERS: voters,
    KAFKA_PORT: String(port),
    KAFKA_ADVERTISED_PORT: String(settings.kafkaNodes === 1 ? settings.kafkaAdvertisedPort : port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_SASL_PORT: String(saslPort),
    KAFKA_TLS_KEYSTORE: tls.serverPemFile,
    KAFKA_TLS_TRUSTSTORE: tls.caFile,
    KAFKA_ADMIN_USER,
    KAFKA_DATA_DIR: dataDir,
    KAFKA_REPLICAS: String(replicas),
    KAFKA_MIN_ISR: String(replicas === 1 ? 1 : 2),
    KAFKA_REPLICA_FETCH_WAIT_MS: "50",
  };
  return template.replace(/\$\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new StackError(`infra/local/kafka/server.properties uses unknown \${${key}}`);
    return value;
  });
}

function java(settings: StackSettings, libs: string, mainClass: string, args: string[]): string[] {
  return [
    `-Xmx${settings.javaHeap}`,
    marker("kafka"),
    `-Dlog4j2.configurationFile=${join(settings.infraDir, "kafka", "log4j2.properties")}`,
    "-cp",
    join(libs, "*"),
    mainClass,
    ...args,
  ];
}

/** Formats node `index`'s storage once (later starts reuse it, so topics and messages survive restarts). */
function formatStorage(settings: StackSettings, libs: string, index: number, clusterId: () => string): void {
  const { dataDir, configFile } = paths(settings, index);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(configFile, renderKafkaConfig(settings, index, dataDir));
  if (existsSync(join(dataDir, "meta.properties"))) return;
  console.log(`  formatting Kafka storage in ${dataDir}`);
  const format = spawnSync(
    "java",
    java(settings, libs, "kafka.tools.StorageTool", ["format", "-t", clusterId(), "-c", configFile]),
    { encoding: "utf8" },
  );
  if (format.status !== 0) {
    throw new StackError(`Kafka could not format its storage in ${dataDir}:\n${format.stdout}${format.stderr}`);
  }
}

/**
 * The cluster's id: the one a node's storage was formatted with (a node added back to a formatted cluster must
 * join it), else a new one.
 */
function clusterIdOf(settings: StackSettings, libs: string): string {
  for (const index of nodeIndexes(settings)) {
    const meta = join(paths(settings, index).dataDir, "meta.properties");
    if (!existsSync(meta)) continue;
    const id = /^cluster\.id=(.+)$/m.exec(readFileSync(meta, "utf8"))?.[1]?.trim();
    if (id) return id;
  }
  const output = spawnSync("java", java(settings, libs, "kafka.tools.StorageTool", ["random-uuid"]), {
    encoding: "utf8",
  }).stdout;
  // Kafka's log lines go to stdout too (infra/local/kafka/log4j2.properties): the id is the last line.
  return output.trim().split("\n").pop()?.trim() ?? "";
}

const nodeName = (settings: StackSettings, index: number) =>
  settings.kafkaNodes === 1 ? "Kafka" : `Kafka node ${index + 1}`;

/**
 * Stops the running nodes whose `server.properties` is not what the stack renders today (the template or a setting
 * changed, e.g. a Kafka started before the SASL_SSL listener existed), so `up` starts them again with the new one.
 * Says so once. Storage and data are kept.
 */
async function restartChangedNodes(settings: StackSettings): Promise<void> {
  const changed = nodeIndexes(settings).filter((index) => {
    const { dataDir, configFile, pidFile } = paths(settings, index);
    if (runningPid(pidFile, "kafka") === undefined || !existsSync(configFile)) return false;
    return readFileSync(configFile, "utf8") !== renderKafkaConfig(settings, index, dataDir);
  });
  if (changed.length === 0) return;
  const names = changed.map((index) => nodeName(settings, index)).join(", ");
  console.log(
    `  ${names}: the configuration changed (${join(settings.infraDir, "kafka", "server.properties")} or a ` +
      "KRONOS_KAFKA_* setting, e.g. the SASL_SSL listener); restarting to apply it (topics and messages are kept)",
  );
  for (const index of changed) {
    const { pidFile } = paths(settings, index);
    const pid = runningPid(pidFile, "kafka");
    if (pid !== undefined) await stopProcess(pid, pidFile, 60_000);
  }
}

/**
 * Apache Kafka in KRaft mode, jars from Maven Central: one process (broker and controller), or a cluster of
 * `kafkaNodes` such processes with replication. `up` starts the nodes that are not running (all of them before
 * waiting: a quorum needs a majority to answer), so it also brings back a node that was killed.
 */
export const kafkaService: StackService = {
  name: "kafka",

  async up(settings) {
    // The SCRAM users' passwords, made once under the state directory (the listener's certificate is made just
    // before a node starts, after the check for java: a machine without java hears about java first).
    ensureKafkaPasswords(settings);
    await restartChangedNodes(settings);
    const missing: number[] = [];
    for (const index of nodeIndexes(settings)) {
      if (runningPid(paths(settings, index).pidFile, "kafka") === undefined) missing.push(index);
    }
    const pids = new Map<number, number>();
    let libs: string | undefined;
    const kafkaJars = () => {
      libs ??= ensureKafkaJars(settings);
      return libs;
    };
    let clusterId: string | undefined;
    const id = () => {
      clusterId ??= clusterIdOf(settings, kafkaJars());
      return clusterId;
    };
    if (missing.length > 0) {
      requireTool("java", "to run Kafka");
      ensureLocalTls(settings);
      const libs = kafkaJars();
      for (const index of missing) {
        const { port, controllerPort, saslPort } = kafkaNodePorts(settings, index);
        const suffix = index === 0 ? "" : ` + ${10 * index}`;
        await assertPortFree(port, nodeName(settings, index), `KRONOS_KAFKA_PORT${suffix}`);
        await assertPortFree(
          controllerPort,
          `${nodeName(settings, index)}'s controller`,
          `KRONOS_KAFKA_CONTROLLER_PORT${suffix}`,
        );
        await assertPortFree(
          saslPort,
          `${nodeName(settings, index)}'s SASL_SSL listener`,
          `KRONOS_KAFKA_SASL_PORT${suffix}`,
        );
      }
      for (const index of missing) {
        formatStorage(settings, libs, index, id);
        const { configFile, pidFile, logFile } = paths(settings, index);
        pids.set(
          index,
          startDetached({
            command: "java",
            args: java(settings, libs, "kafka.Kafka", [configFile]),
            cwd: settings.stateDir,
            logFile,
            pidFile,
          }),
        );
      }
    }
    for (const index of nodeIndexes(settings)) {
      const { logFile } = paths(settings, index);
      const endpoint = `127.0.0.1:${kafkaNodePorts(settings, index).port}`;
      const pid = pids.get(index);
      const ready = await waitUntil(() => kafkaAnswers(endpoint), 120_000, {
        stillAlive: () => pid === undefined || isAlive(pid),
      });
      if (!ready) {
        const exited = pid !== undefined && !isAlive(pid);
        throw new StackError(
          `${nodeName(settings, index)} did not answer on ${endpoint} within 120 s${exited ? " (it exited)" : ""}. See ${logFile}.`,
        );
      }
    }
    await ensureKafkaSecurity(settings, kafkaJars, `127.0.0.1:${kafkaNodePorts(settings, 0).port}`, id());
  },

  async down(settings) {
    await Promise.all(
      nodeIndexes(settings).map(async (index) => {
        const { pidFile } = paths(settings, index);
        const pid = runningPid(pidFile, "kafka");
        if (pid !== undefined) await stopProcess(pid, pidFile, 60_000);
      }),
    );
  },

  async kill(settings) {
    let first: number | undefined;
    for (const index of nodeIndexes(settings)) {
      const pid = await killKafkaNode(settings, index + 1);
      first ??= pid;
    }
    return first;
  },

  async status(settings): Promise<ServiceStatus> {
    const nodes = await Promise.all(
      nodeIndexes(settings).map(async (index) => {
        const pid = runningPid(paths(settings, index).pidFile, "kafka");
        const endpoint = `127.0.0.1:${kafkaNodePorts(settings, index).port}`;
        return { pid, endpoint, ready: pid !== undefined && (await kafkaAnswers(endpoint)) };
      }),
    );
    const up = nodes.filter((node) => node.ready).length;
    const pid = nodes.find((node) => node.pid !== undefined)?.pid;
    return {
      name: "kafka",
      ready: up === nodes.length,
      managed: true,
      ...(pid !== undefined ? { pid } : {}),
      endpoint: nodes.map((node) => node.endpoint).join(","),
      detail: `${
        settings.kafkaNodes === 1
          ? `Kafka ${settings.versions.kafka} (KRaft)`
          : `Kafka ${settings.versions.kafka} (KRaft, ${up} of ${nodes.length} nodes answer)`
      }; SASL_SSL on ${endpoints(settings).kafkaSecure.brokers}, SCRAM passwords in ${kafkaUsersDir(settings)}`,
      logFile: paths(settings, 0).logFile,
    };
  },
};

/**
 * Kills Kafka node `nodeId` (1-based, Kafka's `node.id`) with SIGKILL, as a crash would; `up` starts it again.
 * Resolves with the pid killed, or undefined when it was not running.
 */
export async function killKafkaNode(settings: StackSettings, nodeId: number): Promise<number | undefined> {
  if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId > settings.kafkaNodes) {
    throw new StackError(`there is no Kafka node ${nodeId}: the stack runs ${settings.kafkaNodes}.`);
  }
  const pid = runningPid(paths(settings, nodeId - 1).pidFile, "kafka");
  if (pid !== undefined) await killProcess(pid);
  return pid;
}
