import { freePort, type ServerProcess } from "@kronos/app-kit/testing";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { SseClient, testEndpoints, uniqueName } from "@kronos/testkit";
import amqplib from "amqplib";
import { afterAll, describe, expect, it } from "vitest";
import { addPrincipal, startGatewayProcess, tempPrincipalsFile } from "./helpers.js";
import { alertValue } from "./publish-helpers.js";

// The built gateway as a process, killed with SIGKILL while a client holds 100 unacked deliveries: nothing it held
// may be lost, since only the client's ack removes a message from the queue.
const endpoints = testEndpoints();

describe("a gateway killed while a client holds deliveries", () => {
  const queue = uniqueName("gw-crash");
  const principalsFile = tempPrincipalsFile();
  let server: ServerProcess | undefined;

  afterAll(async () => {
    server?.kill("SIGKILL");
    const connection = await amqplib.connect(endpoints.rabbitmqUrl);
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue).catch(() => {});
    await connection.close();
  });

  it("delivers all 100 again after a restart and a new subscription", async () => {
    const headers = { "x-api-key": addPrincipal(principalsFile, "crash-test", "consume:*") };

    const serde = new RegistrySerde({ url: endpoints.registryUrl, autoRegister: true });
    const connection = await amqplib.connect(endpoints.rabbitmqUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    const sent = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const id = `crash-${i}`;
      const bytes = await serde.encode(CriticalAlertEvent, alertValue(id, "crash test"));
      channel.sendToQueue(queue, bytes, { persistent: true, messageId: id, type: CriticalAlertEvent.name });
      sent.add(id);
    }
    await channel.waitForConfirms();
    await connection.close();

    const port = await freePort();
    server = await startGatewayProcess(port, principalsFile);
    const url = `http://127.0.0.1:${port}/subscribe/${queue}?prefetch=100`;
    const first = await SseClient.open(url, headers);
    expect(first.status, first.errorBody).toBe(200);
    const held = await first.messages(100, 30_000);
    expect(new Set(held.map((m) => m.data.messageId))).toEqual(sent);

    server.kill("SIGKILL");
    expect((await server.exited).signal).toBe("SIGKILL");
    first.close();

    server = await startGatewayProcess(port, principalsFile);
    const second = await SseClient.open(url, headers);
    expect(second.status, second.errorBody).toBe(200);
    const again = await second.messages(100, 60_000);
    expect(new Set(again.map((m) => m.data.messageId))).toEqual(sent);
    expect(again.every((m) => m.data.redelivered)).toBe(true);
    for (const m of again) {
      const ack = await fetch(`http://127.0.0.1:${port}/ack/${encodeURIComponent(m.id)}`, { method: "POST", headers });
      expect(ack.status).toBe(204);
    }
    second.close();
  });
});
