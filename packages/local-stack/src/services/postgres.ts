import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createConnection } from "node:net";
import { StackError } from "../errors.js";
import { waitUntil } from "../ports.js";
import type { ServiceStatus, StackService } from "./service.js";

/** Where the dlq-manager's PostgreSQL is: `DLQ_DATABASE_URL`'s host and port, default 127.0.0.1:5432. */
export function postgresAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number } {
  try {
    const url = new URL(env.DLQ_DATABASE_URL || "postgres://127.0.0.1:5432");
    return { host: url.hostname || "127.0.0.1", port: Number(url.port || 5432) };
  } catch {
    return { host: "127.0.0.1", port: 5432 };
  }
}

/**
 * True when a PostgreSQL server answers at host:port within `timeoutMs`: it is sent an SSLRequest, the first
 * message of the protocol, which any PostgreSQL answers with one byte, `S` or `N`, before authentication.
 */
export function postgresAnswers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => {
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80_877_103, 4);
      socket.write(request);
    });
    socket.once("data", (data) => done(data[0] === 0x53 || data[0] === 0x4e));
  });
}

/** The Debian clusters installed (`/etc/postgresql/<version>/<name>`), newest version first. */
function debianClusters(): Array<{ version: string; name: string }> {
  if (!existsSync("/etc/postgresql")) return [];
  return readdirSync("/etc/postgresql")
    .sort((a, b) => Number(b) - Number(a))
    .flatMap((version) => readdirSync(`/etc/postgresql/${version}`).map((name) => ({ version, name })));
}

const HOW_TO_GET_ONE =
  "Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15), " +
  "or run one with Docker: docker compose -f infra/docker-compose.yml up -d postgres, " +
  "or point DLQ_DATABASE_URL at a server you have.";

/**
 * PostgreSQL (the dlq-manager's store) is not downloaded: the stack uses the server that answers at
 * `DLQ_DATABASE_URL`'s address, starts an installed Debian cluster that is stopped (`pg_ctlcluster <version>
 * <name> start`), and otherwise says how to get one. `down` never stops it: it is the machine's.
 */
export const postgresService: StackService = {
  name: "postgres",

  async up() {
    const { host, port } = postgresAddress();
    if (await postgresAnswers(host, port)) return;
    const clusters = debianClusters();
    if (clusters.length === 0) {
      throw new StackError(`no PostgreSQL answers at ${host}:${port} and none is installed. ${HOW_TO_GET_ONE}`);
    }
    for (const { version, name } of clusters) {
      console.log(`  PostgreSQL ${version}/${name} is installed but not answering: starting it (pg_ctlcluster)`);
      const start = spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, name, "start"], {
        encoding: "utf8",
      });
      if (start.status !== 0 && !/already running/.test(start.stderr)) {
        console.log(`  pg_ctlcluster ${version} ${name} start failed: ${start.stderr.trim() || start.stdout.trim()}`);
      }
    }
    if (!(await waitUntil(() => postgresAnswers(host, port), 60_000, { intervalMs: 500 }))) {
      throw new StackError(
        `PostgreSQL was started but does not answer at ${host}:${port} after 60 s. ` +
          "Look at its logs (/var/log/postgresql/) and its port (pg_lsclusters).",
      );
    }
  },

  async down() {
    // The machine's server: left running.
  },

  async kill() {
    throw new StackError("the stack does not kill PostgreSQL: it is the machine's server (stop it with pg_ctlcluster)");
  },

  async status(): Promise<ServiceStatus> {
    const { host, port } = postgresAddress();
    return {
      name: "postgres",
      ready: await postgresAnswers(host, port),
      managed: false,
      endpoint: `${host}:${port}`,
      detail: "the dlq-manager's store (DLQ_DATABASE_URL)",
    };
  },
};
