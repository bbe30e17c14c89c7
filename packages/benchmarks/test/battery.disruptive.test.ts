// The battery's short version (npm test): each scenario through the real gateway with its faults (kill -9 of Kafka,
// then of RabbitMQ), run as the command runs. The full sizes are `npm run battery` (see the README).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "kronos-battery-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Row {
  scenario: string;
  sent: number;
  acknowledged: number;
  readBack: number;
  lost: number;
  unexpected: number;
  serverErrors: number;
  problems: string[];
  details: Record<string, number | string>;
  verdict: string;
}

/** Runs `npm run battery -- <scenario> --short` as a child process; resolves with its exit code and JSON rows. */
function battery(scenario: string): Promise<{ code: number | null; rows: Row[]; output: string }> {
  const json = join(workDir, `${scenario}.json`);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/battery/run.ts", scenario, "--short", "--json", json],
    {
      cwd: packageDir,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      let rows: Row[] = [];
      try {
        rows = JSON.parse(readFileSync(json, "utf8")).results;
      } catch {
        // No JSON: the run failed before the table; the output says why.
      }
      console.log(output);
      resolve({ code, rows, output });
    });
  });
}

describe("the reliability battery, short version", () => {
  for (const scenario of ["kafka-kill", "rabbitmq-kill"]) {
    it(`${scenario}: every acknowledged publish is read back, no 5xx but 503, no hang, recovery in time`, async () => {
      const { code, rows, output } = await battery(scenario);
      expect(rows, output.slice(-3000)).toHaveLength(1);
      const [row] = rows as [Row];
      expect(row.problems).toEqual([]);
      expect(row).toMatchObject({ scenario, lost: 0, unexpected: 0, serverErrors: 0, verdict: "ok" });
      // The fault happened and the gateway noticed it: some publishes were refused while the broker was down.
      expect(row.details.outageMs).toBeGreaterThan(0);
      expect(row.acknowledged).toBeGreaterThan(0);
      expect(row.acknowledged).toBeLessThan(row.sent);
      expect(row.readBack).toBeGreaterThanOrEqual(row.acknowledged);
      expect(code).toBe(0);
    }, 600_000);
  }
});

describe("the reliability battery, Kafka cluster fail-over", () => {
  it("kafka-failover: 3 replicas, the partition leader killed, nothing acknowledged lost, 202s go on", async () => {
    const { code, rows, output } = await battery("kafka-failover");
    expect(rows, output.slice(-3000)).toHaveLength(1);
    const [row] = rows as [Row];
    expect(row.problems).toEqual([]);
    expect(row).toMatchObject({ scenario: "kafka-failover", lost: 0, unexpected: 0, serverErrors: 0, verdict: "ok" });
    expect(row.details.resumedMs).toBeGreaterThanOrEqual(0);
    expect(row.details.isrAfter).toBe(2);
    expect(row.readBack).toBeGreaterThanOrEqual(row.acknowledged);
    expect(code).toBe(0);
  }, 900_000);
});

describe("the reliability battery, network faults and overload", () => {
  for (const scenario of ["network-rabbitmq", "network-kafka", "overload", "soak"]) {
    it(`${scenario}: every acknowledged publish read back, only 503 as a 5xx, no hang`, async () => {
      const { code, rows, output } = await battery(scenario);
      expect(rows, output.slice(-3000)).toHaveLength(1);
      const [row] = rows as [Row];
      expect(row.problems).toEqual([]);
      expect(row).toMatchObject({ scenario, lost: 0, unexpected: 0, serverErrors: 0, verdict: "ok" });
      expect(row.acknowledged).toBeGreaterThan(0);
      expect(code).toBe(0);
    }, 600_000);
  }
});

describe("the reliability battery, HTTP scenarios", () => {
  it("malformed-http: hostile requests at every route: 4xx with a code, no 5xx, nothing written, slow bodies cut off", async () => {
    const { code, rows, output } = await battery("malformed-http");
    expect(rows, output.slice(-3000)).toHaveLength(1);
    const [row] = rows as [Row];
    expect(row.problems).toEqual([]);
    expect(row).toMatchObject({ scenario: "malformed-http", unexpected: 0, serverErrors: 0, verdict: "ok" });
    expect(code).toBe(0);
  }, 600_000);

  it("auth-matrix: every invalid credential refused at every route, nothing written", async () => {
    const { code, rows, output } = await battery("auth-matrix");
    expect(rows, output.slice(-3000)).toHaveLength(1);
    const [row] = rows as [Row];
    expect(row.problems).toEqual([]);
    expect(row).toMatchObject({ scenario: "auth-matrix", unexpected: 0, serverErrors: 0, verdict: "ok" });
    expect(row.details.refused).toBeGreaterThan(100);
    expect(code).toBe(0);
  }, 600_000);
});

describe("the reliability battery, a gateway killed under a subscriber", () => {
  for (const scenario of ["consumer-crash-rabbitmq", "consumer-crash-kafka"]) {
    it(`${scenario}: every delivery held unacked comes again after the restart, none after its ack`, async () => {
      const { code, rows, output } = await battery(scenario);
      expect(rows, output.slice(-3000)).toHaveLength(1);
      const [row] = rows as [Row];
      expect(row.problems).toEqual([]);
      expect(row).toMatchObject({ scenario, lost: 0, unexpected: 0, verdict: "ok", readBack: 100 });
      expect(row.details.held).toBe(100);
      expect(code).toBe(0);
    }, 600_000);
  }
});

describe("the reliability battery, the relay and the dlq-manager killed", () => {
  it("relay-crash: every alert Kafka took reaches RabbitMQ across relay kills and broker restarts", async () => {
    const { code, rows, output } = await battery("relay-crash");
    expect(rows, output.slice(-3000)).toHaveLength(1);
    const [row] = rows as [Row];
    expect(row.problems).toEqual([]);
    expect(row).toMatchObject({ scenario: "relay-crash", lost: 0, unexpected: 0, verdict: "ok" });
    expect(row.acknowledged).toBe(row.sent);
    expect(row.readBack).toBe(row.acknowledged);
    expect(code).toBe(0);
  }, 900_000);

  it("dlq-crash: every dead letter replayed, none marked replayed without the broker's confirm", async () => {
    const { code, rows, output } = await battery("dlq-crash");
    expect(rows, output.slice(-3000)).toHaveLength(1);
    const [row] = rows as [Row];
    expect(row.problems).toEqual([]);
    expect(row).toMatchObject({ scenario: "dlq-crash", lost: 0, unexpected: 0, verdict: "ok" });
    expect(row.details.kills).toBe(3);
    expect(row.readBack).toBe(row.sent);
    expect(code).toBe(0);
  }, 900_000);
});
