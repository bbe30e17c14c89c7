import { loadCatalogSync } from "@kronos/catalog";
import { describe, expect, it } from "vitest";
import { findSchemasDir } from "../paths.js";
import { registeredSchema } from "../register.js";

/** What {@link describeRegisteredSchemas} needs of a generated descriptor. */
export interface DescribedEvent {
  /** The event's full record name. */
  readonly name: string;
  readonly subject: string;
  readonly schema: unknown;
}

/** Options of {@link describeRegisteredSchemas}. */
export interface RegisteredSchemasOptions {
  /** The schemas folder. Default: `schemas/` of the enclosing workspace ({@link findSchemasDir}). */
  schemasDir?: string;
}

/**
 * Declares a vitest suite: each generated descriptor's schema, as the gateway registers it
 * (`JSON.stringify(descriptor.schema)`), is byte-identical to what `kronos-schemas register` sends for its subject
 * (a difference would silently register a second version). Call it at the top level of a test file.
 */
export function describeRegisteredSchemas(
  events: readonly DescribedEvent[],
  options: RegisteredSchemasOptions = {},
): void {
  describe("each descriptor's schema is what `kronos-schemas register` sends", () => {
    const catalog = loadCatalogSync(options.schemasDir ?? findSchemasDir());
    it("has descriptors", () => {
      expect(events.length).toBeGreaterThan(0);
    });
    it.each(events.map((event) => [event.subject, event] as const))("%s", (_subject, event) => {
      expect(JSON.stringify(event.schema)).toBe(registeredSchema(catalog, event.name));
    });
  });
}
