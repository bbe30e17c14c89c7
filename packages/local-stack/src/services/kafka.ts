import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { ensureKafkaJars, requireTool } from "../downloads.js";
import { StackError } from "../errors.js";
import { assertPortFree, waitUntil } from "../ports.js";
import { isAlive, killProcess, marker, runningPid, startDetached, stopProcess } from "../processes.js";
import type { StackSettings } from "../settings.js";
import type { ServiceStatus, StackService } from "./service.js";

const paths = (settings: StackSettings) => ({
  dataDir: join(settings.stateDir, "kafka", "data"),
  configFile: join(settings.stateDir, "kafka", "server.properties"),
  pidFile: join(settings.stateDir, "run", "kafka.pid"),
  logFile: join(settings.stateDir, "logs", "kafka.log"),
});

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

function renderConfig(settings: StackSettings, dataDir: string): string {
  const template = readFileSync(join(settings.infraDir, "kafka", "server.properties"), "utf8");
  const values: Record<string, string> = {
    KAFKA_PORT: String(settings.kafkaPort),
    KAFKA_ADVERTISED_PORT: String(settings.kafkaAdvertisedPort),
    KAFKA_CONTROLLER_PORT: String(settings.kafkaControllerPort),
    KAFKA_DATA_DIR: dataDir,
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

/** Apache Kafka, one process in KRaft mode (broker and controller), jars from Maven Central. */
export const kafkaService: StackService = {
  name: "kafka",

  async up(settings) {
    const { dataDir, configFile, pidFile, logFile } = paths(settings);
    const brokers = `127.0.0.1:${settings.kafkaPort}`;
    if (runningPid(pidFile, "kafka") !== undefined) {
      if (await waitUntil(() => kafkaAnswers(brokers), 60_000)) return;
      throw new StackError(`Kafka is running but does not answer on ${brokers}. See ${logFile}.`);
    }
    requireTool("java", "to run Kafka");
    const libs = ensureKafkaJars(settings);
    await assertPortFree(settings.kafkaPort, "Kafka", "KRONOS_KAFKA_PORT");
    await assertPortFree(settings.kafkaControllerPort, "Kafka's controller", "KRONOS_KAFKA_CONTROLLER_PORT");

    mkdirSync(dataDir, { recursive: true });
    writeFileSync(configFile, renderConfig(settings, dataDir));
    // Storage is formatted once; later starts reuse it, so topics and messages survive restarts.
    if (!existsSync(join(dataDir, "meta.properties"))) {
      console.log(`  formatting Kafka storage in ${dataDir}`);
      const clusterId = spawnSync("java", java(settings, libs, "kafka.tools.StorageTool", ["random-uuid"]), {
        encoding: "utf8",
      }).stdout.trim();
      const format = spawnSync(
        "java",
        java(settings, libs, "kafka.tools.StorageTool", ["format", "-t", clusterId, "-c", configFile]),
        { encoding: "utf8" },
      );
      if (format.status !== 0) {
        throw new StackError(`Kafka could not format its storage in ${dataDir}:\n${format.stdout}${format.stderr}`);
      }
    }
    const pid = startDetached({
      command: "java",
      args: java(settings, libs, "kafka.Kafka", [configFile]),
      cwd: settings.stateDir,
      logFile,
      pidFile,
    });
    const ready = await waitUntil(() => kafkaAnswers(brokers), 120_000, { stillAlive: () => isAlive(pid) });
    if (!ready) {
      throw new StackError(
        `Kafka did not answer on ${brokers} within 120 s${isAlive(pid) ? "" : " (it exited)"}. See ${logFile}.`,
      );
    }
  },

  async down(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "kafka");
    if (pid !== undefined) await stopProcess(pid, pidFile, 60_000);
  },

  async kill(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "kafka");
    if (pid !== undefined) await killProcess(pid);
    return pid;
  },

  async status(settings): Promise<ServiceStatus> {
    const { pidFile, logFile } = paths(settings);
    const pid = runningPid(pidFile, "kafka");
    const endpoint = `127.0.0.1:${settings.kafkaPort}`;
    return {
      name: "kafka",
      ready: pid !== undefined && (await kafkaAnswers(endpoint)),
      managed: true,
      ...(pid !== undefined ? { pid } : {}),
      endpoint,
      detail: `Kafka ${settings.versions.kafka} (KRaft)`,
      logFile,
    };
  },
};
