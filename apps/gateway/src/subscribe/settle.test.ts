import { type Delivery, TransportError } from "@kronos/transport";
import type { FastifyBaseLogger } from "fastify";
import { describe, expect, it } from "vitest";
import { HandleRegistry } from "./handles.js";
import type { SubscribeMetrics } from "./metrics.js";
import { Settler } from "./settle.js";
import { settleAll } from "./settle-bulk.js";

/** A delivery whose settles resolve after `delayMs`, record their order, and fail as `failWith` says. */
function fakeDelivery(
  name: string,
  log: string[],
  options: { delayMs?: number; position?: { partition: number; offset: string }; failWith?: () => unknown } = {},
) {
  const state = { returned: false };
  const settle = (what: string) => async () => {
    log.push(`${what} ${name}`);
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (options.failWith) throw options.failWith();
    return what === "retry" ? "retried" : undefined;
  };
  const delivery = {
    broker: options.position ? "kafka" : "rabbitmq",
    messageId: name,
    attempt: 1,
    position: options.position,
    get returned() {
      return state.returned;
    },
    ack: settle("ack"),
    retry: settle("retry"),
    deadLetter: settle("reject"),
    release: async () => {},
  };
  return { delivery: delivery as unknown as Delivery, state };
}

const quiet = { warn() {}, error() {} } as unknown as FastifyBaseLogger;
const metrics: SubscribeMetrics = {
  delivered() {},
  settled() {},
  batch() {},
  subscriptionOpened() {},
  subscriptionClosed() {},
};

function setup() {
  const handles = new HandleRegistry();
  const settler = new Settler({ handles, metrics, logger: quiet, defaultRetryDelayMs: 1000 });
  return { handles, settler };
}

describe("Settler", () => {
  it("answers 404 HANDLE_EXPIRED, not 503, for a delivery its broker took back before or while it was settled", async () => {
    const { handles, settler } = setup();
    const log: string[] = [];
    const gone = fakeDelivery("a", log);
    gone.state.returned = true;
    handles.hold("s.1", "s", "alice", gone.delivery, 30_000);
    await expect(settler.ack("alice", "s.1")).rejects.toMatchObject({ statusCode: 404, code: "HANDLE_EXPIRED" });
    expect(log).toEqual([]); // a RabbitMQ ack on a closed channel would be a no-op answered as done

    const closing = fakeDelivery("b", log, { failWith: () => new TransportError("CLOSED", "subscription closed") });
    handles.hold("s.2", "s", "alice", closing.delivery, 30_000);
    await expect(settler.ack("alice", "s.2")).rejects.toMatchObject({ statusCode: 404, code: "HANDLE_EXPIRED" });
    await expect(settler.ack("alice", "s.2")).rejects.toMatchObject({ statusCode: 404, code: "HANDLE_EXPIRED" });

    const lostChannel = fakeDelivery("c", log, {
      failWith: () => {
        lostChannel.state.returned = true;
        return new TransportError("RABBITMQ_UNAVAILABLE", "channel closed");
      },
    });
    handles.hold("s.3", "s", "alice", lostChannel.delivery, 30_000);
    await expect(settler.retry("alice", { handle: "s.3" })).rejects.toMatchObject({ code: "HANDLE_EXPIRED" });
  });

  it("keeps a delivery whose settle failed otherwise held, and answers 503 SETTLE_FAILED", async () => {
    const { handles, settler } = setup();
    const failing = fakeDelivery("a", [], { failWith: () => new TransportError("NACKED", "nacked") });
    handles.hold("s.1", "s", "alice", failing.delivery, 30_000);
    await expect(settler.retry("alice", { handle: "s.1" })).rejects.toMatchObject({ statusCode: 503 });
    expect(handles.check("s.1", "alice").handle).toBe("s.1");
  });

  it("acks cumulatively on Kafka: the named one and the lower offsets of its partition only", async () => {
    const { handles, settler } = setup();
    const log: string[] = [];
    const at = (partition: number, offset: number) =>
      fakeDelivery(`${partition}@${offset}`, log, { position: { partition, offset: String(offset) } }).delivery;
    handles.hold("s.1", "s", "alice", at(0, 10), 30_000, 1);
    handles.hold("s.2", "s", "alice", at(1, 5), 30_000, 2);
    handles.hold("s.3", "s", "alice", at(0, 9), 30_000, 3);
    handles.hold("s.4", "s", "alice", at(0, 11), 30_000, 4);
    handles.hold("t.1", "t", "alice", at(0, 1), 30_000, 1);
    expect(await settler.ackThrough("alice", "s.4")).toEqual({ acked: 3, handles: ["s.4", "s.1", "s.3"] });
    expect(log).toEqual(["ack 0@11", "ack 0@10", "ack 0@9"]);
  });

  it("acks cumulatively on RabbitMQ by the order the stream received them", async () => {
    const { handles, settler } = setup();
    const log: string[] = [];
    for (const order of [3, 1, 2, 4])
      handles.hold(`s.${order}`, "s", "alice", fakeDelivery(`m${order}`, log).delivery, 30_000, order);
    expect(await settler.ackThrough("alice", "s.3")).toEqual({ acked: 3, handles: ["s.3", "s.1", "s.2"] });
    await expect(settler.ackThrough("alice", "s.3")).rejects.toMatchObject({ statusCode: 409 });
    await expect(settler.ackThrough("bob", "s.4")).rejects.toMatchObject({ statusCode: 403 });
  });
});

describe("settleAll", () => {
  it("starts items in order, answers each in order, and runs a repeated handle after its first item", async () => {
    const { handles, settler } = setup();
    const log: string[] = [];
    handles.hold("s.1", "s", "alice", fakeDelivery("slow", log, { delayMs: 30 }).delivery, 30_000);
    handles.hold("s.2", "s", "alice", fakeDelivery("fast", log).delivery, 30_000);
    handles.hold("s.3", "s", "bob", fakeDelivery("bobs", log).delivery, 30_000);
    const result = await settleAll(
      settler,
      "alice",
      [
        { handle: "s.1", action: "retry" },
        { handle: "s.2", action: "ack" },
        { handle: "s.1", action: "ack" },
        { handle: "s.3", action: "ack" },
        { handle: "s.9", action: "reject" },
      ],
      quiet,
    );
    expect(log).toEqual(["retry slow", "ack fast"]);
    expect(result.results.map((r) => [r.handle, r.status, r.code ?? r.outcome])).toEqual([
      ["s.1", 202, "retried"],
      ["s.2", 204, "acked"],
      ["s.1", 409, "ALREADY_SETTLED"],
      ["s.3", 403, "NOT_YOUR_DELIVERY"],
      ["s.9", 404, "UNKNOWN_HANDLE"],
    ]);
    expect(result).toMatchObject({ succeeded: 2, failed: 3 });
  });
});
