import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureKafkaPasswords, KAFKA_APP_ACCESS, KAFKA_APPS, kafkaUserPaths } from "./kafka-users.js";
import { kafkaAclEntries } from "./services/kafka-security.js";
import { endpoints, loadSettings } from "./settings.js";

describe("the stack's Kafka users", () => {
  it("generates each user's password once, readable by this user only, and reads it back after", () => {
    const stateDir = mkdtempSync(join(tmpdir(), "kronos-kafka-users-"));
    const first = ensureKafkaPasswords({ stateDir });
    expect([...first.keys()]).toEqual(["gateway", "relay", "dlq-manager", "kronos-admin"]);
    for (const password of first.values()) expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(first.values()).size).toBe(4);
    const { passwordFile } = kafkaUserPaths({ stateDir }, "gateway");
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(passwordFile, "utf8")).toBe(first.get("gateway"));
    expect(ensureKafkaPasswords({ stateDir })).toEqual(first);
  });

  it("endpoints name each app's user and password file, the CA and the admin", () => {
    const secure = endpoints(loadSettings({ KRONOS_STATE_DIR: "/state" })).kafkaSecure;
    expect(secure.caFile).toBe("/state/tls/ca.crt");
    expect(secure.users.relay).toEqual({ username: "relay", passwordFile: "/state/kafka-users/relay.password" });
    expect(secure.admin.username).toBe("kronos-admin");
  });
});

describe("the apps' ACLs", () => {
  const entries = kafkaAclEntries();
  const of = (app: string, resourceType: number) =>
    entries.filter((entry) => entry.principal === `User:${app}` && entry.resourceType === resourceType);

  it("every app: prefixed kronos. topics, its own groups, describe on the cluster; nothing for anyone else", () => {
    for (const app of KAFKA_APPS) {
      expect(new Set(of(app, 2).map((entry) => entry.resourceName))).toEqual(new Set(["kronos."]));
      expect(of(app, 2).every((entry) => entry.resourcePatternType === 4 && entry.permissionType === 3)).toBe(true);
      const groups = new Set(of(app, 3).map((entry) => entry.resourceName));
      expect(groups).toEqual(new Set(KAFKA_APP_ACCESS[app].groups.map((group) => group.prefix)));
      expect(of(app, 4).map((entry) => entry.operation)).toContain(8); // DESCRIBE on the cluster
    }
    expect(new Set(entries.map((entry) => entry.principal))).toEqual(new Set(KAFKA_APPS.map((app) => `User:${app}`)));
  });

  it("each app's groups are the ones it uses and no other app's", () => {
    const readable = (app: string) =>
      of(app, 3)
        .filter((entry) => entry.operation === 3)
        .map((entry) => entry.resourceName);
    expect(readable("gateway")).toEqual(["gateway."]);
    expect(readable("relay")).toEqual(["kronos.relay."]);
    expect(readable("dlq-manager")).toEqual(["kronos-dlq-manager"]);
  });
});
