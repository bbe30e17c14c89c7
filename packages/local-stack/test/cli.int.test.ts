// The stack command's behaviour a user notices: idempotent `up`, clear errors, `status`.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings, stackStatus } from "../src/index.js";
import { rabbitmqService } from "../src/services/rabbitmq.js";
import { stackCli } from "./cli.js";

const scratch = mkdtempSync(join(tmpdir(), "kronos-stack-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("kronos-stack up", () => {
  it("is harmless when the stack is already up: same processes, exit 0, endpoints printed", async () => {
    const before = await stackStatus();
    const result = stackCli(["up"]);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("127.0.0.1:9092");
    expect(result.stdout).toContain("/apis/ccompat/v7");
    const after = await stackStatus();
    expect(after.map((s) => s.pid)).toEqual(before.map((s) => s.pid));
    expect(after.every((s) => s.ready)).toBe(true);
  });

  describe("when a port is taken by another program", () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("stops with one clear message naming the port and the variable that moves it", () => {
      const result = stackCli(["up"], { KRONOS_STATE_DIR: join(scratch, "taken"), KRONOS_KAFKA_PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${port} is already in use`);
      expect(result.stderr).toContain("KRONOS_KAFKA_PORT");
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  });

  it("says how to install Java when java is missing", () => {
    // A PATH with nothing on it: no java, no mvn.
    const result = stackCli(["up"], { KRONOS_STATE_DIR: join(scratch, "nojava"), PATH: join(scratch, "empty") });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/java is needed to run Kafka.*Install a JDK 17/s);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("rejects an invalid port variable, naming it", () => {
    const result = stackCli(["status"], { KRONOS_REGISTRY_PORT: "eighty" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('KRONOS_REGISTRY_PORT="eighty" is not a TCP port');
  });
});

describe("RabbitMQ checks", () => {
  it("explains how to get a RabbitMQ when none answers and none is installed", async () => {
    // Only `sh` on PATH: rabbitmq-server is "not installed".
    const bin = join(scratch, "only-sh");
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    symlinkSync("/bin/sh", join(bin, "sh"));
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const settings = { ...loadSettings(), stateDir: join(scratch, "norabbit"), rabbitmqUrl: "amqp://127.0.0.1:1" };
      await expect(rabbitmqService.up(settings)).rejects.toThrow(
        /no RabbitMQ answers at amqp:\/\/127\.0\.0\.1:1 and none is installed\. Install RabbitMQ/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("kronos-stack status and help", () => {
  it("reports every service ready with its endpoint", () => {
    const result = stackCli(["status"]);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toMatch(/kafka\s+ready\s+127\.0\.0\.1:9092/);
    expect(result.stdout).toMatch(/registry\s+ready\s+http:\/\/127\.0\.0\.1:8081\/apis\/ccompat\/v7/);
    expect(result.stdout).toMatch(/rabbitmq\s+ready/);
  });

  it("prints usage for --help and fails on an unknown command", () => {
    expect(stackCli(["--help"]).stdout).toContain("Usage: kronos-stack <command>");
    const unknown = stackCli(["launch"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "launch"');
  });
});
