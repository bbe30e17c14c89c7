import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Catalog, CatalogError, type CatalogIssue, loadCatalog, loadCatalogSync } from "../src/index.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Loads a fixture that must be invalid and returns its issues. */
async function issuesOf(name: string): Promise<CatalogIssue[]> {
  const error = await loadCatalog(fixture(name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogError);
  return (error as CatalogError).issues;
}

describe("loadCatalog on a valid fixture", () => {
  let catalog: Catalog;
  it("loads events, bindings and destinations", async () => {
    catalog = await loadCatalog(fixture("valid"));
    expect(catalog.events.map((e) => e.name)).toEqual(["kronos.shop.OrderPlaced", "kronos.shop.OrderShipped"]);
    const placed = catalog.events[0];
    expect(placed).toMatchObject({
      name: "kronos.shop.OrderPlaced",
      subject: "kronos.shop.OrderPlaced",
      domain: "shop",
      file: "shop/OrderPlaced.avsc",
      compatibility: "FULL_TRANSITIVE",
      owner: "shop",
      partitionKey: "orderId",
      routingKey: "order.{status}.{total.currency}",
    });
    expect(placed?.schema.name).toBe("OrderPlaced");
    expect(placed?.bindings).toEqual([
      {
        broker: "kafka",
        channel: "orders",
        topic: "kronos.shop.orders",
        partitions: 3,
        replicas: 1,
        cleanupPolicy: ["delete"],
        retentionMs: 86_400_000,
        keyField: "orderId",
      },
      {
        broker: "kafka",
        channel: "orderSnapshots",
        topic: "kronos.shop.order-snapshots",
        partitions: 1,
        replicas: 1,
        cleanupPolicy: ["compact"],
        retentionMs: null,
        keyField: "orderId",
      },
      {
        broker: "rabbitmq",
        channel: "shop",
        exchange: { name: "kronos.shop", type: "topic", durable: true, autoDelete: false, vhost: "/" },
        routingKey: "order.{status}.{total.currency}",
        queues: [
          {
            name: "kronos.shop.billing",
            type: "quorum",
            durable: true,
            bindingKeys: ["order.#"],
            maxPriority: null,
            deliveryLimit: 3,
            deadLetter: { exchange: "kronos.shop.dlx", routingKey: null, queue: "kronos.shop.billing.dlq" },
          },
          {
            name: "kronos.shop.urgent",
            type: "classic",
            durable: true,
            bindingKeys: ["order.PAID.*"],
            maxPriority: 5,
            deliveryLimit: null,
            deadLetter: null,
          },
        ],
      },
    ]);
  });

  it("defaults the compatibility to BACKWARD", () => {
    expect(catalog.events[1]?.compatibility).toBe("BACKWARD");
  });

  it("lists destinations with the events they carry", () => {
    expect(catalog.destinations.map((d) => [d.broker, d.name, d.events])).toEqual([
      ["kafka", "kronos.shop.order-snapshots", ["kronos.shop.OrderPlaced"]],
      ["kafka", "kronos.shop.orders", ["kronos.shop.OrderPlaced", "kronos.shop.OrderShipped"]],
      ["rabbitmq", "kronos.shop", ["kronos.shop.OrderPlaced"]],
    ]);
  });

  it("treats common/ and records marked kronos.shared as shared types, not events", () => {
    const shared = catalog.types.filter((t) => t.shared).map((t) => t.name);
    expect(shared).toEqual(["kronos.common.EventMeta", "kronos.shop.Money"]);
    expect(catalog.types.find((t) => t.name === "kronos.shop.OrderStatus")).toMatchObject({
      kind: "enum",
      file: "shop/OrderPlaced.avsc",
      topLevel: false,
    });
  });

  it("has a synchronous twin", () => {
    expect(loadCatalogSync(fixture("valid")).events).toHaveLength(2);
  });
});

describe("loadCatalog reports every problem, each with its file and entry", () => {
  it("an event missing from the manifest", async () => {
    expect(await issuesOf("missing-from-manifest")).toEqual([
      {
        file: "missing-from-manifest/shop/OrderCancelled.avsc",
        entry: "kronos.shop.OrderCancelled",
        message: expect.stringContaining("event is missing from the manifest"),
      },
    ]);
  });

  it("a message pointing at a schema that does not exist", async () => {
    const issues = await issuesOf("missing-schema");
    expect(issues).toEqual([
      {
        file: "missing-schema/asyncapi.yaml",
        entry: "components.messages.CriticalAlert",
        message: "schema ./gaia/CriticalAlert.avsc does not exist",
      },
    ]);
  });

  it("an event declared twice", async () => {
    expect(await issuesOf("declared-twice")).toEqual([
      {
        file: "declared-twice/asyncapi.yaml",
        entry: "components.messages.OrderShippedAgain",
        message: "declares kronos.shop.OrderShipped again (already declared by components.messages.OrderShipped)",
      },
    ]);
  });

  it("an event bound twice to the same destination", async () => {
    expect(await issuesOf("bound-twice")).toEqual([
      {
        file: "bound-twice/asyncapi.yaml",
        entry: "channels.ordersAgain",
        message:
          "binds kronos.shop.OrderShipped to Kafka topic kronos.shop.orders again (already bound by channels.orders)",
      },
    ]);
  });

  it("a namespace that does not match the folder", async () => {
    expect(await issuesOf("namespace-mismatch")).toEqual([
      {
        file: "namespace-mismatch/shop/OrderShipped.avsc",
        entry: "kronos.store.OrderShipped",
        message: 'namespace "kronos.store" does not match its folder shop/ (expected kronos.shop)',
      },
    ]);
  });

  it("an invalid compatibility value", async () => {
    const issues = await issuesOf("invalid-compatibility");
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      file: "invalid-compatibility/asyncapi.yaml",
      entry: "components.messages.OrderPlaced",
    });
    expect(issues[0]?.message).toMatch(/^x-kronos-compatibility "SOMETIMES" is not one of BACKWARD, /);
  });

  it("channels without required binding fields, all of them at once", async () => {
    const file = "missing-binding-fields/asyncapi.yaml";
    expect(await issuesOf("missing-binding-fields")).toEqual([
      { file, entry: "channels.orders.bindings.kafka", message: "partitions is missing or not a positive integer" },
      {
        file,
        entry: "channels.orders.bindings.kafka",
        message: 'topicConfiguration["cleanup.policy"] is missing or not a list of delete and/or compact',
      },
      {
        file,
        entry: "channels.shop.bindings.amqp",
        message: "exchange.type must be one of direct, topic, fanout, headers",
      },
      { file, entry: "channels.shop.x-kronos-queues[2]", message: "maxPriority applies to classic queues only" },
      // Its only channel is invalid, so it ends up bound nowhere.
      { file, entry: "components.messages.OrderShipped", message: "is not bound to any channel" },
    ]);
  });

  it("schemas breaking the Kronos rules", async () => {
    const file = "rule-violations/shop/OrderShipped.avsc";
    const issues = await issuesOf("rule-violations");
    expect(issues.map((i) => [i.file, i.entry])).toEqual([
      [file, "kronos.shop.OrderShipped"],
      [file, "kronos.shop.OrderShipped.orderId"],
      [file, "kronos.shop.Carrier"],
      [file, "kronos.shop.OrderShipped.trackingCode"],
      [file, "kronos.shop.OrderShipped.comment"],
      [file, "kronos.shop.OrderShipped.shippedAt"],
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      "record OrderShipped has no doc",
      "field `orderId` has no doc",
      'enum Carrier has no "default" symbol: add one (e.g. UNKNOWN) so that symbols can be added later',
      'optional field `trackingCode` must be ["null", T] (null first, one other branch)',
      'optional field `comment` must have "default": null',
      '`shippedAt` must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)',
    ]);
  });

  it("unparsable JSON, schemas avsc refuses and names no schema defines", async () => {
    const issues = await issuesOf("broken-schemas");
    expect(issues).toEqual([
      {
        file: "broken-schemas/shop/Truncated.avsc",
        entry: "(file)",
        message: expect.stringMatching(/^is not valid JSON: .*line \d+, column \d+/),
      },
      {
        file: "broken-schemas/shop/Discount.avsc",
        entry: "kronos.shop.Discount",
        message: expect.stringMatching(/^is not a valid Avro schema: .*default.*line 7, column 61/),
      },
      {
        file: "broken-schemas/shop/OrderShipped.avsc",
        entry: "kronos.shop.OrderShipped",
        message: "references kronos.shop.Price, which no schema defines",
      },
    ]);
  });

  it("a CatalogError whose message lists every issue as file: entry: message", async () => {
    const error = await loadCatalog(fixture("missing-binding-fields")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogError);
    const { message, code, retriable } = error as CatalogError;
    expect(code).toBe("KRONOS_CATALOG_INVALID");
    expect(retriable).toBe(false);
    expect(message).toContain("(5 issues)");
    expect(message).toContain(
      "missing-binding-fields/asyncapi.yaml: channels.orders.bindings.kafka: partitions is missing or not a positive integer",
    );
  });

  it("a directory that does not exist", async () => {
    expect(await issuesOf("no-such-dir")).toEqual([
      { file: "no-such-dir", entry: "(directory)", message: expect.stringContaining("is not a directory") },
    ]);
  });
});
