import { EnvReader } from "@kronos/app-kit";
import { describe, expect, it } from "vitest";
import { DEFAULT_RABBITMQ_MANAGEMENT_URL, readQueuesConfig } from "./config.js";
import { vhostOf } from "./routes.js";

describe("queue administration configuration", () => {
  it("defaults to the local management API", () => {
    const env = {};
    const config = readQueuesConfig(new EnvReader("gateway", env));
    expect(config.rabbitmqManagementUrl).toBe(DEFAULT_RABBITMQ_MANAGEMENT_URL);
  });

  it("takes RABBITMQ_MANAGEMENT_URL, and reports an invalid URL", () => {
    const env = { RABBITMQ_MANAGEMENT_URL: "https://admin:pw@rabbit:15671/" };
    const config = readQueuesConfig(new EnvReader("gateway", env));
    expect(config).toEqual({ rabbitmqManagementUrl: "https://admin:pw@rabbit:15671" });
    const bad = { RABBITMQ_MANAGEMENT_URL: "amqp://rabbit" };
    const reader = new EnvReader("gateway", bad);
    readQueuesConfig(reader);
    expect(() => reader.finish()).toThrow(/RABBITMQ_MANAGEMENT_URL/);
  });

  it("reads the vhost from the AMQP URL", () => {
    expect(vhostOf("amqp://guest:guest@127.0.0.1:5672")).toBe("/");
    expect(vhostOf("amqp://guest:guest@127.0.0.1:5672/")).toBe("/");
    expect(vhostOf("amqp://h/%2Fprod")).toBe("/prod");
    expect(vhostOf("amqp://h/staging")).toBe("staging");
  });
});
