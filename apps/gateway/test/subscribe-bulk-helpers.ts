// Shared by the bulk-settlement tests: the bulk and cumulative routes, and publishing many alerts quickly.

import { criticalAlert } from "./publish-helpers.js";
import type { listeningGateway } from "./subscribe-helpers.js";

type Gateway = Awaited<ReturnType<typeof listeningGateway>>;

/** One item of `POST /settle`. */
export interface Item {
  handle: string;
  action: "ack" | "retry" | "reject";
  delayMs?: number;
  reason?: string;
}

/** One result of `POST /settle`. */
export interface ItemResult {
  handle: string;
  status: number;
  outcome?: string;
  messageId?: string | null;
  attempt?: number;
  code?: string;
  message?: string;
}

/** `POST /settle` with `body` (normally `{ items }`) as `headers` (default: the gateway's subscriber). */
export function settleBulk(gateway: Gateway, body: unknown, headers: Record<string, string> = gateway.auth) {
  return gateway.app.inject({ method: "POST", url: "/settle", headers, payload: body as Record<string, unknown> });
}

/** `POST /ack-through/<handle>`. */
export function ackThrough(gateway: Gateway, handle: string, headers: Record<string, string> = gateway.auth) {
  return gateway.app.inject({ method: "POST", url: `/ack-through/${encodeURIComponent(handle)}`, headers });
}

/** Publishes `count` critical alerts to `topic` (a Kafka topic or RabbitMQ exchange) with `key`, 500 a request. */
export async function publishAlerts(gateway: Gateway, topic: string, key: string | undefined, count: number) {
  const messageIds: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const messages = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      topic,
      ...(key === undefined ? {} : { key }),
      payload: criticalAlert({ title: `alert ${start + i}` }),
    }));
    const response = await gateway.app.inject({
      method: "POST",
      url: "/publish/batch",
      headers: gateway.auth,
      payload: { messages },
    });
    if (response.statusCode !== 202) throw new Error(`publish/batch: ${response.statusCode} ${response.body}`);
    for (const result of response.json().results as Array<{ messageId: string }>) messageIds.push(result.messageId);
  }
  return messageIds;
}

/** Acks `items` through `POST /settle` and checks every one came back 204. */
export async function ackAll(gateway: Gateway, handles: string[]): Promise<ItemResult[]> {
  const response = await settleBulk(gateway, { items: handles.map((handle) => ({ handle, action: "ack" })) });
  if (response.statusCode !== 200) throw new Error(`settle: ${response.statusCode} ${response.body}`);
  return response.json().results;
}
