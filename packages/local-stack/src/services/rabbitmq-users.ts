import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StackError } from "../errors.js";
import type { StackSettings } from "../settings.js";
import { managementRequest, redact } from "./rabbitmq.js";

/** The apps that get a RabbitMQ user of their own. */
export type RabbitmqApp = "gateway" | "relay" | "dlq-manager";

/** RabbitMQ permissions on a vhost: three regular expressions over exchange and queue names. */
export interface RabbitmqPermissions {
  /** Declare and delete (queue.declare, exchange.declare, queue.delete, ...). */
  readonly configure: string;
  /** Publish to an exchange; bind a queue (write on the queue); unbind. */
  readonly write: string;
  /** Consume, get, purge a queue; bind from an exchange (read on the exchange). */
  readonly read: string;
}

/**
 * Each app's least-privilege permissions on the vhost `/`, and why. Every Kronos name starts with `kronos.` (the
 * contract manifest in schemas/asyncapi.yaml, and what derives from a name: `<queue>.dlx`, `<queue>.dlq`,
 * `<queue>.retry.<ms>`); nothing here reaches another prefix of the vhost, nor the broker's own `amq.*` objects
 * beyond the two each use needs (`amq.default`: publishing to a queue by name, as retries and replays do;
 * `amq.rabbitmq.reply-to`: direct reply-to). guest and the vhost's other users are left as they are.
 */
export const RABBITMQ_APP_PERMISSIONS: Readonly<Record<RabbitmqApp, RabbitmqPermissions & { readonly why: string }>> = {
  gateway: {
    // Creates the manifest's exchanges and queues at start, declares queues for its API's clients (queue admin,
    // subscriptions, their retry and dead-letter objects) and server-named queues; publishes to any Kronos exchange
    // and to retry queues; consumes subscriptions and direct replies.
    configure: "^(kronos\\..*|amq\\.gen-.*)$",
    write: "^(kronos\\..*|amq\\.default)$",
    read: "^(kronos\\..*|amq\\.rabbitmq\\.reply-to)$",
    why: "owns the topology (manifest, queue admin, subscriptions, retries, request/reply)",
  },
  relay: {
    // Creates the manifest's topology at start (ensureTopology) and its source queues (kronos.relay.* with their
    // .dlx/.dlq/.retry objects); publishes to the routes' destination exchanges; binds and consumes its sources.
    configure: "^kronos\\..*$",
    write: "^(kronos\\..*|amq\\.default)$",
    read: "^kronos\\..*$",
    why: "creates the manifest's topology and its source queues, publishes to route targets",
  },
  "dlq-manager": {
    // Declares nothing: consumes dead-letter queues (`<queue>.dlq`, the manifest's dead-letter queues) and
    // replays to the original exchanges or, through the default exchange, queues.
    configure: "^$",
    write: "^(kronos\\..*|amq\\.default)$",
    read: "^kronos\\..*\\.dlq$",
    why: "reads dead-letter queues (*.dlq), replays to Kronos exchanges and queues; declares nothing",
  },
};

/** An app's RabbitMQ user on the local stack. */
export interface RabbitmqAppUser {
  readonly app: RabbitmqApp;
  /** `kronos-<app>`. */
  readonly username: string;
  /** The file holding its password (mode 0600, under the state directory): what `RABBITMQ_PASSWORD_FILE` names. */
  readonly passwordFile: string;
}

const usersDir = (settings: Pick<StackSettings, "stateDir">) => join(settings.stateDir, "rabbitmq", "users");

/** Where the stack keeps `app`'s RabbitMQ user (whether or not `up` has made it yet). */
export function rabbitmqAppUser(settings: Pick<StackSettings, "stateDir">, app: RabbitmqApp): RabbitmqAppUser {
  const username = `kronos-${app}`;
  return { app, username, passwordFile: join(usersDir(settings), `${username}.password`) };
}

/**
 * The password of `user`, as `up` generated it. Throws a {@link StackError} when there is none yet (run `up`).
 */
export function rabbitmqAppPassword(user: RabbitmqAppUser): string {
  try {
    return readFileSync(user.passwordFile, "utf8").trim();
  } catch {
    throw new StackError(
      `no password for RabbitMQ user ${user.username} at ${user.passwordFile}: run "npm run stack -- up" first.`,
    );
  }
}

/** The password of `user`, generated (24 random bytes, base64url) and written once, then kept. */
function ensurePassword(user: RabbitmqAppUser): string {
  if (existsSync(user.passwordFile)) return rabbitmqAppPassword(user);
  mkdirSync(join(user.passwordFile, ".."), { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString("base64url");
  const temporary = `${user.passwordFile}.new-${process.pid}`;
  writeFileSync(temporary, `${password}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, user.passwordFile);
  return password;
}

/** PUTs `body` to `path` of the management API with the URL's own (administrator) credentials. */
async function put(managementUrl: string, path: string, body: unknown): Promise<Response> {
  try {
    return await managementRequest(managementUrl, path, { method: "PUT", body, timeoutMs: 10_000 });
  } catch (error) {
    throw new StackError(
      `RabbitMQ's management API at ${redact(managementUrl)} did not answer PUT ${path}: ${(error as Error).message}`,
    );
  }
}

/**
 * Makes sure every app has its RabbitMQ user (`kronos-<app>`, tag `management` so its own management API calls
 * see its vhost) with the password kept under the state directory and the permissions of
 * {@link RABBITMQ_APP_PERMISSIONS} on the vhost `/`, through the management API (`RABBITMQ_MANAGEMENT_URL`, an
 * administrator). Idempotent: run by every `up`, it puts back a password or a permission changed by hand.
 * @throws StackError naming the user and what RabbitMQ answered.
 */
export async function ensureRabbitmqAppUsers(settings: StackSettings): Promise<readonly RabbitmqAppUser[]> {
  const users: RabbitmqAppUser[] = [];
  for (const app of Object.keys(RABBITMQ_APP_PERMISSIONS) as RabbitmqApp[]) {
    const user = rabbitmqAppUser(settings, app);
    const password = ensurePassword(user);
    const { configure, write, read } = RABBITMQ_APP_PERMISSIONS[app];
    const name = encodeURIComponent(user.username);
    for (const [path, body] of [
      [`/api/users/${name}`, { password, tags: "management" }],
      [`/api/permissions/%2F/${name}`, { configure, write, read }],
    ] as const) {
      const response = await put(settings.rabbitmqManagementUrl, path, body);
      if (!response.ok) {
        const text = (await response.text().catch(() => "")).slice(0, 200);
        throw new StackError(
          `RabbitMQ's management API refused PUT ${path} for user ${user.username} (${response.status} ${text}): ` +
            "RABBITMQ_MANAGEMENT_URL must name an administrator (guest on the local stack).",
        );
      }
    }
    users.push(user);
  }
  return users;
}
