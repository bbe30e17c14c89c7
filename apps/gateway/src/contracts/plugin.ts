import type { Destination } from "@kronos/catalog";
import type { EventDescriptor } from "@kronos/contracts";
import fp from "fastify-plugin";
import { Destinations } from "./destinations.js";
import { eventsByName } from "./events.js";
import { type ManifestDestinations, manifestDestinations, topologyOf } from "./topology.js";

/** The contract manifest as the gateway uses it, built once from the generated event descriptors. */
export interface Contracts {
  /** Every event the gateway publishes, requests and decodes to, by full name. */
  readonly events: ReadonlyMap<string, EventDescriptor<unknown>>;
  /** Where a publish or a request goes: the manifest's topics and exchanges and the events each carries. */
  readonly destinations: Destinations;
  /** The manifest's topics and exchanges with their settings and queues: what is created when the app is ready. */
  readonly topology: readonly Destination[];
  /** The topics and queues the manifest declares: queue admin never deletes them; subscribe reads their broker. */
  readonly managed: ManifestDestinations;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The contract manifest (see {@link Contracts}), from the generated `@kronos/events-*` descriptors. */
    contracts: Contracts;
  }
}

/** Options of {@link contractsPlugin}. */
export interface ContractsPluginOptions {
  /** The event descriptors. Default: every event of the `@kronos/events-*` packages. */
  readonly events?: Iterable<EventDescriptor<unknown>>;
}

/** The {@link Contracts} of `events`: routing, topology and managed destinations, all from their bindings. */
export function contractsOf(events: Iterable<EventDescriptor<unknown>>): Contracts {
  const list = [...events];
  const topology = topologyOf(list);
  return {
    events: new Map(list.map((event) => [event.name, event] as const)),
    destinations: new Destinations(list),
    topology,
    managed: manifestDestinations({ destinations: topology }),
  };
}

/**
 * Decorates the app with `contracts` ({@link Contracts}): the one view of the contract manifest that publishing,
 * request/reply, subscribing, queue administration and the topology created at start all use. Built from the
 * bindings the generated descriptors carry, so an installed gateway needs no `schemas/` folder. Plugin name:
 * `kronos-gateway-contracts`.
 */
export const contractsPlugin = fp<ContractsPluginOptions>(
  async (app, options) => {
    app.decorate("contracts", contractsOf(options.events ?? eventsByName.values()));
  },
  { name: "kronos-gateway-contracts", fastify: "5.x" },
);
