import type { Type } from "avsc";
import { createAvroType } from "./avro.js";
import { createCodec, type EncodeWithHeader } from "./codec.js";
import { ContractError, type Violation } from "./errors.js";

/** One event contract: its schema, registry subject, source and a codec for its values. */
export interface EventDescriptor<T> {
  /** Fully-qualified record name, e.g. `kronos.auth.LoginSucceeded`. */
  readonly name: string;
  /** Registry subject (RecordNameStrategy: the record name unless the definition says otherwise). */
  readonly subject: string;
  /** The self-contained Avro schema JSON. */
  readonly schema: object;
  /** The `.avsc` path relative to the repository, e.g. `schemas/auth/LoginSucceeded.avsc`. */
  readonly source: string;
  /** The manifest binding (typed by `@kronos/catalog`); `undefined` if none. */
  readonly binding: unknown;
  /** The avsc type (Kronos logical types, `wrapUnions: "auto"`). */
  readonly type: Type;
  /** Avro binary, no framing. Throws `ContractError` `VALIDATION_FAILED` with every violation. */
  encode(value: T): Buffer;
  /** Decodes Avro binary written with this exact schema. Throws `ContractError` `DECODE_FAILED`. */
  decode(bytes: Buffer): T;
  /** Every violation with its path; `[]` when valid. */
  validate(value: unknown): Violation[];
}

/**
 * Where a descriptor built by {@link defineEvent} keeps its header-aware encoder (not part of the public API): the
 * serde writes the Confluent frame and the Avro binary into one buffer. Descriptors built otherwise lack it.
 */
export const ENCODE_WITH_HEADER: unique symbol = Symbol("kronos.encodeWithHeader");

/** The header-aware encoder of a descriptor built by {@link defineEvent}, or undefined. */
export function encodeWithHeaderOf(event: EventDescriptor<unknown>): EncodeWithHeader | undefined {
  return (event as { [ENCODE_WITH_HEADER]?: EncodeWithHeader })[ENCODE_WITH_HEADER];
}

/** What {@link defineEvent} needs. */
export interface EventDefinition {
  name: string;
  subject?: string;
  schema: object;
  source: string;
  binding?: unknown;
}

/**
 * Builds the descriptor of one event. Throws `ContractError` `INVALID_SCHEMA` when avsc refuses the schema or the
 * schema is not a record named `name`.
 */
export function defineEvent<T>(definition: EventDefinition): EventDescriptor<T> {
  const type = createAvroType(definition.schema);
  if (type.typeName !== "record" || type.name !== definition.name) {
    throw new ContractError(
      "INVALID_SCHEMA",
      `event ${definition.name}: the schema in ${definition.source} must be a record named ${definition.name}, ` +
        `got ${type.name ?? type.typeName}`,
    );
  }
  const codec = createCodec<T>(type, `event ${definition.name}`);
  return Object.freeze({
    name: definition.name,
    subject: definition.subject ?? definition.name,
    schema: definition.schema,
    source: definition.source,
    binding: definition.binding,
    type,
    encode: codec.encode,
    decode: codec.decode,
    validate: codec.validate,
    [ENCODE_WITH_HEADER]: codec.encodeWithHeader,
  });
}
