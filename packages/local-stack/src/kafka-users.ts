import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StackSettings } from "./settings.js";

/** The apps that get a SCRAM user of their own on the stack's SASL_SSL listener. */
export const KAFKA_APPS = ["gateway", "relay", "dlq-manager"] as const;

/** One of {@link KAFKA_APPS}. */
export type KafkaApp = (typeof KAFKA_APPS)[number];

/** The stack's admin user: a super user (allowed everything), for operators and tests that set up topics. */
export const KAFKA_ADMIN_USER = "kronos-admin";

/**
 * What one app's user may do, as prefixed ACLs (Kafka's `PREFIXED` resource patterns). Every contract topic starts
 * with `kronos.` (schemas/asyncapi.yaml), and so do the retry (`{topic}.retry.{delayMs}`) and dead-letter
 * (`{topic}.dlq`) topics made from them, so each app gets the `kronos.` topics; its consumer groups are its own.
 */
export interface KafkaAppAccess {
  /** Topic name prefixes and the operations allowed on them. */
  readonly topics: { readonly prefix: string; readonly operations: readonly KafkaOperation[] }[];
  /** Consumer group id prefixes and the operations allowed on them. */
  readonly groups: { readonly prefix: string; readonly operations: readonly KafkaOperation[] }[];
  /** Operations on the cluster (Describe: `describeCluster`, which the apps' readiness checks use). */
  readonly cluster: readonly KafkaOperation[];
}

/** Kafka ACL operations used by {@link KAFKA_APP_ACCESS}. */
export type KafkaOperation =
  | "READ"
  | "WRITE"
  | "CREATE"
  | "DELETE"
  | "DESCRIBE"
  | "DESCRIBE_CONFIGS"
  | "IDEMPOTENT_WRITE";

const CONTRACT_TOPICS = "kronos.";
const TOPIC_USE: readonly KafkaOperation[] = ["READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS"];
const GROUP_USE: readonly KafkaOperation[] = ["READ", "DESCRIBE", "DELETE"];
const CLUSTER_USE: readonly KafkaOperation[] = ["DESCRIBE", "IDEMPOTENT_WRITE"];

/**
 * Each app's ACLs. The gateway publishes to and subscribes on contract topics (its groups are `gateway.<name>`,
 * apps/gateway `GROUP_PREFIX`) and shows the lag of the contract's groups (Describe on `kronos.` groups); the relay
 * reads and writes the routed topics with groups `kronos.relay.<route>` (the manifest's `x-kronos-relay`); the
 * dlq-manager reads the dead-letter topics and replays to their origin, with groups `kronos-dlq-manager.<topic>`
 * (`DLQ_CONSUMER_GROUP`'s default).
 */
export const KAFKA_APP_ACCESS: Readonly<Record<KafkaApp, KafkaAppAccess>> = {
  gateway: {
    topics: [{ prefix: CONTRACT_TOPICS, operations: TOPIC_USE }],
    groups: [
      { prefix: "gateway.", operations: GROUP_USE },
      { prefix: "kronos.", operations: ["DESCRIBE"] },
    ],
    cluster: CLUSTER_USE,
  },
  relay: {
    topics: [{ prefix: CONTRACT_TOPICS, operations: TOPIC_USE }],
    groups: [{ prefix: "kronos.relay.", operations: GROUP_USE }],
    cluster: CLUSTER_USE,
  },
  "dlq-manager": {
    topics: [{ prefix: CONTRACT_TOPICS, operations: TOPIC_USE }],
    groups: [{ prefix: "kronos-dlq-manager", operations: GROUP_USE }],
    cluster: CLUSTER_USE,
  },
};

/** Where the stack keeps the SCRAM passwords it generated: `<stateDir>/kafka-users/` (mode 0700). */
export const kafkaUsersDir = (settings: Pick<StackSettings, "stateDir">) => join(settings.stateDir, "kafka-users");

/**
 * An app's (or `"admin"`'s) SCRAM user name and the file holding its password (one line, no newline; what
 * `KAFKA_SASL_PASSWORD_FILE` takes). Pure: the file exists once `up` ran ({@link ensureKafkaPasswords}).
 */
export function kafkaUserPaths(
  settings: Pick<StackSettings, "stateDir">,
  user: KafkaApp | "admin",
): { username: string; passwordFile: string } {
  const username = user === "admin" ? KAFKA_ADMIN_USER : user;
  return { username, passwordFile: join(kafkaUsersDir(settings), `${username}.password`) };
}

/**
 * Generates each user's password once (32 random bytes, base64url: nothing a Kafka config value must escape) and
 * keeps it in its file, readable by this user only; later calls read the files back.
 * @returns user name -> password, the admin included
 */
export function ensureKafkaPasswords(settings: Pick<StackSettings, "stateDir">): Map<string, string> {
  const dir = kafkaUsersDir(settings);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passwords = new Map<string, string>();
  for (const user of [...KAFKA_APPS, "admin" as const]) {
    const { username, passwordFile } = kafkaUserPaths(settings, user);
    if (!existsSync(passwordFile)) {
      const partial = `${passwordFile}.new-${process.pid}`;
      writeFileSync(partial, randomBytes(32).toString("base64url"), { mode: 0o600 });
      chmodSync(partial, 0o600);
      renameSync(partial, passwordFile);
    }
    passwords.set(username, readFileSync(passwordFile, "utf8").trim());
  }
  return passwords;
}
