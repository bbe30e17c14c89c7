// What the broker benchmarks share: child processes that are always stopped, clean-up steps that always run (also
// on failure, Ctrl-C or a hard time limit), a temporary gateway principal, and the built gateway as a child process.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { endpoints, loadSettings } from "@kronos/local-stack";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import amqplib, { type ChannelModel } from "amqplib";
import type { ITopicConfig, Kafka } from "kafkajs";
import { Client, Pool } from "undici";
import { type AlternateOptions, alternate, type Contender, median, runLanes } from "./measure.js";

/** The local stack's endpoints (`@kronos/local-stack` settings; `SCHEMA_REGISTRY_URL` etc. when set). */
export const stack = endpoints(loadSettings());

const gatewayDist = dirname(fileURLToPath(import.meta.resolve("@kronos/gateway")));

/** Where {@link BenchHarness.httpContender} sends its requests, and the status that counts one as done. */
export interface HttpTarget {
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** The request bodies, sent in turn. */
  readonly bodies: readonly string[];
  readonly expect: number;
  /** Messages each request carries (a batch route): a request that answers `expect` counts this many. Default 1. */
  readonly messagesPerRequest?: number;
}

/** How many failure samples {@link BenchHarness.failed} keeps. */
const FAILURE_SAMPLES = 5;

/** One benchmark run's processes and clean-up steps. */
export class BenchHarness {
  readonly #name: string;
  readonly #failureSamples: string[] = [];
  #failures = 0;
  readonly #children: ChildProcess[] = [];
  readonly #cleanups: Array<() => Promise<unknown>> = [];
  readonly #hardLimit: NodeJS.Timeout;
  #cleanedUp = false;
  /** The process id of each server started here, by origin (for {@link serverCpu}). */
  readonly #servers = new Map<string, number>();
  /** Per HTTP contender whose server is known: its server's CPU µs and the messages done, over every turn. */
  readonly #cpu = new Map<string, { micros: number; messages: number }>();

  /** Stops everything and exits 1 after `hardLimitMs`, on an uncaught error, or exits 130 on SIGINT/SIGTERM. */
  constructor(name: string, hardLimitMs: number) {
    this.#name = name;
    this.#hardLimit = setTimeout(() => {
      console.error(`${name}: still running after ${hardLimitMs / 1000} s; stopping`);
      void this.cleanup().finally(() => process.exit(1));
    }, hardLimitMs);
    this.#hardLimit.unref();
    for (const event of ["uncaughtException", "unhandledRejection"] as const) {
      process.on(event, (error: unknown) => {
        console.error(`${name} failed:`, error);
        void this.cleanup().finally(() => process.exit(1));
      });
    }
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => void this.cleanup().finally(() => process.exit(130)));
    }
  }

  /** Adds a clean-up step; steps run in reverse order of addition, each one's failure ignored. */
  onCleanup(step: () => Promise<unknown>): void {
    this.#cleanups.push(step);
  }

  /** Starts `node <args>`; if it exits before {@link cleanup}, prints its output's tail and stops the run. */
  startChild(name: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): ChildProcess {
    const child = spawn(process.execPath, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    this.#children.push(child);
    let tail = "";
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", (code, signal) => {
      if (!this.#cleanedUp) {
        console.error(`${name} exited early (code ${code}, signal ${signal}):\n${tail}`);
        void this.cleanup().finally(() => process.exit(1));
      }
    });
    return child;
  }

  /** Stops the children (SIGTERM, SIGKILL after 10 s), then runs the clean-up steps. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    for (const child of this.#children) if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.all(this.#children.map(stopped));
    for (const step of this.#cleanups.reverse()) await step().catch(() => {});
  }

  /**
   * Runs the contenders' rounds ({@link alternate}), printing a line per measured round with the seconds since
   * `started` (a `performance.now()` time), then cleans up: also when a contender throws. Resolves with each
   * contender's messages/s per measured round, by name.
   */
  async runRounds(
    contenders: readonly Contender[],
    options: Omit<AlternateOptions, "onRound">,
    started: number,
  ): Promise<Map<string, number[]>> {
    try {
      return await alternate(contenders, {
        ...options,
        onRound: (round) =>
          console.log(
            `  round ${round}/${options.rounds} done (${((performance.now() - started) / 1000).toFixed(0)} s)`,
          ),
      });
    } finally {
      await this.cleanup();
    }
  }

  /**
   * A contender of `connections` workers, each POSTing one of `target.bodies` at a time over its own keep-alive
   * connection (closed at clean-up); a request counts as done when it answers `target.expect`, else as
   * {@link failed} with its status and the start of its body.
   */
  httpContender(name: string, target: HttpTarget, connections: number): Contender {
    const dispatcher =
      connections === 1
        ? new Client(target.origin, { pipelining: 1 })
        : new Pool(target.origin, { connections, pipelining: 1 });
    this.onCleanup(() => dispatcher.close());
    let next = 0;
    const per = target.messagesPerRequest ?? 1;
    const pid = this.#servers.get(target.origin);
    const cpu = { micros: 0, messages: 0 };
    if (pid !== undefined) this.#cpu.set(name, cpu);
    const run = async (until: number, max: number) =>
      per *
      (await runLanes(connections, until, Math.ceil(max / per), async () => {
        const body = target.bodies[next++ % target.bodies.length] as string;
        const response = await dispatcher.request({
          method: "POST",
          path: target.path,
          headers: target.headers,
          body,
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
        });
        const text = await response.body.text();
        if (response.statusCode === target.expect) return true;
        this.failed(`${name}: ${response.statusCode} ${text.slice(0, 300)}`);
        return false;
      }));
    return {
      name,
      run: async (until, max) => {
        const before = pid === undefined ? undefined : processCpuMicros(pid);
        const done = await run(until, max);
        const after = pid === undefined ? undefined : processCpuMicros(pid);
        if (before !== undefined && after !== undefined) {
          cpu.micros += after - before;
          cpu.messages += done;
        }
        return done;
      },
    };
  }

  /** Records that the server answering at `origin` is process `pid`, so contenders against it count its CPU. */
  server(origin: string, pid: number | undefined): void {
    if (pid !== undefined) this.#servers.set(origin, pid);
  }

  /**
   * Prints, for every HTTP contender whose server was started here, that server process's CPU time (user + system,
   * from /proc, in 10 ms ticks, every turn including the warm-up) per message: less noisy than rates when the
   * machine is shared, since a process waiting for a core uses no CPU.
   */
  printServerCpu(): void {
    const measured = [...this.#cpu].filter(([, { messages }]) => messages > 0);
    if (measured.length === 0) return;
    console.log("\nserver CPU µs per message (user + system from /proc, all turns; context)");
    const width = Math.max(...measured.map(([name]) => name.length)) + 2;
    for (const [name, { micros, messages }] of measured) {
      console.log(`  ${name.padEnd(width)} ${(micros / messages).toFixed(1).padStart(9)}`);
    }
  }

  /** Counts a failed operation (it counts as not done); the first few are kept as samples to print. */
  failed(sample: string): void {
    this.#failures++;
    if (this.#failureSamples.length < FAILURE_SAMPLES) this.#failureSamples.push(sample);
  }

  /** How many operations {@link failed} so far. */
  get failures(): number {
    return this.#failures;
  }

  /** When any operation failed: prints `<count> <what> (they count as not done)` and the samples kept. */
  printFailures(what: string): void {
    if (this.#failures === 0) return;
    console.log(`\n${this.#failures} ${what} (they count as not done); first ones:`);
    for (const sample of this.#failureSamples) console.log(`  ${sample}`);
  }

  /** Cleans up and exits with `code`. */
  async finish(code: number): Promise<never> {
    await this.cleanup();
    clearTimeout(this.#hardLimit);
    console.log(`(${this.#name} done)`);
    process.exit(code);
  }

  /**
   * A raw amqplib connection to the stack's RabbitMQ, Nagle off as the gateway's, closed at clean-up. Its 'error'
   * events are ignored: a broken connection shows as failed operations, which the benchmark reports.
   */
  async amqplib(): Promise<ChannelModel> {
    const connection = await amqplib.connect(stack.rabbitmqUrl, { noDelay: true });
    connection.on("error", () => {});
    this.onCleanup(() => connection.close());
    return connection;
  }

  /**
   * A kafkajs client on the stack's Kafka (5 retries), with `topics` created (waiting for their leaders) and, at
   * clean-up, every topic whose name starts with `prefix` deleted.
   */
  async kafkaWithTopics(clientId: string, topics: ITopicConfig[], prefix: string): Promise<Kafka> {
    const kafka = createKafkaClient({ clientId, brokers: stack.kafkaBrokers.split(","), retry: { retries: 5 } });
    const admin = kafka.admin();
    await admin.connect();
    this.onCleanup(() => admin.disconnect());
    await admin.createTopics({ topics, waitForLeaders: true });
    this.onCleanup(async () => {
      const ours = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
      await admin.deleteTopics({ topics: ours });
    });
    return kafka;
  }

  /** A temporary principals file with one API key for `acl` (through the gateway's principals CLI). */
  principal(acl: string): { apiKey: string; principalsFile: string } {
    const workDir = mkdtempSync(join(tmpdir(), "kronos-bench-"));
    this.onCleanup(async () => rmSync(workDir, { recursive: true, force: true }));
    const principalsFile = join(workDir, "principals.json");
    return { apiKey: this.addPrincipal(principalsFile, "bench", acl), principalsFile };
  }

  /** Adds principal `id` with `acl` to `principalsFile` (created if missing); returns its API key. */
  addPrincipal(principalsFile: string, id: string, acl: string): string {
    const added = principalsCli(["add", id, "--acl", acl, "--file", principalsFile]);
    const apiKey = /kgw_[A-Za-z0-9_-]+/.exec(added.stdout)?.[0];
    if (added.status !== 0 || apiKey === undefined) throw new Error(`could not create a principal: ${added.stderr}`);
    return apiKey;
  }

  /** Revokes principal `id` of `principalsFile`. */
  revokePrincipal(principalsFile: string, id: string): void {
    const revoked = principalsCli(["revoke", id, "--file", principalsFile]);
    if (revoked.status !== 0) throw new Error(`could not revoke principal ${id}: ${revoked.stderr}`);
  }

  /**
   * Starts the built gateway (`apps/gateway/dist/server.js`) on a free port with the stack's endpoints, access logs
   * off and the per-principal rate limit out of the way, plus `env`; resolves with its origin once `/readyz` is 200.
   */
  async gateway(name: string, principalsFile: string, env: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    // BENCH_GATEWAY_CPU_PROF=<dir>: the gateways write V8 CPU profiles there when they stop (for finding where a
    // request's time goes; profiling slows them, so the ratios of such a run mean nothing).
    const profileDir = process.env.BENCH_GATEWAY_CPU_PROF;
    const profiling = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    const child = this.startChild(name, [...profiling, gatewayServer], gatewayEnv(port, principalsFile, env));
    const origin = `http://127.0.0.1:${port}`;
    this.server(origin, child.pid);
    await waitFor(`${origin}/readyz`, name);
    return origin;
  }
}

/** The built gateway's entry point (`apps/gateway/dist/server.js`). */
export const gatewayServer = join(gatewayDist, "server.js");

/** The environment a benchmark's gateway runs with: the stack's brokers, `port`, `principalsFile`, then `env`. */
export function gatewayEnv(port: number, principalsFile: string, env: Record<string, string> = {}) {
  return {
    ...process.env,
    NODE_ENV: "development",
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(port),
    GATEWAY_PRINCIPALS_FILE: principalsFile,
    // The default (6000/min per principal) would answer 429 within a second.
    GATEWAY_RATE_LIMIT_PER_MINUTE: "1000000000",
    // Access logs would measure the log pipe; warnings and errors still show.
    LOG_LEVEL: "warn",
    KAFKA_BROKERS: stack.kafkaBrokers,
    RABBITMQ_URL: stack.rabbitmqUrl,
    SCHEMA_REGISTRY_URL: stack.registryUrl,
    ...env,
  };
}

/** Runs the gateway's principals CLI (`kronos-gateway-principals`). */
function principalsCli(args: string[]) {
  const cli = join(gatewayDist, "..", "bin", "kronos-gateway-principals.js");
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Clock ticks a second of /proc's CPU times (`getconf CLK_TCK`: 100 on Linux builds for every common platform). */
const CLOCK_TICKS = 100;

/** The CPU time (user + system) process `pid` used so far, in µs, from /proc; undefined where there is none. */
export function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the command name (in parentheses, which may hold spaces): state, ..., utime (14th), stime (15th).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/**
 * Resolves with the first match of `pattern` in `child`'s standard output (what it printed so far, as one text);
 * rejects naming `what` when nothing matched within `timeoutMs`.
 */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

/** Polls `url` until it answers 2xx; throws naming `what` and the last answer after `timeoutMs`. */
export async function waitFor(url: string, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s: ${last}`);
}

/**
 * `BENCH_ONLY=<regular expression>`: the contenders whose names match it (all when unset), for a quicker run while
 * working on one path; the ratio rows whose two contenders did not run are left out.
 */
export function selected<T extends { readonly name: string }>(contenders: readonly T[]): T[] {
  const only = process.env.BENCH_ONLY;
  if (only === undefined || only === "") return [...contenders];
  const pattern = new RegExp(only, "i");
  const kept = contenders.filter((contender) => pattern.test(contender.name));
  if (kept.length === 0) throw new Error(`BENCH_ONLY=${only} matches no contender`);
  return kept;
}

/** One line of the ratio table: contender `a`'s rate ÷ contender `b`'s, and its target (NaN: context only). */
export interface RatioRow {
  readonly label: string;
  readonly a: string;
  readonly b: string;
  readonly target: number;
}

/** Prints the table of ratios: each row numerator ÷ denominator, its value and whether its target is met. */
export function printRatios(rows: readonly RatioRow[], ratioOf: (a: string, b: string) => number): void {
  console.log("\nratios (median of per-round ratios)");
  let heading = ""; // a left-out row's label goes on the next row printed
  console.log(`  ${"ratio".padEnd(38)}${"numerator ÷ denominator".padEnd(66)}${"ratio".padStart(8)}  target`);
  for (const row of rows) {
    if (row.label !== "") heading = row.label;
    const value = ratioOf(row.a, row.b);
    if (Number.isNaN(value)) continue;
    const label = heading;
    heading = "";
    const target = Number.isNaN(row.target) ? "" : `≥ ${row.target}×  ${value >= row.target ? "met" : "MISSED"}`;
    console.log(
      `  ${label.padEnd(38)}${`${row.a} ÷ ${row.b}`.padEnd(66)}${`${value.toFixed(2)}×`.padStart(8)}  ${target}`,
    );
  }
}

/**
 * Prints each contender's rate, the median of its measured rounds (`rateOf(name)`: its rates per round), under the
 * heading `<unit> (median of rounds; context, not the result)`: the ratios are the result.
 */
export function printRates(
  contenders: readonly Contender[],
  rateOf: (name: string) => readonly number[],
  unit = "messages/s",
): void {
  const width = Math.max(...contenders.map((contender) => contender.name.length)) + 2;
  console.log(`\n${unit} (median of rounds; context, not the result)`);
  for (const contender of contenders) {
    const perSecond = Math.round(median(rateOf(contender.name))).toLocaleString("en-US");
    console.log(`  ${contender.name.padEnd(width)} ${perSecond.padStart(9)}`);
  }
}
