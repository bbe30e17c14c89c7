import type { EventDescriptor } from "@kronos/contracts";
import * as auth from "@kronos/events-auth";
import * as cache from "@kronos/events-cache";
import * as gaia from "@kronos/events-gaia";
import * as log from "@kronos/events-log";
import * as messaging from "@kronos/events-messaging";
import * as router from "@kronos/events-router";
import * as user from "@kronos/events-user";

const isEvent = (value: unknown): value is EventDescriptor<unknown> =>
  typeof value === "object" && value !== null && "subject" in value && "encode" in value;

/**
 * Every event the gateway can publish: the descriptors of the generated `@kronos/events-*` packages, by full name.
 * Publishing validates and encodes with these (the contract manifest's bindings say where each travels).
 */
export const eventsByName: ReadonlyMap<string, EventDescriptor<unknown>> = new Map(
  [auth, cache, gaia, log, messaging, router, user]
    .flatMap((module) => Object.values(module).filter(isEvent))
    .map((event) => [event.name, event] as const),
);
