import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import kafkajs, { type AclEntry, Kafka, logLevel } from "kafkajs";
import { StackError } from "../errors.js";
import { ensureKafkaPasswords, KAFKA_APP_ACCESS, KAFKA_APPS, kafkaUsersDir } from "../kafka-users.js";
import type { StackSettings } from "../settings.js";

// kafkajs is CommonJS: Node finds its enums only on the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
type AclResourceType = (typeof AclResourceTypes)[keyof typeof AclResourceTypes];
type PatternType = (typeof ResourcePatternTypes)[keyof typeof ResourcePatternTypes];

/** Every ACL the stack writes: {@link KAFKA_APP_ACCESS} as kafkajs entries, all ALLOW, from any host. */
export function kafkaAclEntries(): AclEntry[] {
  const entries: AclEntry[] = [];
  for (const app of KAFKA_APPS) {
    const access = KAFKA_APP_ACCESS[app];
    const allow = (
      resourceType: AclResourceType,
      resourceName: string,
      resourcePatternType: PatternType,
      operations: readonly (keyof typeof AclOperationTypes)[],
    ) => {
      for (const operation of operations) {
        entries.push({
          resourceType,
          resourceName,
          resourcePatternType,
          principal: `User:${app}`,
          host: "*",
          operation: AclOperationTypes[operation],
          permissionType: AclPermissionTypes.ALLOW,
        });
      }
    };
    for (const topic of access.topics) {
      allow(AclResourceTypes.TOPIC, topic.prefix, ResourcePatternTypes.PREFIXED, topic.operations);
    }
    for (const group of access.groups) {
      allow(AclResourceTypes.GROUP, group.prefix, ResourcePatternTypes.PREFIXED, group.operations);
    }
    allow(AclResourceTypes.CLUSTER, "kafka-cluster", ResourcePatternTypes.LITERAL, access.cluster);
  }
  return entries;
}

/** Runs one JVM tool of Kafka's jars; resolves with its output, rejects with it when the tool fails. */
function runKafkaTool(settings: StackSettings, libs: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "java",
      [
        "-Xmx256m",
        `-Dlog4j2.configurationFile=${join(settings.infraDir, "kafka", "log4j2.properties")}`,
        "-cp",
        join(libs, "*"),
        ...args,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    // Its log lines (the client's whole configuration) hide the one line that says what failed: keep the last few.
    const gist = () =>
      output
        .split("\n")
        .filter((line) => line.trim() !== "" && !line.includes(" INFO "))
        .slice(-3);
    child.once("close", (code) => (code === 0 ? resolve(output) : reject(new Error(gist().join("\n")))));
  });
}

/**
 * Gives each SCRAM user (the apps' and the admin's) its password, SCRAM-SHA-512 and SCRAM-SHA-256, through Kafka's
 * Admin API on the plaintext listener, in one JVM running infra/local/kafka/ScramUsers.java (kafkajs cannot alter
 * SCRAM credentials; the storage tool's `--add-scram` works only when formatting, and a formatted node must get them
 * too; `kafka-configs` takes one user and one mechanism per JVM, ~10 s each here). The passwords go through a file
 * (removed after), never a command line. Done once per cluster and set of passwords:
 * `<stateDir>/kafka-users/applied` remembers which.
 */
async function ensureScramUsers(
  settings: StackSettings,
  kafkaJars: () => string,
  bootstrap: string,
  clusterId: string,
): Promise<void> {
  const passwords = ensureKafkaPasswords(settings);
  const marker = join(kafkaUsersDir(settings), "applied");
  const digest = createHash("sha256");
  for (const [user, password] of [...passwords].sort()) digest.update(`${user}\0${password}\0`);
  const stamp = `${clusterId} ${digest.digest("hex")}`;
  if (existsSync(marker) && readFileSync(marker, "utf8").trim() === stamp) return;
  console.log(`  creating Kafka's SCRAM users (${[...passwords.keys()].join(", ")})`);
  const libs = kafkaJars();
  const work = mkdtempSync(join(kafkaUsersDir(settings), "scram-"));
  const file = join(work, "users.properties");
  try {
    writeFileSync(file, [...passwords].map(([user, password]) => `${user}=${password}\n`).join(""), { mode: 0o600 });
    await runKafkaTool(settings, libs, [join(settings.infraDir, "kafka", "ScramUsers.java"), bootstrap, file]);
  } catch (error) {
    let message = (error as Error).message;
    for (const password of passwords.values()) message = message.replaceAll(password, "***");
    throw new StackError(`Kafka refused the SCRAM users' credentials: ${message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(marker, `${stamp}\n`);
}

/**
 * Makes the SASL_SSL listener usable: the SCRAM users exist with the passwords kept under the state directory, and
 * every app's ACLs ({@link kafkaAclEntries}) are written (Kafka ignores an ACL it already has, so this runs on every
 * `up`). Talks to the plaintext listener at `bootstrap`, whose principal is a super user; `kafkaJars` gives the
 * folder of Kafka's jars (only called when users must be created).
 * @throws StackError when Kafka refuses the users or the ACLs
 */
export async function ensureKafkaSecurity(
  settings: StackSettings,
  kafkaJars: () => string,
  bootstrap: string,
  clusterId: string,
): Promise<void> {
  await ensureScramUsers(settings, kafkaJars, bootstrap, clusterId);
  const admin = new Kafka({
    clientId: "kronos-stack-acls",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  }).admin();
  try {
    await admin.connect();
    await admin.createAcls({ acl: kafkaAclEntries() });
  } catch (error) {
    throw new StackError(`Kafka refused the apps' ACLs: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
