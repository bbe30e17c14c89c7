import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { StackError } from "../errors.js";
import { assertPortFree, waitUntil } from "../ports.js";
import { isAlive, killProcess, runningPid, startDetached, stopProcess } from "../processes.js";
import type { StackSettings } from "../settings.js";
import { ensureLocalTls, localTlsPaths } from "../tls.js";
import { ensureRabbitmqAppUsers } from "./rabbitmq-users.js";
import type { ServiceStatus, StackService } from "./service.js";

const paths = (settings: StackSettings) => {
  const dir = join(settings.stateDir, "rabbitmq-tls");
  return {
    dir,
    configFile: join(dir, "stunnel.conf"),
    pidFile: join(settings.stateDir, "run", "rabbitmq-tls.pid"),
    logFile: join(settings.stateDir, "logs", "rabbitmq-tls.log"),
  };
};

/** What tells the stack's stunnel from another: its command line names the stack's config file. */
const markers = (settings: StackSettings) => [paths(settings).configFile];

const HOW_TO_INSTALL =
  "Install Debian's stunnel4 package (sudo apt-get install --no-install-recommends stunnel4; macOS: brew install " +
  "stunnel); npm test and npm start install it themselves when run as root.";

/** `host:port` of an URL, with the scheme's default port. */
function upstream(url: string, defaultPort: number): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || defaultPort}`;
}

/**
 * The stunnel configuration: `amqps` (TLS on {@link StackSettings.rabbitmqTlsPort} → RabbitMQ's AMQP port) and
 * `management-https` (→ the management API), both with the stack's server certificate. A client certificate is
 * optional (`requireCert = no`), but one given must chain to the stack's CA (`verifyChain = yes`): mutual TLS
 * works, and an unknown client certificate is refused.
 */
export function renderStunnelConfig(settings: StackSettings): string {
  const tls = localTlsPaths(settings);
  const service = (name: string, port: number, target: string) => [
    `[${name}]`,
    `accept = 127.0.0.1:${port}`,
    `connect = ${target}`,
    `cert = ${tls.serverCertFile}`,
    `key = ${tls.serverKeyFile}`,
    `CAfile = ${tls.caFile}`,
    "verifyChain = yes",
    "requireCert = no",
    "sslVersionMin = TLSv1.2",
  ];
  return [
    "; Made by the Kronos local stack (packages/local-stack/src/services/rabbitmq-tls.ts) at every up: do not edit.",
    "foreground = yes",
    "pid =",
    "",
    ...service("amqps", settings.rabbitmqTlsPort, upstream(settings.rabbitmqUrl, 5672)),
    "",
    ...service("management-https", settings.rabbitmqManagementTlsPort, upstream(settings.rabbitmqManagementUrl, 15672)),
    "",
  ].join("\n");
}

/** True when a TLS handshake with the stack's CA succeeds on `port` within `timeoutMs`. */
export function tlsAnswers(settings: StackSettings, port: number, timeoutMs = 2000): Promise<boolean> {
  const tls = localTlsPaths(settings);
  return new Promise((resolve) => {
    let ca: Buffer;
    try {
      ca = readFileSync(tls.caFile);
    } catch {
      resolve(false);
      return;
    }
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: [ca], timeout: timeoutMs });
    const done = (ok: boolean) => {
      // end(), not destroy(): a close_notify, so stunnel does not log every probe as an error.
      socket.end();
      resolve(ok);
    };
    socket.once("secureConnect", () => done(socket.authorized));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

function stunnelInstalled(): boolean {
  return spawnSync("sh", ["-c", "command -v stunnel"], { encoding: "utf8" }).status === 0;
}

/**
 * RabbitMQ over TLS: Debian's stunnel in front of the machine's RabbitMQ (amqps on
 * {@link StackSettings.rabbitmqTlsPort}, default 5671) and of its management API (HTTPS on
 * {@link StackSettings.rabbitmqManagementTlsPort}, default 15671), with the stack's certificates (see
 * `ensureLocalTls`); and each app's least-privilege RabbitMQ user (see `ensureRabbitmqAppUsers`), made again at
 * every `up`. Runs after the `rabbitmq` service, which makes sure RabbitMQ answers.
 */
export const rabbitmqTlsService: StackService = {
  name: "rabbitmq-tls",

  async up(settings) {
    await ensureRabbitmqAppUsers(settings);
    const { dir, configFile, pidFile, logFile } = paths(settings);
    const ready = () =>
      Promise.all([
        tlsAnswers(settings, settings.rabbitmqTlsPort),
        tlsAnswers(settings, settings.rabbitmqManagementTlsPort),
      ]).then((answers) => answers.every(Boolean));
    if (runningPid(pidFile, "rabbitmq-tls", markers(settings)) !== undefined) {
      if (await waitUntil(ready, 15_000)) return;
      throw new StackError(`stunnel (RabbitMQ's TLS front) is running but does not answer TLS. See ${logFile}.`);
    }
    if (!stunnelInstalled())
      throw new StackError(`stunnel is missing: RabbitMQ's amqps listener needs it. ${HOW_TO_INSTALL}`);
    ensureLocalTls(settings);
    await assertPortFree(settings.rabbitmqTlsPort, "RabbitMQ's amqps listener (stunnel)", "KRONOS_RABBITMQ_TLS_PORT");
    await assertPortFree(
      settings.rabbitmqManagementTlsPort,
      "RabbitMQ's HTTPS management front (stunnel)",
      "KRONOS_RABBITMQ_MANAGEMENT_TLS_PORT",
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(configFile, renderStunnelConfig(settings));
    const pid = startDetached({ command: "stunnel", args: [configFile], cwd: dir, logFile, pidFile });
    if (!(await waitUntil(ready, 15_000, { stillAlive: () => isAlive(pid) }))) {
      throw new StackError(
        `stunnel (RabbitMQ's TLS front) did not answer on ports ${settings.rabbitmqTlsPort} and ` +
          `${settings.rabbitmqManagementTlsPort} within 15 s${isAlive(pid) ? "" : " (it exited)"}. See ${logFile}.`,
      );
    }
  },

  async down(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "rabbitmq-tls", markers(settings));
    if (pid !== undefined) await stopProcess(pid, pidFile, 5_000);
  },

  async kill(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "rabbitmq-tls", markers(settings));
    if (pid !== undefined) await killProcess(pid);
    return pid;
  },

  async status(settings): Promise<ServiceStatus> {
    const { pidFile, logFile } = paths(settings);
    const pid = runningPid(pidFile, "rabbitmq-tls", markers(settings));
    const ready = pid !== undefined && (await tlsAnswers(settings, settings.rabbitmqTlsPort));
    return {
      name: "rabbitmq-tls",
      ready,
      managed: true,
      ...(pid !== undefined ? { pid } : {}),
      endpoint: `amqps://localhost:${settings.rabbitmqTlsPort}`,
      detail: `stunnel → RabbitMQ; management https://localhost:${settings.rabbitmqManagementTlsPort}; users kronos-gateway, kronos-relay, kronos-dlq-manager`,
      logFile,
    };
  },
};
