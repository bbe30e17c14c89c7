import type { Type } from "avsc";
import { createAvroType } from "./avro.js";
import { guardedDecode } from "./codec.js";
import { createDecodeGuard } from "./decode-guard.js";
import { ContractError, describeError } from "./errors.js";
import type { EventDescriptor } from "./event.js";
import { frame, unframe } from "./framing.js";
import {
  type CompatibilityLevel,
  ConfluentRegistryClient,
  type ConfluentRegistryClientOptions,
  type SchemaRegistryClient,
} from "./registry-client.js";

type Resolver = ReturnType<Type["createResolver"]>;

/** Options of {@link RegistrySerde}. */
export interface RegistrySerdeOptions extends ConfluentRegistryClientOptions {
  /** Register an event's schema on first encode when the registry does not have it; default false. */
  autoRegister?: boolean;
  /** The registry to talk to; default a {@link ConfluentRegistryClient} on `url`. */
  client?: SchemaRegistryClient;
}

/** What {@link RegistrySerde.decodeAny} returns. */
export interface DecodedAny {
  schemaId: number;
  /** Full name of the writer schema's record (or its type name for a non-record schema). */
  writerName: string;
  /** The value as the writer wrote it. */
  value: unknown;
}

interface Writer {
  type: Type;
  guard: (bytes: Buffer) => void;
}

/**
 * Registry-aware serializer: values ↔ Confluent-framed Avro (magic byte 0, 4-byte schema id, Avro binary).
 * Schema ids and writer schemas are fetched once and cached (failed fetches are not cached).
 *
 * Errors (all `ContractError`): `VALIDATION_FAILED`, `SCHEMA_NOT_REGISTERED`, `SCHEMA_INCOMPATIBLE`,
 * `INCOMPLETE_HEADER`, `INVALID_MAGIC_BYTE`, `SCHEMA_ID_NOT_FOUND`, `SCHEMA_RESOLUTION_FAILED`, `DECODE_FAILED`,
 * `REGISTRY_UNAVAILABLE` (retriable), `REGISTRY_REQUEST_FAILED`.
 */
export class RegistrySerde {
  readonly client: SchemaRegistryClient;
  readonly #autoRegister: boolean;
  readonly #ids = new Map<EventDescriptor<unknown>, Promise<number>>();
  readonly #writers = new Map<number, Promise<Writer>>();
  readonly #resolvers = new WeakMap<EventDescriptor<unknown>, Map<number, Resolver | undefined>>();

  constructor(options: RegistrySerdeOptions = {}) {
    this.client = options.client ?? new ConfluentRegistryClient(options);
    this.#autoRegister = options.autoRegister ?? false;
  }

  /**
   * Validates `value`, then frames its Avro binary with the id of the event's exact schema under its subject
   * (looked up once; registered first when `autoRegister` is on). Throws `VALIDATION_FAILED` (before any network
   * call), `SCHEMA_NOT_REGISTERED`, `REGISTRY_UNAVAILABLE`.
   */
  async encode<T>(event: EventDescriptor<T>, value: T): Promise<Buffer> {
    const payload = event.encode(value);
    return frame(await this.schemaId(event), payload);
  }

  /**
   * Decodes framed bytes into the event's representation, resolving the writer's schema (fetched by id once) to
   * the event's schema, so a v1 reader reads v2 messages and the reverse where Avro resolution allows.
   * Throws `INCOMPLETE_HEADER`, `INVALID_MAGIC_BYTE`, `SCHEMA_ID_NOT_FOUND`, `SCHEMA_RESOLUTION_FAILED`,
   * `DECODE_FAILED`, `REGISTRY_UNAVAILABLE`.
   */
  async decode<T>(event: EventDescriptor<T>, bytes: Buffer): Promise<T> {
    const { schemaId, payload } = unframe(bytes);
    const writer = await this.#writer(schemaId);
    const resolver = this.#resolver(event, schemaId, writer);
    return guardedDecode<T>(writer.guard, event.type, payload, resolver, `${event.name} (schema id ${schemaId})`);
  }

  /** Decodes framed bytes with the writer's own schema, whatever the event (for dead letters and tools). */
  async decodeAny(bytes: Buffer): Promise<DecodedAny> {
    const { schemaId, payload } = unframe(bytes);
    const writer = await this.#writer(schemaId);
    const value = guardedDecode<unknown>(writer.guard, writer.type, payload, undefined, `schema id ${schemaId}`);
    return { schemaId, writerName: writer.type.name ?? writer.type.typeName, value };
  }

  /**
   * The id of the event's exact schema under its subject (cached). Registers it when `autoRegister` is on.
   * Throws `SCHEMA_NOT_REGISTERED` otherwise.
   */
  schemaId(event: EventDescriptor<unknown>): Promise<number> {
    let id = this.#ids.get(event);
    if (!id) {
      id = this.#lookupOrRegister(event);
      this.#ids.set(event, id);
      id.catch(() => this.#ids.delete(event));
    }
    return id;
  }

  /**
   * Registers the event's schema under its subject and returns its id; registering the same schema again returns
   * the same id. Sets the subject's compatibility first when given. Throws `SCHEMA_INCOMPATIBLE` with the
   * registry's message when the registry refuses the schema, `REGISTRY_UNAVAILABLE`.
   */
  async register(
    event: EventDescriptor<unknown>,
    options: { compatibility?: CompatibilityLevel } = {},
  ): Promise<number> {
    const id = await this.client.register(event.subject, JSON.stringify(event.schema), options.compatibility);
    this.#ids.set(event, Promise.resolve(id));
    return id;
  }

  /** Pre-fills the writer cache (for tests and tools that already know an id's schema). */
  addWriterSchema(schemaId: number, schema: object | string): void {
    this.#writers.set(schemaId, Promise.resolve(toWriter(createAvroType(schema))));
  }

  async #lookupOrRegister(event: EventDescriptor<unknown>): Promise<number> {
    const schema = JSON.stringify(event.schema);
    const id = await this.client.lookupId(event.subject, schema);
    if (id !== undefined) return id;
    if (this.#autoRegister) return this.client.register(event.subject, schema);
    throw new ContractError(
      "SCHEMA_NOT_REGISTERED",
      `the schema of ${event.name} (${event.source}) is not registered under subject ${event.subject}; ` +
        "register it (kronos-schemas register) or enable autoRegister",
    );
  }

  #writer(schemaId: number): Promise<Writer> {
    let writer = this.#writers.get(schemaId);
    if (!writer) {
      writer = this.client.getWriterType(schemaId).then((type) => {
        if (!type) {
          throw new ContractError("SCHEMA_ID_NOT_FOUND", `the registry has no schema with id ${schemaId}`);
        }
        return toWriter(type);
      });
      this.#writers.set(schemaId, writer);
      writer.catch(() => this.#writers.delete(schemaId));
    }
    return writer;
  }

  #resolver(event: EventDescriptor<unknown>, schemaId: number, writer: Writer): Resolver | undefined {
    let byId = this.#resolvers.get(event);
    if (!byId) {
      byId = new Map();
      this.#resolvers.set(event, byId);
    }
    if (byId.has(schemaId)) return byId.get(schemaId);
    let resolver: Resolver | undefined;
    // Same canonical schema: read directly (logical types are the reader's, as Avro resolution says).
    if (!writer.type.equals(event.type)) {
      try {
        // The Avro spec matches named types by unqualified name (aliases aside); avsc needs this option for that.
        resolver = event.type.createResolver(writer.type, { ignoreNamespaces: true });
      } catch (error) {
        throw new ContractError(
          "SCHEMA_RESOLUTION_FAILED",
          `a message written with schema id ${schemaId} (${writer.type.name}) cannot be read as ${event.name}: ` +
            describeError(error),
          { cause: error },
        );
      }
    }
    byId.set(schemaId, resolver);
    return resolver;
  }
}

function toWriter(type: Type): Writer {
  return { type, guard: createDecodeGuard(type) };
}
