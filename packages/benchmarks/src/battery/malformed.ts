// Scenario 8: malformed HTTP at every route of the gateway, from a generator: content types that bypassed body
// validation in past Fastify CVEs, deep and huge JSON, prototype keys, invalid UTF-8, wrong types, absurd numbers,
// header floods, hostile path parameters and slow bodies. Every answer must be a 4xx with a code (never a 5xx),
// the gateway must stay up, and no broker may have gained a message.

import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import type { BatteryContext } from "./context.js";
import type { ScenarioResult } from "./report.js";
import { brokerWrites } from "./writes.js";

interface Operation {
  readonly method: string;
  /** OpenAPI path, e.g. `/ack/{messageId}`. */
  readonly path: string;
  readonly hasBody: boolean;
}

interface Probe {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | string;
  readonly what: string;
  /** A legal request in a strange shape (a header flood within limits): any non-5xx answer is fine. */
  readonly mayPass?: boolean;
}

/** Values for path parameters that a name check must refuse (or a lookup must not find). */
const HOSTILE_PARAMS = [
  "a b",
  "%00",
  "%0A",
  "%25",
  "..%2F..",
  "rabbitmq:kronos.gaia.critical.notifications%0A",
  "kafka:__consumer_offsets",
  "kafka:kafkasql-journal",
  "x".repeat(3000),
  "%F0%9F%92%A9".repeat(50),
  "%C3%28",
  "__proto__",
  "constructor",
  "%2e%2e",
];

/** Content types that must not reach a JSON route's handler as parsed JSON (CVE-2022-41919, CVE-2025-32442...). */
const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-7",
  "APPLICATION/JSON",
  "application/json ;",
  "application/json\t; x=y",
  "application/jsonx",
  "application/vnd.api+json",
  " application/json",
  "application/json; charset=latin1",
  "",
];

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

function nestedObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** JSON bodies that are wrong in every way a client can be wrong. */
function hostileBodies(): Array<{ body: Buffer | string; what: string }> {
  const alert = {
    topic: "kronos.gaia.critical",
    payload: { severity: "CRITICAL" },
  };
  return [
    { body: "", what: "empty body" },
    { body: "{", what: "truncated JSON" },
    { body: "null", what: "null" },
    { body: "[]", what: "array" },
    { body: '"text"', what: "string" },
    { body: "1e309", what: "number overflowing to Infinity" },
    { body: nested(5000), what: "arrays nested 5,000 deep" },
    { body: nestedObject(5000), what: "objects nested 5,000 deep" },
    { body: JSON.stringify({ topic: "x".repeat(2_000_000) }), what: "a 2 MB string" },
    { body: '{"__proto__":{"admin":true},"topic":"kronos.gaia.critical","payload":{}}', what: "__proto__ key" },
    { body: '{"constructor":{"prototype":{"x":1}},"topic":"kronos.log.entries"}', what: "constructor key" },
    {
      body: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      what: "invalid UTF-8 in a string",
    },
    { body: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), what: "a UTF-16 byte-order mark" },
    { body: JSON.stringify({ ...alert, topic: 42 }), what: "topic a number" },
    { body: JSON.stringify({ ...alert, payload: "x" }), what: "payload a string" },
    { body: JSON.stringify({ ...alert, priority: 1e300 }), what: "absurd priority" },
    { body: JSON.stringify({ ...alert, priority: -1 }), what: "negative priority" },
    { body: JSON.stringify({ ...alert, headers: { "message-id": { x: 1 } } }), what: "header value an object" },
    { body: JSON.stringify({ messages: Array.from({ length: 5000 }, () => alert) }), what: "a 5,000-message batch" },
    { body: JSON.stringify({ messages: "x" }), what: "batch messages a string" },
    { body: JSON.stringify({ delayMs: 1e308, reason: "x" }), what: "absurd delay" },
    { body: JSON.stringify({ delayMs: -5, reason: ["x"] }), what: "negative delay, reason an array" },
    { body: JSON.stringify({ name: "a\nb", broker: "rabbitmq" }), what: "a name with a newline" },
    { body: JSON.stringify({ name: "__consumer_offsets", broker: "kafka", partitions: 1 }), what: "an internal name" },
    { body: JSON.stringify({ timeoutMs: -1, topic: "kronos.router.requests", payload: {} }), what: "negative timeout" },
    { body: `{"a":${"1".repeat(400)}}`, what: "a 400-digit number" },
    { body: JSON.stringify({ a: "\u0000\ud800" }), what: "NUL and a lone surrogate" },
  ];
}

/** Fills a path's parameters with `value`. */
function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, value);
}

function probesFor(operations: readonly Operation[], auth: Record<string, string>, count: number): Probe[] {
  const probes: Probe[] = [];
  const bodies = hostileBodies();
  const json = { ...auth, "content-type": "application/json" };
  for (const operation of operations) {
    const withParams = operation.path.includes("{");
    if (withParams) {
      for (const path of HOSTILE_PARAMS.map((value) => fill(operation.path, value))) {
        probes.push({
          method: operation.method,
          path,
          headers: auth,
          what: `${operation.method} ${path.slice(0, 60)}`,
        });
      }
    }
    if (operation.hasBody) {
      const path = withParams ? fill(operation.path, "battery-handle") : operation.path;
      for (const { body, what } of bodies) {
        probes.push({
          method: operation.method,
          path,
          headers: json,
          body,
          what: `${operation.method} ${path}: ${what}`,
        });
      }
      for (const type of CONTENT_TYPES) {
        probes.push({
          method: operation.method,
          path,
          headers: { ...auth, "content-type": type },
          body: '{"topic":"kronos.gaia.critical","payload":{}}',
          what: `${operation.method} ${path}: content type "${type}"`,
        });
      }
    }
    // Credentials that are wrong in shape: none, two keys, garbage, a huge one.
    for (const headers of [
      {},
      { "x-api-key": "kgw_not-a-key" },
      { authorization: "Bearer x.y.z" },
      { authorization: `Bearer ${"a".repeat(20_000)}` },
      { authorization: "Basic Zm9vOmJhcg==" },
    ]) {
      probes.push({
        method: operation.method,
        path: withParams ? fill(operation.path, "x") : operation.path,
        headers,
        what: `${operation.method} ${operation.path}: credential ${JSON.stringify(headers).slice(0, 40)}`,
      });
    }
    // A header flood.
    const flood: Record<string, string> = { ...auth };
    for (let i = 0; i < 300; i++) flood[`x-flood-${i}`] = "y".repeat(100);
    probes.push({
      method: operation.method,
      path: fill(operation.path, "x"),
      headers: flood,
      what: `${operation.method} ${operation.path}: 300 headers`,
      mayPass: true,
    });
  }
  // Repeat the generated probes (each run sends them in a new random order) up to `count`.
  const all: Probe[] = [];
  while (all.length < count) {
    const round = [...probes].sort(() => Math.random() - 0.5);
    all.push(...round.slice(0, count - all.length));
  }
  return all;
}

/** Open routes that are answered 200 to anyone by design (health, metrics, docs): not probed for a 4xx. */
const PUBLIC_GET = new Set(["/healthz", "/readyz", "/metrics", "/openapi.json"]);

/**
 * A body that never finishes: headers with Content-Length 100,000, then a byte a second. Resolves with how long the
 * gateway kept the connection open (it must cut it off).
 */
function slowBody(origin: string, path: string, auth: Record<string, string>, limitMs: number): Promise<number> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(url.port), url.hostname);
    let drip: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(drip);
      socket.destroy();
      resolve(Date.now() - started);
    };
    const limit = setTimeout(finish, limitMs);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(limit);
      finish();
    });
    socket.on("connect", () => {
      const headers = Object.entries({ ...auth, "content-type": "application/json", "content-length": "100000" })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\n${headers}\r\n{`);
      drip = setInterval(() => socket.write(" "), 1000);
    });
  });
}

/**
 * Sends one probe; an event stream is closed at once (a refused request answers at once, an accepted one would
 * stream). Through node:http, which sends the path as written: fetch (a WHATWG URL) resolves `%2e%2e` segments and
 * would send another request than the probe's.
 */
/** Bodies above this many bytes are past every route's body limit (the gateway's largest is 1 MiB). */
const OVERSIZED_BYTES = 1_048_576;

function send(origin: string, probe: Probe): Promise<{ status: number; stream: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(origin);
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        // Spaces and non-ASCII percent-encoded as fetch would; everything else (dot segments) as written.
        path: probe.path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)),
        method: probe.method,
        headers: probe.headers,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (String(res.headers["content-type"] ?? "").includes("text/event-stream")) {
          res.destroy();
          resolve({ status, stream: true, text: "" });
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status, stream: false, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error("no answer within 15 s")));
    req.on("error", reject);
    req.end(probe.body);
  });
}

export async function malformedHttp(context: BatteryContext): Promise<ScenarioResult> {
  const { origin, headers: auth } = context.gateway;
  const count = context.size === "full" ? 5000 : 1000;
  const spec = (await (await fetch(`${origin}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { requestBody?: unknown }>>;
  };
  const operations: Operation[] = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ["get", "post", "delete", "put", "patch"].includes(method))
      .filter(([method]) => !(method === "get" && PUBLIC_GET.has(path)))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        hasBody: operation.requestBody !== undefined,
      })),
  );
  const before = await brokerWrites(context);
  const probes = probesFor(operations, auth, count);
  const statuses: Record<string, number> = {};
  const problems: string[] = [];
  let serverErrors = 0;
  let withoutCode = 0;
  let next = 0;
  const lane = async () => {
    for (;;) {
      const probe = probes[next++];
      if (!probe) return;
      try {
        const response = await send(origin, probe);
        const status = response.status;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200 && response.stream) {
          problems.push(`${probe.what}: a stream was opened`);
          continue;
        }
        const text = response.text;
        if (status >= 500) {
          serverErrors++;
          if (problems.length < 20) problems.push(`${probe.what}: ${status} ${text.slice(0, 160)}`);
        } else if (status < 400) {
          if (probe.mayPass) continue;
          if (problems.length < 20) problems.push(`${probe.what}: accepted (${status})`);
        } else if (!probe.mayPass && !/"code"\s*:\s*"[A-Z][A-Z0-9_]*"/.test(text)) {
          withoutCode++;
          if (problems.length < 20) problems.push(`${probe.what}: ${status} without a code: ${text.slice(0, 120)}`);
        }
      } catch (error) {
        // A body past the gateway's limit may be refused by closing the connection while the client still writes
        // (HTTP allows it; Node 24's server does it sooner than 20's): the client sees EPIPE or ECONNRESET instead
        // of the 413. Nothing was accepted (what reached the brokers is counted below), so that is a refusal too.
        const code = (error as NodeJS.ErrnoException).code;
        if (Buffer.byteLength(probe.body ?? "") > OVERSIZED_BYTES && (code === "EPIPE" || code === "ECONNRESET")) {
          statuses["closed on an oversized body"] = (statuses["closed on an oversized body"] ?? 0) + 1;
          continue;
        }
        const name = (error as Error).name;
        statuses[name] = (statuses[name] ?? 0) + 1;
        if (problems.length < 20) problems.push(`${probe.what}: ${name} ${String(error).slice(0, 120)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));

  // Slow bodies: cut off by the server, also for a principal without the right.
  const slowLimitMs = 60_000;
  const slow = await Promise.all([
    slowBody(origin, "/publish", auth, slowLimitMs),
    slowBody(origin, "/publish", {}, slowLimitMs),
  ]);
  for (const ms of slow) {
    if (ms >= slowLimitMs) problems.push(`a body that never finishes held its connection for ${slowLimitMs / 1000} s`);
  }
  const alive = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
    (response) => response.status === 200,
    () => false,
  );
  if (!alive) problems.push("the gateway no longer answers /healthz");
  const after = await brokerWrites(context);
  const written = after.writtenSince(before);
  if (written !== 0)
    problems.push(`${written} messages were written to the brokers (${after.grownSince(before).join(", ")})`);
  if (withoutCode > 0) problems.push(`${withoutCode} 4xx answers without a code`);
  return {
    scenario: "malformed-http",
    load: `${count.toLocaleString("en-US")} generated requests at ${operations.length} routes, 8 clients; 2 slow bodies`,
    faults: "malformed requests",
    sent: count,
    acknowledged: Object.entries(statuses)
      .filter(([status]) => /^2\d\d$/.test(status))
      .reduce((sum, [, n]) => sum + n, 0),
    readBack: 0,
    lost: 0,
    duplicated: 0,
    unexpected: written,
    serverErrors,
    problems,
    details: { statuses: JSON.stringify(statuses), slowBodyCutOffMs: JSON.stringify(slow) },
  };
}
