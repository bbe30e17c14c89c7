import { join } from "node:path";
import kafkajs from "kafkajs";
import { ensureApicurio, requireTool } from "../downloads.js";
import { StackError } from "../errors.js";
import { assertPortFree, waitUntil } from "../ports.js";
import { isAlive, killProcess, marker, runningPid, startDetached, stopProcess } from "../processes.js";
import type { StackSettings } from "../settings.js";
import type { ServiceStatus, StackService } from "./service.js";

const paths = (settings: StackSettings) => ({
  pidFile: join(settings.stateDir, "run", "registry.pid"),
  logFile: join(settings.stateDir, "logs", "registry.log"),
});

/** True when Apicurio's readiness endpoint says UP (storage loaded, ready to serve). */
export async function registryAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

// kafkajs is CommonJS; its enums are not visible as named ESM exports.
const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;

/** Apicurio's KafkaSQL storage topics: the journal of every change, and its snapshots. */
const STORAGE_TOPICS = ["kafkasql-journal", "kafkasql-snapshots"];

/**
 * Apicurio creates its storage topics with the broker's default retention (7 days), after which a restarted
 * registry would replay an incomplete journal and lose schemas. The stack creates them first, kept forever.
 */
async function keepStorageTopicsForever(settings: StackSettings): Promise<void> {
  const admin = new Kafka({
    clientId: "kronos-stack",
    brokers: [`127.0.0.1:${settings.kafkaPort}`],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const configEntries = [{ name: "retention.ms", value: "-1" }];
    const missing = STORAGE_TOPICS.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1, configEntries })),
        waitForLeaders: true,
      });
    }
    await admin.alterConfigs({
      validateOnly: false,
      resources: STORAGE_TOPICS.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configEntries })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Apicurio Registry 3, serving the Confluent-compatible API at /apis/ccompat/v7. Its storage is KafkaSQL on the
 * local Kafka, so schemas and their ids survive a registry restart. The global compatibility rule is BACKWARD,
 * Confluent's default, so an incompatible registration is refused.
 */
export const registryService: StackService = {
  name: "registry",

  async up(settings) {
    const { pidFile, logFile } = paths(settings);
    if (runningPid(pidFile, "registry") !== undefined) {
      if (await waitUntil(() => registryAnswers(settings.registryPort), 90_000)) return;
      throw new StackError(
        `Apicurio Registry is running but is not ready on port ${settings.registryPort}. See ${logFile}.`,
      );
    }
    requireTool("java", "to run Apicurio Registry");
    const runner = ensureApicurio(settings);
    await assertPortFree(settings.registryPort, "Apicurio Registry", "KRONOS_REGISTRY_PORT");
    await keepStorageTopicsForever(settings);
    const pid = startDetached({
      command: "java",
      args: [
        `-Xmx${settings.javaHeap}`,
        marker("registry"),
        "-Dquarkus.http.host=127.0.0.1",
        `-Dquarkus.http.port=${settings.registryPort}`,
        "-Dapicurio.storage.kind=kafkasql",
        `-Dapicurio.kafkasql.bootstrap.servers=127.0.0.1:${settings.kafkaPort}`,
        "-Dapicurio.rules.global.compatibility=BACKWARD",
        "-jar",
        runner,
      ],
      cwd: settings.stateDir,
      logFile,
      pidFile,
    });
    const ready = await waitUntil(() => registryAnswers(settings.registryPort), 120_000, {
      stillAlive: () => isAlive(pid),
    });
    if (!ready) {
      throw new StackError(
        `Apicurio Registry was not ready on port ${settings.registryPort} within 120 s` +
          `${isAlive(pid) ? "" : " (it exited)"}. See ${logFile}.`,
      );
    }
  },

  async down(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "registry");
    if (pid !== undefined) await stopProcess(pid, pidFile);
  },

  async kill(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "registry");
    if (pid !== undefined) await killProcess(pid);
    return pid;
  },

  async status(settings): Promise<ServiceStatus> {
    const { pidFile, logFile } = paths(settings);
    const pid = runningPid(pidFile, "registry");
    return {
      name: "registry",
      ready: pid !== undefined && (await registryAnswers(settings.registryPort)),
      managed: true,
      ...(pid !== undefined ? { pid } : {}),
      endpoint: `http://127.0.0.1:${settings.registryPort}/apis/ccompat/v7`,
      detail: `Apicurio Registry ${settings.versions.apicurio} (KafkaSQL storage)`,
      logFile,
    };
  },
};
