/**
 * @kronos/contracts: the runtime generated event packages import. avsc types with the Kronos logical types,
 * validation with paths, a guarded decoder, Confluent framing, a registry serde, the JSON ↔ Avro converter stage, and
 * one error type.
 */
export { type AvroTypeOptions, createAvroType, kronosAvroOptions } from "./avro.js";
export { CHECK_REGISTRY_USAGE, checkRegistryMain } from "./check-registry-cli.js";
export { type DecodeLimits, MalformedAvroError } from "./decode-guard.js";
export {
  CONTRACT_ERROR_CODES,
  ContractError,
  type ContractErrorCode,
  type ContractErrorOptions,
  isContractError,
  isRegistryAccessError,
  type Violation,
} from "./errors.js";
export { defineEvent, type EventDefinition, type EventDescriptor, type SubjectNaming } from "./event.js";
export { frame, HEADER_LENGTH, MAGIC_BYTE, unframe } from "./framing.js";
export { avroToJson, type Conversion, checkPayload, jsonToAvro } from "./json.js";
export {
  DateType,
  DecimalType,
  KRONOS_LOGICAL_TYPES,
  KronosLogicalType,
  TimeMicrosType,
  TimeMillisType,
  TimestampMicrosType,
  TimestampMillisType,
  UuidType,
} from "./logical-types.js";
export {
  checkAgainstRegistry,
  type EventRegistryCheck,
  type InstalledEventsPackage,
  installedEventsPackages,
  REGISTRY_PINS_FILE,
  type RegistryPin,
  type RegistryPins,
} from "./registry-check.js";
export {
  type CompatibilityLevel,
  ConfluentRegistryClient,
  type ConfluentRegistryClientOptions,
  DEFAULT_REGISTRY_URL,
  type SchemaRegistryClient,
} from "./registry-client.js";
export {
  type RegistryAuth,
  type RegistryConnectionOptions,
  RegistryHttp,
  type RegistryResponse,
} from "./registry-http.js";
export {
  type RegistrySettings,
  readRegistrySettings,
  registrySettingsFromEnv,
  type SettingsEnv,
  secretSetting,
} from "./registry-settings.js";
export { type DecodedAny, type EncodeOptions, RegistrySerde, type RegistrySerdeOptions } from "./serde.js";
export { validateValue } from "./validate.js";
