import type { Schema, Type } from "avsc";
import avsc from "avsc";
import { ContractError, describeError } from "./errors.js";
import { exactLongHook } from "./exact-long.js";
import { KRONOS_LOGICAL_TYPES } from "./logical-types.js";

/** Options of {@link createAvroType}. */
export interface AvroTypeOptions {
  /** Named types already defined, by full name; avsc adds the ones this schema defines. */
  registry?: Record<string, Type>;
}

/**
 * The avsc options every Kronos type is built with: the Kronos logical types and `wrapUnions: "auto"`. Pass them
 * wherever avsc builds a type (e.g. to `@kafkajs/confluent-schema-registry`) so every type agrees on representation.
 */
export function kronosAvroOptions(): {
  logicalTypes: typeof KRONOS_LOGICAL_TYPES;
  wrapUnions: "auto";
  typeHook: typeof exactLongHook;
} {
  return { logicalTypes: KRONOS_LOGICAL_TYPES, wrapUnions: "auto", typeHook: exactLongHook };
}

/**
 * Builds the avsc type of an Avro schema (JSON object, or its JSON text) with the Kronos logical types and
 * `wrapUnions: "auto"` (see the package README for the JS representation of every Avro type).
 * Throws `ContractError` `INVALID_SCHEMA` when avsc refuses the schema.
 */
export function createAvroType(schema: object | string, options: AvroTypeOptions = {}): Type {
  let parsed: unknown = schema;
  if (typeof schema === "string") {
    const text = schema.trim();
    try {
      parsed = /^[[{"]/.test(text) ? JSON.parse(text) : text;
    } catch (error) {
      throw new ContractError("INVALID_SCHEMA", `schema is not valid JSON: ${describeError(error)}`, { cause: error });
    }
  }
  try {
    return avsc.Type.forSchema(parsed as Schema, {
      ...kronosAvroOptions(),
      ...(options.registry ? { registry: options.registry } : {}),
    });
  } catch (error) {
    throw new ContractError("INVALID_SCHEMA", `invalid Avro schema: ${describeError(error)}`, { cause: error });
  }
}
