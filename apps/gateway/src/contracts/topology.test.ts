import { fileURLToPath } from "node:url";
import { type Catalog, loadCatalog } from "@kronos/catalog";
import { describe, expect, it } from "vitest";
import { eventsByName } from "./events.js";
import { manifestDestinations, topologyOf } from "./topology.js";

describe("topologyOf", () => {
  it("rebuilds from the descriptors' bindings exactly the destinations the catalog loads from schemas/", async () => {
    // The repository's manifest, read here only to hold the descriptors to it: the gateway never reads it.
    const catalog = await loadCatalog(fileURLToPath(new URL("../../../../schemas", import.meta.url)));
    const sorted = (destinations: Catalog["destinations"]) =>
      destinations.map((d) => ({ ...d, channels: [...d.channels].sort() }));
    const topology = topologyOf(eventsByName.values());
    expect(sorted(topology)).toEqual(sorted(catalog.destinations));
    expect(topology.map((d) => d.broker)).toEqual(catalog.destinations.map((d) => d.broker));
  });
});

describe("manifest destinations", () => {
  const catalog = {
    destinations: [
      { broker: "kafka", topic: "kronos.auth.events", name: "kronos.auth.events" },
      {
        broker: "rabbitmq",
        name: "kronos.router",
        queues: [
          { name: "kronos.router.requests.auth", deadLetter: { exchange: "x", routingKey: null, queue: "kronos.dlq" } },
          { name: "kronos.router.requests.user", deadLetter: null },
        ],
      },
    ],
  } as unknown as Pick<Catalog, "destinations">;

  it("lists the manifest's topics, its queues and their dead-letter queues, not its exchanges", () => {
    const managed = manifestDestinations(catalog);
    expect([...managed.kafka]).toEqual(["kronos.auth.events"]);
    expect([...managed.rabbitmq].sort()).toEqual([
      "kronos.dlq",
      "kronos.router.requests.auth",
      "kronos.router.requests.user",
    ]);
  });

  it("of the descriptors: the manifest's topics and queues", () => {
    const managed = manifestDestinations({ destinations: topologyOf(eventsByName.values()) });
    expect(managed.kafka.has("kronos.gaia.alerts")).toBe(true);
    expect(managed.rabbitmq.has("kronos.router.requests.user")).toBe(true);
  });
});
