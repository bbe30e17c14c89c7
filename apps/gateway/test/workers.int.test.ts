import { get } from "node:http";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServerProcess, waitForHttp } from "@kronos/app-kit/testing";
import { testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { addPrincipal, tempPrincipalsFile } from "./helpers.js";
import { until } from "./subscribe-helpers.js";

const SERVER = fileURLToPath(new URL("../dist/server.js", import.meta.url));

/** `GET url` on a connection of its own (fetch would keep one alive, and so always reach the same worker). */
function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    }).on("error", reject);
  });
}

/** The pids of the processes that logged a completed request, in `output` (pino JSON lines). */
function servingPids(output: string): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split("\n")) {
    if (!line.includes('"request completed"')) continue;
    pids.add((JSON.parse(line) as { pid: number }).pid);
  }
  return pids;
}

// The built gateway with GATEWAY_WORKERS=2, as `npm start` runs it: a node:cluster primary and two workers on one port.
describe("GATEWAY_WORKERS=2", () => {
  let server: ServerProcess | undefined;
  afterAll(() => server?.kill("SIGKILL"));

  it("serves from two worker processes, aggregates /metrics, restarts a crashed worker, drains on SIGTERM", async () => {
    const principals = tempPrincipalsFile();
    const key = addPrincipal(principals, "workers", "produce:*");
    const port = await freePort();
    const endpoints = testEndpoints();
    server = startServerProcess(SERVER, {
      KAFKA_BROKERS: endpoints.kafkaBrokers,
      SCHEMA_REGISTRY_URL: endpoints.registryUrl,
      RABBITMQ_URL: endpoints.rabbitmqUrl,
      REDIS_URL: "redis://127.0.0.1:6379",
      GATEWAY_HOST: "127.0.0.1",
      GATEWAY_PORT: String(port),
      GATEWAY_PRINCIPALS_FILE: principals,
      GATEWAY_WORKERS: "2",
      LOG_LEVEL: "info",
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`, 90_000);
    const whoami = () => status(`${base}/whoami`, { "x-api-key": key });
    // A worker that is not ready yet is not handed connections it cannot serve: wait for both to answer.
    await until(
      async () => {
        expect(await whoami()).toBe(200);
        return servingPids(server?.stdout() ?? "").size >= 2;
      },
      "requests served by two worker processes",
      60_000,
    );
    const first = servingPids(server.stdout());
    expect(first.size).toBe(2);

    // One /metrics for the cluster: the primary sums every worker's counters, whichever worker is scraped.
    const served = server
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"request completed"')).length;
    const whoamis = (text: string) =>
      Number(/http_request_duration_seconds_count\{[^}]*route="\/whoami"[^}]*\} (\d+)/.exec(text)?.[1] ?? -1);
    for (let i = 0; i < 2; i++) {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      // Every request logged so far is counted (a worker records it before its log line travels the pipe): more
      // than either worker served alone.
      expect(whoamis(metrics)).toBeGreaterThanOrEqual(served);
      expect(metrics.match(/^process_resident_memory_bytes/gm)?.length).toBe(1);
    }

    // A worker that dies is logged and replaced; the port keeps serving.
    const [victim] = [...first];
    process.kill(victim as number, "SIGKILL");
    await until(() => (server?.stdout() ?? "").includes("worker exited on its own"), "the crash to be logged", 10_000);
    await until(
      async () => {
        expect(await whoami()).toBe(200);
        return [...servingPids(server?.stdout() ?? "")].some((pid) => !first.has(pid));
      },
      "a new worker to serve",
      60_000,
    );

    // SIGTERM to every process of the cluster at once, as a service manager stopping the process group does: the
    // workers ignore it and drain once, when the primary tells them to.
    for (const pid of servingPids(server.stdout())) if (pid !== victim) process.kill(pid, "SIGTERM");
    server.kill("SIGTERM");
    const exited = await Promise.race([
      server.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 20 s")), 20_000)),
    ]);
    expect(exited, server.stdout().slice(-2000)).toEqual({ code: 0, signal: null });
    const stops = server
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"msg":"worker stopped"'));
    expect(stops).toHaveLength(2);
    for (const line of stops) expect(JSON.parse(line)).toMatchObject({ code: 0, signal: null });
    server = undefined;
  }, 240_000);
});
