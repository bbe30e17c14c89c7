import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../settings.js";
import { renderStunnelConfig } from "./rabbitmq-tls.js";
import { RABBITMQ_APP_PERMISSIONS, rabbitmqAppUser } from "./rabbitmq-users.js";

const settings = loadSettings({ KRONOS_STATE_DIR: "/tmp/kronos-state" });
const allows = (regex: string, name: string) => new RegExp(regex).test(name);

/** Every exchange and queue name the contract manifest spells out (templates like `{queue}.dlq` left aside). */
function manifestNames(): string[] {
  const manifest = readFileSync(join(settings.infraDir, "..", "..", "schemas", "asyncapi.yaml"), "utf8");
  const names = [...manifest.matchAll(/^\s*(?:address|name|queue|exchange): (kronos\.[a-z0-9.-]+)\s*$/gm)];
  return [...new Set(names.map((match) => match[1] as string))];
}

describe("RABBITMQ_APP_PERMISSIONS", () => {
  const { gateway, relay } = RABBITMQ_APP_PERMISSIONS;
  const dlq = RABBITMQ_APP_PERMISSIONS["dlq-manager"];

  it("lets the gateway and the relay declare, publish to and read every name of the contract manifest", () => {
    const names = manifestNames();
    expect(names).toEqual(expect.arrayContaining(["kronos.router", "kronos.relay.auth-security"]));
    for (const name of names) {
      for (const permissions of [gateway, relay]) {
        expect(allows(permissions.configure, name), name).toBe(true);
        expect(allows(permissions.write, name), name).toBe(true);
        expect(allows(permissions.read, name), name).toBe(true);
      }
    }
  });

  it("lets the dlq-manager read dead-letter queues only, declare nothing, and replay to Kronos names", () => {
    expect(allows(dlq.read, "kronos.router.requests.dlq")).toBe(true);
    expect(allows(dlq.read, "kronos.router.requests.auth")).toBe(false);
    expect(allows(dlq.configure, "kronos.router.requests.dlq")).toBe(false);
    expect(allows(dlq.write, "kronos.router")).toBe(true);
    expect(allows(dlq.write, "amq.default")).toBe(true);
  });

  it("gives nobody another prefix of the vhost or the broker's own exchanges", () => {
    for (const permissions of Object.values(RABBITMQ_APP_PERMISSIONS)) {
      for (const name of ["orders", "xkronos.router", "amq.topic", "amq.direct", "kronos"]) {
        expect(allows(permissions.configure, name), name).toBe(false);
        expect(allows(permissions.write, name), name).toBe(false);
        expect(allows(permissions.read, name), name).toBe(false);
      }
    }
    expect(allows(gateway.read, "amq.rabbitmq.reply-to")).toBe(true);
    expect(allows(relay.read, "amq.rabbitmq.reply-to")).toBe(false);
  });

  it("keeps each app's password file under the state directory", () => {
    expect(rabbitmqAppUser(settings, "relay")).toEqual({
      app: "relay",
      username: "kronos-relay",
      passwordFile: "/tmp/kronos-state/rabbitmq/users/kronos-relay.password",
    });
  });
});

describe("renderStunnelConfig", () => {
  it("fronts RabbitMQ's AMQP port and management API with the stack's certificate, a client certificate optional but verified", () => {
    const config = renderStunnelConfig(
      loadSettings({ KRONOS_STATE_DIR: "/tmp/kronos-state", KRONOS_RABBITMQ_TLS_PORT: "25671" }),
    );
    expect(config).toContain("foreground = yes");
    expect(config).toMatch(/\[amqps\]\naccept = 127\.0\.0\.1:25671\nconnect = 127\.0\.0\.1:5672\n/);
    expect(config).toMatch(/\[management-https\]\naccept = 127\.0\.0\.1:15671\nconnect = 127\.0\.0\.1:15672\n/);
    expect(config).toContain("cert = /tmp/kronos-state/tls/server.crt");
    expect(config).toContain("CAfile = /tmp/kronos-state/tls/ca.crt");
    expect(config.match(/verifyChain = yes\nrequireCert = no/g)).toHaveLength(2);
  });
});
