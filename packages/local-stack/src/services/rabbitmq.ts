import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "amqplib";
import { StackError } from "../errors.js";
import { waitUntil } from "../ports.js";
import { killProcess } from "../processes.js";
import type { StackSettings } from "../settings.js";
import type { ServiceStatus, StackService } from "./service.js";

/** Redacts the password of a URL for printing. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/** True when an AMQP connection opens (and closes) within `timeoutMs`. */
export async function amqpAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const connection = await connect(url, { timeout: timeoutMs });
    connection.on("error", () => undefined);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `path` to the management API at `managementUrl` with the URL's own credentials (fetch refuses credentials
 * inside a URL: they move to a header). Rejects as fetch does (unreachable, `timeoutMs` passed).
 */
export function managementRequest(
  managementUrl: string,
  path: string,
  init: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<Response> {
  const url = new URL(path, managementUrl);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString(
    "base64",
  );
  url.username = "";
  url.password = "";
  return fetch(url, {
    method: init.method ?? "GET",
    headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(init.timeoutMs ?? 2000),
  });
}

/** The management API's view of the server (`/api/overview`), or undefined when it does not answer. */
export async function managementOverview(
  managementUrl: string,
  timeoutMs = 2000,
): Promise<{ rabbitmq_version?: string } | undefined> {
  try {
    const response = await managementRequest(managementUrl, "/api/overview", { timeoutMs });
    return response.ok ? ((await response.json()) as { rabbitmq_version?: string }) : undefined;
  } catch {
    return undefined;
  }
}

function installed(command: string): boolean {
  const which = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return which.status === 0;
}

const startedMarker = (settings: StackSettings) => join(settings.stateDir, "run", "rabbitmq.started-by-stack");
/** Written by `kill` when it killed the machine's own RabbitMQ: `up` restarts it and leaves it the machine's. */
const killedMarker = (settings: StackSettings) => join(settings.stateDir, "run", "rabbitmq.killed-by-stack");

const HOW_TO_GET_ONE =
  "Install RabbitMQ (Debian/Ubuntu: apt-get install rabbitmq-server; macOS: brew install rabbitmq), " +
  "or run one with Docker: docker run -d -p 5672:5672 -p 15672:15672 rabbitmq:3.13-management, " +
  "or point RABBITMQ_URL at a server you have.";

/**
 * RabbitMQ is not downloaded: the stack uses the server that answers at RABBITMQ_URL, starts an installed one
 * that is stopped (`rabbitmq-server -detached`), and turns the management plugin on.
 */
export const rabbitmqService: StackService = {
  name: "rabbitmq",

  async up(settings) {
    const url = settings.rabbitmqUrl;
    if (!(await amqpAnswers(url))) {
      if (!installed("rabbitmq-server")) {
        throw new StackError(`no RabbitMQ answers at ${redact(url)} and none is installed. ${HOW_TO_GET_ONE}`);
      }
      console.log("  RabbitMQ is installed but not answering: starting it (rabbitmq-server -detached)");
      const start = spawnSync("rabbitmq-server", ["-detached"], { encoding: "utf8" });
      if (start.status !== 0) {
        throw new StackError(`rabbitmq-server -detached failed: ${start.stderr.trim() || start.stdout.trim()}`);
      }
      mkdirSync(join(settings.stateDir, "run"), { recursive: true });
      if (existsSync(killedMarker(settings))) rmSync(killedMarker(settings), { force: true });
      else writeFileSync(startedMarker(settings), `${new Date().toISOString()}\n`);
      if (!(await waitUntil(() => amqpAnswers(url), 90_000, { intervalMs: 1000 }))) {
        throw new StackError(
          `RabbitMQ was started but does not answer at ${redact(url)} after 90 s. ` +
            "Look at its logs (/var/log/rabbitmq/) and check the URL's user and password.",
        );
      }
    }
    if (!(await managementOverview(settings.rabbitmqManagementUrl))) {
      if (!installed("rabbitmq-plugins")) {
        throw new StackError(
          `RabbitMQ's management API does not answer at ${redact(settings.rabbitmqManagementUrl)}. ` +
            "Enable it on the server (rabbitmq-plugins enable rabbitmq_management) or set RABBITMQ_MANAGEMENT_URL.",
        );
      }
      console.log("  enabling RabbitMQ's management plugin (rabbitmq-plugins enable rabbitmq_management)");
      const enable = spawnSync("rabbitmq-plugins", ["enable", "rabbitmq_management"], { encoding: "utf8" });
      if (enable.status !== 0) {
        throw new StackError(
          `rabbitmq-plugins enable rabbitmq_management failed: ${enable.stderr.trim() || enable.stdout.trim()}`,
        );
      }
      if (!(await waitUntil(async () => !!(await managementOverview(settings.rabbitmqManagementUrl)), 60_000))) {
        throw new StackError(
          `RabbitMQ's management API still does not answer at ${redact(settings.rabbitmqManagementUrl)}.`,
        );
      }
    }
  },

  async down(settings) {
    // Only a RabbitMQ that `up` started is stopped; one the machine runs is left alone.
    if (!existsSync(startedMarker(settings))) return;
    spawnSync("rabbitmqctl", ["stop"], { encoding: "utf8" });
    rmSync(startedMarker(settings), { force: true });
  },

  async kill(settings) {
    // The node's Erlang VM (beam.smp) is RabbitMQ's process; rabbitmqctl asks the node itself for it.
    if (!installed("rabbitmqctl")) {
      throw new StackError("killing RabbitMQ needs rabbitmqctl (the server's own tools) on this machine");
    }
    const asked = spawnSync("rabbitmqctl", ["eval", "os:getpid()."], { encoding: "utf8", timeout: 60_000 });
    const pid = Number(/"(\d+)"/.exec(asked.stdout)?.[1]);
    if (asked.status !== 0 || !Number.isInteger(pid)) return undefined;
    if (!existsSync(startedMarker(settings))) {
      mkdirSync(join(settings.stateDir, "run"), { recursive: true });
      writeFileSync(killedMarker(settings), `${new Date().toISOString()}\n`);
    }
    await killProcess(pid);
    return pid;
  },

  async status(settings): Promise<ServiceStatus> {
    const [ready, overview] = await Promise.all([
      amqpAnswers(settings.rabbitmqUrl),
      managementOverview(settings.rabbitmqManagementUrl),
    ]);
    const managed = existsSync(startedMarker(settings));
    return {
      name: "rabbitmq",
      ready,
      managed,
      endpoint: redact(settings.rabbitmqUrl),
      detail: overview
        ? `RabbitMQ ${overview.rabbitmq_version ?? "?"}, management at ${redact(settings.rabbitmqManagementUrl)}`
        : "management API not answering",
    };
  },
};
