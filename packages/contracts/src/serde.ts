import type { Type } from "avsc";
import { createAvroType } from "./avro.js";
import { guardedDecode, readDecode } from "./codec.js";
import { createDecodeGuard } from "./decode-guard.js";
import { ContractError, describeError } from "./errors.js";
import { type EventDescriptor, encodeWithHeaderOf } from "./event.js";
import { frame, HEADER_LENGTH, MAGIC_BYTE, schemaIdOf } from "./framing.js";
import { compiledReaderOf } from "./reader.js";
import {
  type CompatibilityLevel,
  ConfluentRegistryClient,
  type ConfluentRegistryClientOptions,
  type SchemaRegistryClient,
} from "./registry-client.js";

/** Options of {@link RegistrySerde}. */
export interface RegistrySerdeOptions extends ConfluentRegistryClientOptions {
  /** Register an event's schema on first encode when the registry does not have it; default false. */
  autoRegister?: boolean;
  /** The registry to talk to; default a {@link ConfluentRegistryClient} on `url`. */
  client?: SchemaRegistryClient;
}

/** Options of {@link RegistrySerde.encode}. */
export interface EncodeOptions {
  /**
   * The Kafka topic the message goes to: its subject is `event.subjectFor(topic)` (only topic naming strategies
   * differ). Leave it out for RabbitMQ: the event's default subject.
   */
  topic?: string | undefined;
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

/** Decodes a whole framed message written with one schema id into one event's representation. */
type FramedDecoder = (framed: Buffer) => unknown;

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
  /** Per event and subject, its schema id (a promise while looked up). */
  readonly #ids = new Map<EventDescriptor<unknown>, Map<string, Promise<number>>>();
  /** The ids already resolved, per event and subject, for the synchronous warm path of encode. */
  readonly #resolvedIds = new Map<EventDescriptor<unknown>, Map<string, number>>();
  readonly #writers = new Map<number, Promise<Writer>>();
  readonly #resolvedWriters = new Map<number, Writer>();
  /** Per event and writer schema id: the reader (same schema) or the guard and resolver (another version). */
  readonly #decoders = new WeakMap<EventDescriptor<unknown>, Map<number, FramedDecoder>>();

  constructor(options: RegistrySerdeOptions = {}) {
    this.client = options.client ?? new ConfluentRegistryClient(options);
    this.#autoRegister = options.autoRegister ?? false;
  }

  /**
   * Validates `value`, then frames its Avro binary with the id of the event's exact schema under its subject on
   * `options.topic` (`event.subjectFor(topic)`; the default subject without a topic, e.g. for RabbitMQ), looked up
   * once, registered first when `autoRegister` is on. Throws `VALIDATION_FAILED` (before any network call),
   * `TOPIC_NOT_BOUND`, `SCHEMA_NOT_REGISTERED`, `REGISTRY_UNAVAILABLE`.
   */
  encode<T>(event: EventDescriptor<T>, value: T, options?: EncodeOptions): Promise<Buffer> {
    let subject: string;
    try {
      subject = options?.topic === undefined ? event.subject : event.subjectFor(options.topic);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.#resolvedIds.get(event as EventDescriptor<unknown>)?.get(subject);
    if (id !== undefined) {
      // Warm path: no await, and the frame and the Avro binary are written into one buffer.
      try {
        return Promise.resolve(encodeFramed(event as EventDescriptor<unknown>, id, value));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#encodeCold(event as EventDescriptor<unknown>, value, subject);
  }

  async #encodeCold(event: EventDescriptor<unknown>, value: unknown, subject: string): Promise<Buffer> {
    const payload = event.encode(value);
    return frame(await this.schemaId(event, subject), payload);
  }

  /**
   * Decodes framed bytes into the event's representation, resolving the writer's schema (fetched by id once) to
   * the event's schema, so a v1 reader reads v2 messages and the reverse where Avro resolution allows.
   * Throws `INCOMPLETE_HEADER`, `INVALID_MAGIC_BYTE`, `SCHEMA_ID_NOT_FOUND`, `SCHEMA_RESOLUTION_FAILED`,
   * `DECODE_FAILED`, `REGISTRY_UNAVAILABLE`.
   */
  decode<T>(event: EventDescriptor<T>, bytes: Buffer): Promise<T> {
    const descriptor = event as EventDescriptor<unknown>;
    try {
      const schemaId = schemaIdOf(bytes);
      // Warm path: this event's decoder for this writer is cached; decode without awaiting anything.
      const decoder = this.#decoders.get(descriptor)?.get(schemaId);
      if (decoder) return Promise.resolve(decoder(bytes) as T);
      const writer = this.#resolvedWriters.get(schemaId);
      if (writer) return Promise.resolve(this.#decoder(descriptor, schemaId, writer)(bytes) as T);
      return this.#writer(schemaId).then((fetched) => this.#decoder(descriptor, schemaId, fetched)(bytes) as T);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Decodes framed bytes with the writer's own schema, whatever the event (for dead letters and tools). */
  async decodeAny(bytes: Buffer): Promise<DecodedAny> {
    const schemaId = schemaIdOf(bytes);
    const writer = await this.#writer(schemaId);
    const value = readDecode<unknown>(compiledReaderOf(writer.type), bytes, HEADER_LENGTH, `schema id ${schemaId}`);
    return { schemaId, writerName: writer.type.name ?? writer.type.typeName, value };
  }

  /**
   * The id of the event's exact schema under `subject` (default: its default subject; cached). Registers it when
   * `autoRegister` is on. Throws `SCHEMA_NOT_REGISTERED` otherwise.
   */
  schemaId(event: EventDescriptor<unknown>, subject: string = event.subject): Promise<number> {
    let bySubject = this.#ids.get(event);
    if (!bySubject) {
      bySubject = new Map();
      this.#ids.set(event, bySubject);
    }
    let id = bySubject.get(subject);
    if (!id) {
      id = this.#lookupOrRegister(event, subject);
      bySubject.set(subject, id);
      id.then(
        (resolved) => this.#remember(event, subject, resolved),
        () => bySubject.delete(subject),
      );
    }
    return id;
  }

  /**
   * Registers the event's schema under `options.subject` (default: its default subject; `event.subjects` lists
   * them all) and returns its id; registering the same schema again returns the same id. Sets the subject's
   * compatibility first when given. Throws `SCHEMA_INCOMPATIBLE` with the registry's message when the registry
   * refuses the schema, `REGISTRY_UNAVAILABLE`.
   */
  async register(
    event: EventDescriptor<unknown>,
    options: { compatibility?: CompatibilityLevel; subject?: string } = {},
  ): Promise<number> {
    const subject = options.subject ?? event.subject;
    const id = await this.client.register(subject, JSON.stringify(event.schema), options.compatibility);
    let bySubject = this.#ids.get(event);
    if (!bySubject) {
      bySubject = new Map();
      this.#ids.set(event, bySubject);
    }
    bySubject.set(subject, Promise.resolve(id));
    this.#remember(event, subject, id);
    return id;
  }

  #remember(event: EventDescriptor<unknown>, subject: string, id: number): void {
    // Only an id frame() accepts takes the warm path; anything else keeps failing there with INVALID_SCHEMA_ID.
    if (!Number.isInteger(id) || id < 0 || id > 0x7fff_ffff) return;
    let bySubject = this.#resolvedIds.get(event);
    if (!bySubject) {
      bySubject = new Map();
      this.#resolvedIds.set(event, bySubject);
    }
    bySubject.set(subject, id);
  }

  /** Pre-fills the writer cache (for tests and tools that already know an id's schema). */
  addWriterSchema(schemaId: number, schema: object | string): void {
    const writer = toWriter(createAvroType(schema));
    this.#writers.set(schemaId, Promise.resolve(writer));
    this.#resolvedWriters.set(schemaId, writer);
  }

  async #lookupOrRegister(event: EventDescriptor<unknown>, subject: string): Promise<number> {
    const schema = JSON.stringify(event.schema);
    const id = await this.client.lookupId(subject, schema);
    if (id !== undefined) return id;
    if (this.#autoRegister) return this.client.register(subject, schema);
    throw new ContractError(
      "SCHEMA_NOT_REGISTERED",
      `the schema of ${event.name} (${event.source}) is not registered under subject ${subject}; ` +
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
      writer.then(
        (resolved) => this.#resolvedWriters.set(schemaId, resolved),
        () => this.#writers.delete(schemaId),
      );
    }
    return writer;
  }

  /** The cached decoder of `event` for messages written with `schemaId` (created on first use). */
  #decoder(event: EventDescriptor<unknown>, schemaId: number, writer: Writer): FramedDecoder {
    let byId = this.#decoders.get(event);
    if (!byId) {
      byId = new Map();
      this.#decoders.set(event, byId);
    }
    let decoder = byId.get(schemaId);
    if (!decoder) {
      decoder = createDecoder(event, schemaId, writer);
      byId.set(schemaId, decoder);
    }
    return decoder;
  }
}

/**
 * The decoder of `event` for messages written with `writer` (schema id `schemaId`). Same canonical schema: the
 * event's compiled reader, straight from the frame (logical types are the reader's, as Avro resolution says).
 * Another version: the writer's guard, then avsc's resolver. Throws `SCHEMA_RESOLUTION_FAILED` when the writer's
 * schema cannot be read as the event's (not cached: the next message tries again).
 */
function createDecoder(event: EventDescriptor<unknown>, schemaId: number, writer: Writer): FramedDecoder {
  const what = `${event.name} (schema id ${schemaId})`;
  if (writer.type.equals(event.type)) {
    const read = compiledReaderOf(event.type);
    return (framed) => readDecode(read, framed, HEADER_LENGTH, what);
  }
  let resolver: ReturnType<Type["createResolver"]>;
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
  const { guard } = writer;
  return (framed) => guardedDecode(guard, event.type, framed.subarray(HEADER_LENGTH), resolver, what);
}

/** Confluent-framed Avro of `value` (validated); one buffer when the descriptor comes from defineEvent. */
function encodeFramed(event: EventDescriptor<unknown>, schemaId: number, value: unknown): Buffer {
  const encodeWithHeader = encodeWithHeaderOf(event);
  if (!encodeWithHeader) return frame(schemaId, event.encode(value));
  const framed = encodeWithHeader(value, HEADER_LENGTH);
  // The id was checked when it was cached (0..2^31-1): the header is written without frame()'s checks.
  framed[0] = MAGIC_BYTE;
  framed[1] = schemaId >>> 24;
  framed[2] = (schemaId >>> 16) & 0xff;
  framed[3] = (schemaId >>> 8) & 0xff;
  framed[4] = schemaId & 0xff;
  return framed;
}

function toWriter(type: Type): Writer {
  return { type, guard: createDecodeGuard(type) };
}
