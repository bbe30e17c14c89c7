import { Counter, Histogram, type Registry } from "prom-client";

/**
 * How a request ended, the `outcome` label of `gateway_requests_total`: `answered` (200), `no_reply` (504, no
 * reply within the timeout), `bad_reply` (502, the reply could not be decoded), and as for publishing `invalid`,
 * `unroutable`, `rejected`, `unavailable`, `timeout` (503: the registry or the broker did not answer in time),
 * `error`.
 */
export type RequestOutcome =
  | "answered"
  | "no_reply"
  | "bad_reply"
  | "invalid"
  | "unroutable"
  | "rejected"
  | "unavailable"
  | "timeout"
  | "error";

/** The request metrics of one gateway (in the app's registry). */
export interface RequestMetrics {
  /** Counts one request; `seconds` (request start → answer) feeds the latency histogram when given. */
  requested(topic: string, broker: string, outcome: RequestOutcome, seconds?: number): void;
}

/**
 * Registers in `registry`: `gateway_requests_total{topic,broker,outcome}` and
 * `gateway_request_duration_seconds{broker,outcome}` (HTTP request start → reply decoded, or the failure). Labels
 * are bounded: topics come from the contract manifest, never from the raw request.
 */
export function createRequestMetrics(registry: Registry): RequestMetrics {
  const requests = new Counter({
    name: "gateway_requests_total",
    help: "Requests (POST /request) by destination, broker and outcome.",
    labelNames: ["topic", "broker", "outcome"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "gateway_request_duration_seconds",
    help: "Time from the request to its decoded reply (or the failure), in seconds.",
    labelNames: ["broker", "outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    requested(topic, broker, outcome, seconds) {
      requests.inc({ topic, broker, outcome });
      if (seconds !== undefined) latency.observe({ broker, outcome }, seconds);
    },
  };
}
