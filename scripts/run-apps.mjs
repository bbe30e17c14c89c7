#!/usr/bin/env node
// Runs the three built apps in the foreground (used by `npm start`, after the build): each output line prefixed
// with the app's name, their URLs printed once each /readyz answers 200, Ctrl-C/SIGTERM forwarded to all of them.
// If one app exits on its own, the others are stopped and this script exits non-zero.
// No dependencies on purpose: plain Node ESM.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

const APPS = [
  { name: "gateway", prefix: "GATEWAY", port: 3000 },
  { name: "relay", prefix: "RELAY", port: 3001 },
  { name: "dlq-manager", prefix: "DLQ_MANAGER", port: 3002 },
];
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
const width = Math.max(...APPS.map((app) => app.name.length)) + 2;

function label(name) {
  return `[${name}]`.padEnd(width + 1);
}

function say(message) {
  process.stdout.write(`${label("run-apps")}${message}\n`);
}

/** Where the app listens, as its environment variables say (0.0.0.0 is reached through 127.0.0.1). */
function urlOf(app) {
  const host = process.env[`${app.prefix}_HOST`] || "127.0.0.1";
  const port = process.env[`${app.prefix}_PORT`] || String(app.port);
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

/**
 * RabbitMQ for `app`: unless RABBITMQ_URL is set, the local stack's amqps front with the app's own least-privilege
 * user (`kronos-<app>`, password file and CA under the stack's state directory, as `npm run stack -- up` made them).
 */
function rabbitmqEnv(app) {
  if (process.env.RABBITMQ_URL) return {};
  const state = process.env.KRONOS_STATE_DIR || join(homedir(), ".local", "state", "kronos");
  const caFile = join(state, "tls", "ca.crt");
  const passwordFile = join(state, "rabbitmq", "users", `kronos-${app.name}.password`);
  if (!existsSync(caFile) || !existsSync(passwordFile)) return {};
  return {
    RABBITMQ_URL: `amqps://localhost:${process.env.KRONOS_RABBITMQ_TLS_PORT || "5671"}`,
    RABBITMQ_SSL_CA_FILE: caFile,
    RABBITMQ_USERNAME: `kronos-${app.name}`,
    RABBITMQ_PASSWORD_FILE: passwordFile,
  };
}

/**
 * Kafka for `app`: unless KAFKA_BROKERS is set, the local stack's SASL_SSL listener with the app's own SCRAM user
 * (`gateway`, `relay`, `dlq-manager`; its ACLs allow only the app's topics and groups), password file and CA under the
 * stack's state directory, as `npm run stack -- up` made them.
 */
function kafkaEnv(app) {
  if (process.env.KAFKA_BROKERS) return {};
  const state = process.env.KRONOS_STATE_DIR || join(homedir(), ".local", "state", "kronos");
  const caFile = join(state, "tls", "ca.crt");
  const passwordFile = join(state, "kafka-users", `${app.name}.password`);
  if (!existsSync(caFile) || !existsSync(passwordFile)) return {};
  const plaintext = Number(process.env.KRONOS_KAFKA_PORT || "9092");
  return {
    KAFKA_BROKERS: `127.0.0.1:${process.env.KRONOS_KAFKA_SASL_PORT || String(plaintext + 2)}`,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: app.name,
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
    KAFKA_SSL_CA_FILE: caFile,
  };
}

let stopping = false;
let sentSignal;
let exitCode = 0;
const running = new Map();

function prefixLines(stream, name, out) {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
    out.write(`${label(name)}${line}\n`);
  });
}

function start(app) {
  const server = join(root, "apps", app.name, "dist", "server.js");
  if (!existsSync(server)) {
    say(`${server} is missing: build first (pnpm turbo run build).`);
    process.exit(1);
  }
  // Own process group: a Ctrl-C in the terminal reaches this script only, which forwards it once. (Reaching the
  // apps twice, directly and forwarded, would count as a second signal and abort their graceful shutdown.)
  const rabbitmq = rabbitmqEnv(app);
  if (rabbitmq.RABBITMQ_URL)
    say(`${app.name}: RabbitMQ over ${rabbitmq.RABBITMQ_URL} as ${rabbitmq.RABBITMQ_USERNAME}`);
  const kafka = kafkaEnv(app);
  if (kafka.KAFKA_BROKERS)
    say(`${app.name}: Kafka over SASL_SSL ${kafka.KAFKA_BROKERS} as ${kafka.KAFKA_SASL_USERNAME}`);
  const child = spawn(process.execPath, [server], {
    cwd: root,
    env: { ...process.env, ...rabbitmq, ...kafka },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  prefixLines(child.stdout, app.name, process.stdout);
  prefixLines(child.stderr, app.name, process.stderr);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(app.name);
      if (!stopping) {
        say(
          `${app.name} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); stopping the others.`,
        );
        exitCode = 1;
        stopAll("SIGTERM");
      } else if (code !== 0 && signal !== sentSignal) {
        // (Killed by the very signal we sent: the app was still starting, before its handlers were installed.)
        say(`${app.name} did not stop cleanly (${signal ? `signal ${signal}` : `exit code ${code}`}).`);
        exitCode = 1;
      }
      resolve();
    });
    child.on("error", (error) => {
      say(`could not start ${app.name}: ${error.message}`);
      exitCode = 1;
      running.delete(app.name);
      stopAll("SIGTERM");
      resolve();
    });
  });
  running.set(app.name, child);
  return exited;
}

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  sentSignal = signal;
  for (const child of running.values()) child.kill(signal);
  // An app that ignores the signal (or hangs in shutdown) is killed, and counts as a failure.
  setTimeout(() => {
    for (const [name, child] of running) {
      say(`${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it.`);
      child.kill("SIGKILL");
      exitCode = 1;
    }
  }, STOP_TIMEOUT_MS).unref();
}

async function waitUntilReady(app) {
  const url = urlOf(app);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer";
  let warned = false;
  while (!stopping && running.has(app.name)) {
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      if (response.status === 200) return url;
      last = `${response.status} ${body}`;
    } catch (error) {
      last = error.cause?.message ?? error.message;
    }
    if (!warned && Date.now() > deadline) {
      say(`${app.name} is not ready after ${READY_TIMEOUT_MS / 1000} s (last /readyz: ${last}); still waiting.`);
      warned = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    say(`${signal} received; stopping the apps.`);
    stopAll(signal);
  });
}

// Should this script die some other way, it takes the apps with it.
process.on("exit", () => {
  for (const child of running.values()) child.kill("SIGKILL");
});

const exits = APPS.map(start);
Promise.all(
  APPS.map(async (app) => {
    const url = await waitUntilReady(app);
    if (url) say(`${app.name} ready at ${url}  (${url}/readyz, ${url}/metrics)`);
    return url;
  }),
).then((urls) => {
  if (urls.every(Boolean)) say(`all apps ready: ${urls.join("  ")}. Ctrl-C stops them.`);
});

await Promise.all(exits);
say(exitCode === 0 ? "all apps stopped." : "stopped with errors.");
process.exit(exitCode);
