/** A path and what was wrong there, e.g. `{ path: "labels.region", message: "expected string" }`. */
export interface Violation {
  /** Where in the value: `labels.region`, `items[2].sku`, `attributes["k"]`; `""` for the value itself. */
  path: string;
  message: string;
}

/**
 * Every error code this package throws and whether retrying the same operation can help. This table is the only
 * place retriability is decided.
 */
export const CONTRACT_ERROR_CODES = {
  /** Fewer than 5 bytes: no Confluent header to read. The bytes will not change on retry. */
  INCOMPLETE_HEADER: { retriable: false },
  /** First byte is not 0: not Confluent-framed Avro. */
  INVALID_MAGIC_BYTE: { retriable: false },
  /** A schema id that cannot be framed (not an integer in 0..2^31-1). */
  INVALID_SCHEMA_ID: { retriable: false },
  /** The registry does not know the schema id of a message. */
  SCHEMA_ID_NOT_FOUND: { retriable: false },
  /** The event's schema is not registered under its subject and auto-registration is off. */
  SCHEMA_NOT_REGISTERED: { retriable: false },
  /**
   * The event has no subject on that Kafka topic: it uses a topic naming strategy (TopicNameStrategy,
   * TopicRecordNameStrategy) and the manifest does not bind it to the topic.
   */
  TOPIC_NOT_BOUND: { retriable: false },
  /** The registry refused a registration (HTTP 409): the schema breaks the subject's compatibility rule. */
  SCHEMA_INCOMPATIBLE: { retriable: false },
  /** A schema avsc (or the registry) cannot parse. */
  INVALID_SCHEMA: { retriable: false },
  /** The writer's schema cannot be read as the reader's schema (Avro schema resolution failed). */
  SCHEMA_RESOLUTION_FAILED: { retriable: false },
  /** The registry could not be reached, timed out or answered 5xx. */
  REGISTRY_UNAVAILABLE: { retriable: true },
  /** The registry refused the credentials (HTTP 401) or the right (403): a setting to fix, not a retry. */
  REGISTRY_UNAUTHORIZED: { retriable: false },
  /** The registry's TLS certificate is not trusted (unknown CA, wrong host name, expired). */
  REGISTRY_TLS_FAILED: { retriable: false },
  /** The registry connection settings themselves are wrong (URL not http(s), two sets of credentials). */
  INVALID_REGISTRY_SETTINGS: { retriable: false },
  /** The registry answered a request with an unexpected 4xx. */
  REGISTRY_REQUEST_FAILED: { retriable: false },
  /** The bytes are not a valid encoding of the writer schema (truncated, trailing bytes, bad index, absurd length). */
  DECODE_FAILED: { retriable: false },
  /** The value does not match the schema; `violations` lists every problem. */
  VALIDATION_FAILED: { retriable: false },
} as const satisfies Record<string, { retriable: boolean }>;

/** One of the codes in {@link CONTRACT_ERROR_CODES}. */
export type ContractErrorCode = keyof typeof CONTRACT_ERROR_CODES;

/** Options of {@link ContractError}. */
export interface ContractErrorOptions {
  cause?: unknown;
  violations?: Violation[];
}

/**
 * The only error this package throws on purpose: a stable `code`, whether a retry can help (`retriable`, from
 * {@link CONTRACT_ERROR_CODES}), the underlying `cause`, and for `VALIDATION_FAILED` every `violation`.
 */
export class ContractError extends Error {
  override readonly name = "ContractError";
  readonly code: ContractErrorCode;
  readonly retriable: boolean;
  readonly violations?: Violation[];

  constructor(code: ContractErrorCode, message: string, options: ContractErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = CONTRACT_ERROR_CODES[code].retriable;
    if (options.violations !== undefined) this.violations = options.violations;
  }
}

/** True when `error` is a {@link ContractError}, optionally with the given code. */
export function isContractError(error: unknown, code?: ContractErrorCode): error is ContractError {
  return error instanceof ContractError && (code === undefined || error.code === code);
}

/** The codes that say this process cannot use the registry at all (its credentials, CA or URL), whatever the message. */
const REGISTRY_ACCESS_CODES: ReadonlySet<ContractErrorCode> = new Set([
  "REGISTRY_UNAUTHORIZED",
  "REGISTRY_TLS_FAILED",
  "INVALID_REGISTRY_SETTINGS",
]);

/**
 * True for a {@link ContractError} that says the registry settings are wrong (`REGISTRY_UNAUTHORIZED`,
 * `REGISTRY_TLS_FAILED`, `INVALID_REGISTRY_SETTINGS`): not retriable (a setting has to change), yet says nothing
 * about the message or schema at hand, so a consumer must not dead-letter a message for it.
 */
export function isRegistryAccessError(error: unknown): boolean {
  return error instanceof ContractError && REGISTRY_ACCESS_CODES.has(error.code);
}

/** The message of anything thrown, for wrapping. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
