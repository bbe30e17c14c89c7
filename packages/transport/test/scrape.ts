// Helpers for the tests of the scrape-time collectors (src/metrics/): scrape a registry, and a server that never answers.
import { createServer, type Server, type Socket } from "node:net";
import type { Registry } from "prom-client";
import { expect } from "vitest";
import type { TransportLogger } from "../src/index.js";

/** Scrapes `registry` as Prometheus would, and returns the series of `name` as `labels-as-text → value`. */
export async function scrape(registry: Registry, name: string): Promise<Map<string, number>> {
  const text = await registry.metrics();
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(name.length, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers (a broker that hangs). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A logger that keeps its warnings. */
export function recordingLogger(): TransportLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (_fields, message) => warnings.push(message), error() {} };
}

/**
 * Scrapes `registry`, whose gauge `name` reads from a broker that never answers with a time limit of 300 ms, and
 * expects the scrape to succeed in well under the broker's own timeouts: no series, the gauge's TYPE line, one warning.
 */
export async function expectScrapeDespiteHang(
  registry: Registry,
  name: string,
  logger: { warnings: string[] },
): Promise<void> {
  const started = performance.now();
  expect(await scrape(registry, name)).toEqual(new Map());
  expect(performance.now() - started).toBeLessThan(1500);
  expect(logger.warnings).toEqual([`${name}: read failed, kept last values`]);
  expect(await registry.metrics()).toContain(`# TYPE ${name} gauge`);
}
