import { join } from "node:path";
import { withLock } from "./lock.js";
import { kafkaService } from "./services/kafka.js";
import { npmRegistryService } from "./services/npm-registry.js";
import { postgresService } from "./services/postgres.js";
import { rabbitmqService } from "./services/rabbitmq.js";
import { rabbitmqTlsService } from "./services/rabbitmq-tls.js";
import { registryService } from "./services/registry.js";
import type { ServiceStatus, StackService } from "./services/service.js";
import { loadSettings, type StackSettings } from "./settings.js";

/** The services in start order (the registry stores its schemas in Kafka, so Kafka comes first). */
export const services: readonly StackService[] = [
  kafkaService,
  registryService,
  rabbitmqService,
  rabbitmqTlsService,
  postgresService,
  npmRegistryService,
];

export type ServiceName = StackService["name"];

function byName(name: string): StackService {
  const service = services.find((candidate) => candidate.name === name);
  if (!service) {
    throw new Error(`unknown service "${name}": choose one of ${services.map((s) => s.name).join(", ")}`);
  }
  return service;
}

const lockFile = (settings: StackSettings) => join(settings.stateDir, "run", "stack.lock");

/**
 * Brings every service up and waits until each answers. Idempotent: services already running are only checked.
 * @param onProgress called before each service, for progress lines
 * @throws StackError with what is wrong and what to do (missing Java or Maven, port in use, no RabbitMQ...)
 */
export async function ensureStackUp(
  settings: StackSettings = loadSettings(),
  onProgress: (service: ServiceName) => void = () => undefined,
): Promise<void> {
  await withLock(lockFile(settings), async () => {
    for (const service of services) {
      onProgress(service.name);
      await service.up(settings);
    }
  });
}

/** Stops every process `ensureStackUp` started, in reverse order. Leaves data on disk. */
export async function stopStack(settings: StackSettings = loadSettings()): Promise<void> {
  await withLock(lockFile(settings), async () => {
    for (const service of [...services].reverse()) await service.down(settings);
  });
}

/** Stops one service (e.g. to test what happens while a broker is down). */
export async function stopService(name: ServiceName, settings: StackSettings = loadSettings()): Promise<void> {
  await withLock(lockFile(settings), () => byName(name).down(settings));
}

/** Starts one service and waits until it answers. */
export async function startService(name: ServiceName, settings: StackSettings = loadSettings()): Promise<void> {
  await withLock(lockFile(settings), () => byName(name).up(settings));
}

/**
 * Kills one service's process with SIGKILL, as a crash would (for the fault tests; `startService` brings it back).
 * Resolves with the pid killed, or undefined when it was not running. PostgreSQL is not killed (the machine's).
 */
export async function killService(
  name: ServiceName,
  settings: StackSettings = loadSettings(),
): Promise<number | undefined> {
  return withLock(lockFile(settings), () => byName(name).kill(settings));
}

/** What runs where. */
export async function stackStatus(settings: StackSettings = loadSettings()): Promise<ServiceStatus[]> {
  return Promise.all(services.map((service) => service.status(settings)));
}

/** The log file of a managed service, if it has one. */
export function logFileOf(name: ServiceName, settings: StackSettings = loadSettings()): string | undefined {
  return name === "rabbitmq" || name === "postgres" ? undefined : join(settings.stateDir, "logs", `${name}.log`);
}
