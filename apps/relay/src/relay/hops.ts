import { type Envelope, headerText, RELAY_HEADERS, setHeader } from "./envelope.js";

/** What the hop headers say about one copy: go on, or stop (and why). */
export type HopVerdict = { readonly relay: true } | { readonly relay: false; readonly why: "visited" | "hop-limit" };

/** A place a message can be: `kafka:<topic>` or `rabbitmq:<exchange>`. */
export type Place = `kafka:${string}` | `rabbitmq:${string}`;

/** The places the message was on according to its hop headers, the source itself included. */
export function visitedPlaces(envelope: Envelope, source: Place): Place[] {
  const listed = headerText(envelope, RELAY_HEADERS.visited);
  const places = listed === undefined || listed === "" ? [] : (listed.split(",") as Place[]);
  return places.includes(source) ? places : [...places, source];
}

/**
 * Whether a message consumed from `source` may be copied to `target`: not when it was on `target` before (a loop:
 * A → B → A), nor when it already made `hopLimit` hops.
 */
export function hopVerdict(envelope: Envelope, source: Place, target: Place, hopLimit: number): HopVerdict {
  if (visitedPlaces(envelope, source).includes(target)) return { relay: false, why: "visited" };
  const hops = Number(headerText(envelope, RELAY_HEADERS.hops) ?? "0");
  if (Number.isFinite(hops) && hops >= hopLimit) return { relay: false, why: "hop-limit" };
  return { relay: true };
}

/** Writes the hop headers of the copy `route` on `instance` makes from `source` to `target` (in place). */
export function stampHops(envelope: Envelope, hop: { source: Place; target: Place; route: string; instance: string }) {
  const visited = [...visitedPlaces(envelope, hop.source), hop.target];
  const hops = Number(headerText(envelope, RELAY_HEADERS.hops) ?? "0");
  if (headerText(envelope, RELAY_HEADERS.origin) === undefined) setHeader(envelope, RELAY_HEADERS.origin, hop.source);
  setHeader(envelope, RELAY_HEADERS.visited, visited.join(","));
  setHeader(envelope, RELAY_HEADERS.hops, String((Number.isFinite(hops) ? hops : 0) + 1));
  setHeader(envelope, RELAY_HEADERS.instance, hop.instance);
  setHeader(envelope, RELAY_HEADERS.route, hop.route);
}
