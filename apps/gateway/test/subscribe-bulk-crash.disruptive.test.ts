import { freePort, type ServerProcess } from "@kronos/app-kit/testing";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { SseClient, testEndpoints, uniqueName } from "@kronos/testkit";
import amqplib from "amqplib";
import { afterAll, describe, expect, it } from "vitest";
import { addPrincipal, startGatewayProcess, tempPrincipalsFile } from "./helpers.js";
import { alertValue } from "./publish-helpers.js";

// The built gateway as a process it starts itself, killed with SIGKILL while a bulk settle of 800 of the 1,000
// deliveries a client holds is in flight (half acks, half retries). Only what the client asked for may be settled,
// and nothing may be lost: every message comes again unless an ack for it was asked for.
const endpoints = testEndpoints();
const COUNT = 1000;
const IN_REQUEST = 800;

describe("a gateway killed in the middle of a bulk settle", () => {
  const queue = uniqueName("gw-bulk-crash");
  const principalsFile = tempPrincipalsFile();
  let server: ServerProcess | undefined;

  afterAll(async () => {
    server?.kill("SIGKILL");
    const connection = await amqplib.connect(endpoints.rabbitmqUrl);
    const channel = await connection.createChannel();
    for (const name of [queue, `${queue}.retry.1000`, `${queue}.dlq`]) await channel.deleteQueue(name).catch(() => {});
    await channel.deleteExchange(`${queue}.dlx`).catch(() => {});
    await connection.close();
  });

  it("settles nothing the client did not ask for, and loses nothing it did not ack", async () => {
    const headers = { "x-api-key": addPrincipal(principalsFile, "bulk-crash-test", "consume:*") };
    const sent = await fill(queue);

    const port = await freePort();
    server = await startGatewayProcess(port, principalsFile);
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/subscribe/${queue}?prefetch=${COUNT}`;
    const first = await SseClient.open(url, headers);
    expect(first.status, first.errorBody).toBe(200);
    const held = await first.messages(COUNT, 60_000);
    expect(new Set(held.map((m) => m.data.messageId))).toEqual(new Set(sent));

    // Even items ack, odd items retry (a confirmed copy each: the request takes a while); the last 200 stay out.
    const items = held.slice(0, IN_REQUEST).map((m, i) => ({ handle: m.id, action: i % 2 === 0 ? "ack" : "retry" }));
    const askedAck = new Set(
      held
        .slice(0, IN_REQUEST)
        .filter((_, i) => i % 2 === 0)
        .map((m) => m.data.messageId),
    );
    const notAsked = held.slice(IN_REQUEST).map((m) => m.data.messageId);
    const answer = fetch(`${base}/settle`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ items }),
    }).then(
      async (response) => ({
        status: response.status,
        body: (await response.json()) as { results?: Array<{ status: number; handle: string }> },
      }),
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    server.kill("SIGKILL");
    expect((await server.exited).signal).toBe("SIGKILL");
    first.close();
    const answered = await answer;
    // What the answer confirmed as acked (nothing when the kill came first, the normal case) must not come again.
    const confirmedAcks = new Set<string>();
    for (const result of (answered?.body?.results ?? []) as Array<{ status: number; handle: string }>) {
      const id = held.find((m) => m.id === result.handle)?.data.messageId;
      if (result.status === 204 && id) confirmedAcks.add(id);
    }

    server = await startGatewayProcess(port, principalsFile);
    const second = await SseClient.open(url, headers);
    expect(second.status, second.errorBody).toBe(200);
    // Every message not asked to be acked comes again: the 200 not in the request and the 400 retried (as the
    // original, redelivered, or as its retry copy after the 1 s tier); an asked-for ack may come again too.
    const mustCome = new Set(sent.filter((id) => !askedAck.has(id)));
    const seen = new Map<string, number>();
    const take = async (timeoutMs: number): Promise<boolean> => {
      let next: Awaited<ReturnType<SseClient["nextMessage"]>>;
      try {
        next = await second.nextMessage(timeoutMs);
      } catch {
        return false;
      }
      const id = next.data.messageId ?? "";
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const ack = await fetch(`${base}/ack/${encodeURIComponent(next.id)}`, { method: "POST", headers });
      expect(ack.status).toBe(204);
      return true;
    };
    const deadline = Date.now() + 90_000;
    while ([...mustCome].some((id) => !seen.has(id)) && Date.now() < deadline) await take(3000);
    // Then whatever else comes (duplicates of asked-for acks), until 3 s pass without a message.
    while (await take(3000)) {}
    second.close();
    const missing = [...mustCome].filter((id) => !seen.has(id));
    expect(missing, `${missing.length} messages lost`).toEqual([]);
    for (const id of notAsked) expect(seen.has(id ?? ""), `${id} was not in the request`).toBe(true);
    for (const id of confirmedAcks) expect(seen.has(id), `${id} was confirmed acked`).toBe(false);
    // Every message id seen is one that was sent (no strangers), and the queue ends empty.
    for (const id of seen.keys()) expect(sent).toContain(id);
    expect(answered === undefined || answered.status === 200).toBe(true);
    const ackedBeforeKill = [...askedAck].filter((id) => !seen.has(id ?? "")).length;
    console.info(
      `answer: ${answered?.status ?? "none (killed first)"}; asked-for acks applied before the kill: ${ackedBeforeKill} of ${askedAck.size}`,
    );
  });
});

/** Fills `queue` (created durable) with {@link COUNT} critical alerts, message ids `bulk-crash-<i>`; their ids. */
async function fill(queue: string): Promise<string[]> {
  const serde = new RegistrySerde({ url: endpoints.registryUrl, autoRegister: true });
  const connection = await amqplib.connect(endpoints.rabbitmqUrl);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  const sent: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const id = `bulk-crash-${i}`;
    const bytes = await serde.encode(CriticalAlertEvent, alertValue(id, "bulk crash test"));
    channel.sendToQueue(queue, bytes, { persistent: true, messageId: id, type: CriticalAlertEvent.name });
    sent.push(id);
  }
  await channel.waitForConfirms();
  await connection.close();
  return sent;
}
