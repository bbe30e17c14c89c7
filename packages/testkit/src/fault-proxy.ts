import { connect, createServer, type Server, type Socket } from "node:net";

/** Which way bytes travel through a {@link FaultProxy}: `up` from the client to the target, `down` back. */
export type ProxyDirection = "up" | "down";

/** One chunk the proxy forwarded, in arrival order. */
export interface ProxyChunk {
  readonly direction: ProxyDirection;
  readonly bytes: Buffer;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where connections go: `host:port`, or a URL whose host and port are used (`amqp://127.0.0.1:5672`). */
  readonly target: string;
  /** Port for the proxy to listen on (127.0.0.1); default any free one. */
  readonly port?: number;
  /** Keep every forwarded chunk in {@link FaultProxy.traffic} (default false: a long run would grow without end). */
  readonly record?: boolean;
}

/**
 * A TCP proxy on loopback that forwards to one target and injects the faults the reliability tests need: latency,
 * a frozen direction (bytes held back, the connection stays open: a broker that stops answering), dropped
 * connections (reset, as a crashed peer or a firewall would) and refused new connections. Written on `node:net`:
 * no fault proxy from the registries installs here without a daemon of its own (Toxiproxy is a Go server).
 */
export interface FaultProxy {
  /** `127.0.0.1:<port>` the proxy listens on. */
  readonly address: string;
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's (`amqp://guest:guest@127.0.0.1:<port>`). */
  via(url: string): string;
  /** Forwarded chunks, when recording. */
  readonly traffic: ProxyChunk[];
  /** Connections open now. */
  readonly connections: number;
  /** Delay each chunk by `ms` (0: none), in both directions, keeping their order. */
  setLatency(ms: number): void;
  /** Hold back the bytes of `direction` (they are forwarded, in order, on {@link thaw}). */
  freeze(direction: ProxyDirection | "both"): void;
  thaw(): void;
  /** Reset every open connection (RST to both ends); new ones are accepted. */
  resetAll(): void;
  /** While true, new connections are reset at once (a target that is down). */
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly held: { up: Buffer[]; down: Buffer[] };
}

function hostPort(target: string): { host: string; port: number } {
  if (target.includes("://")) {
    const url = new URL(target);
    return { host: url.hostname, port: Number(url.port) };
  }
  const at = target.lastIndexOf(":");
  return { host: target.slice(0, at), port: Number(target.slice(at + 1)) };
}

/** Starts a {@link FaultProxy}; resolves once it listens. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = hostPort(options.target);
  if (!Number.isInteger(target.port) || target.port <= 0) {
    throw new Error(`fault proxy: no port in target "${options.target}"`);
  }
  const pairs = new Set<Pair>();
  const traffic: ProxyChunk[] = [];
  let latencyMs = 0;
  let frozen: { up: boolean; down: boolean } = { up: false, down: false };
  let refusing = false;

  const forward = (pair: Pair, direction: ProxyDirection, chunk: Buffer) => {
    const to = direction === "up" ? pair.upstream : pair.client;
    if (options.record) traffic.push({ direction, bytes: chunk });
    if (frozen[direction] || pair.held[direction].length > 0) {
      pair.held[direction].push(chunk);
      return;
    }
    if (latencyMs > 0) {
      pair.held[direction].push(chunk);
      setTimeout(() => flush(pair, direction), latencyMs);
      return;
    }
    to.write(chunk);
  };

  const flush = (pair: Pair, direction: ProxyDirection) => {
    if (frozen[direction]) return;
    const to = direction === "up" ? pair.upstream : pair.client;
    const chunks = pair.held[direction].splice(0);
    for (const chunk of chunks) to.write(chunk);
  };

  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, held: { up: [], down: [] } };
    pairs.add(pair);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        pairs.delete(pair);
        (socket === client ? upstream : client).destroy();
      });
    }
    client.on("data", (chunk: Buffer) => forward(pair, "up", chunk));
    upstream.on("data", (chunk: Buffer) => forward(pair, "down", chunk));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    address: `127.0.0.1:${port}`,
    port,
    via(url) {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(port);
      return proxied.toString();
    },
    traffic,
    get connections() {
      return pairs.size;
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    freeze(direction) {
      frozen = { up: direction !== "down", down: direction !== "up" };
    },
    thaw() {
      frozen = { up: false, down: false };
      for (const pair of pairs) {
        flush(pair, "up");
        flush(pair, "down");
      }
    },
    resetAll() {
      for (const pair of pairs) {
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    refuse(value) {
      refusing = value;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
