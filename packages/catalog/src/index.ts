/**
 * @kronos/catalog: loads the Kronos event catalog (Avro schemas in `schemas/` and the AsyncAPI 3 contract manifest
 * `schemas/asyncapi.yaml`), validates both, and gives codegen, the CLI, the gateway and the schema review one typed
 * view of every event and where it travels — and the one Avro model (parser with `file:line:col` errors, named
 * kinds, primitives, inliner) and lint rule table they all use.
 */
export { isObject, namespaceOf, ownNamespace, qualify } from "./avro.js";
export { CatalogError, type CatalogIssue, formatIssue } from "./errors.js";
export { definitionOf, inlineNamedTypes, selfContainedOf, selfContainedSchema } from "./inline.js";
export { type Position, pointerSegment } from "./json.js";
export {
  DISABLE_ATTRIBUTE,
  DISABLE_FILE_ATTRIBUTE,
  disablesOf,
  LINT_RULES,
  type LintFinding,
  type LintOptions,
  type LintRule,
  type LintRuleId,
  type LintSeverity,
  lintSchema,
  suppression,
} from "./lint.js";
export { loadCatalog, loadCatalogSync, SUBJECT_NAMING } from "./load.js";
export {
  CHANNEL_ROLES,
  type ChannelRole,
  localRef,
  MANIFEST_FILE,
  type ManifestChannel,
  type ManifestDocument,
  type ManifestMessage,
  type ManifestPosition,
  manifestChannels,
  manifestMessages,
  manifestPosition,
  parseManifest,
} from "./manifest.js";
export {
  AVRO_PRIMITIVES,
  type AvroField,
  type AvroType,
  branchName,
  deref,
  KRONOS_LOGICAL_TYPES,
  NAMED_KINDS,
  type NamedType,
  type ParsedFile,
  type Primitive,
  type ResolvedType,
  type SchemaSet,
  shortName,
  TIMESTAMP_LOGICAL_TYPES,
} from "./model.js";
export { type ParseOptions, parseSchema, parseSchemaFiles } from "./parse.js";
export {
  loadRelayRoutes,
  parseRelayRoutes,
  RELAY_EXTENSION,
  type RelayRoute,
  type RelaySource,
  type RelayTarget,
} from "./relay-routes.js";
export { SchemaError, type SchemaErrorCode, type SchemaPlace } from "./schema-error.js";
export { SHARED_ATTRIBUTE, SHARED_FOLDER } from "./schemas.js";
export {
  DEFAULT_SUBJECT_NAMING,
  type EventSubjects,
  effectiveSubjectNaming,
  eventSubjects,
  isSubjectNaming,
  type MessageSubjectNaming,
  messageSubjectNaming,
  SUBJECT_NAMING_EXTENSION,
  SUBJECT_NAMINGS,
  type SubjectNaming,
  subjectName,
} from "./subjects.js";
export {
  type Catalog,
  type CatalogEvent,
  type CatalogType,
  type CleanupPolicy,
  COMPATIBILITY_MODES,
  type Compatibility,
  DEFAULT_COMPATIBILITY,
  type DeadLetterTarget,
  type Destination,
  type EventBinding,
  type ExchangeType,
  type Json,
  type JsonObject,
  type KafkaBinding,
  type KafkaTopicDestination,
  type KafkaTopicSettings,
  type QueueSpec,
  type QueueType,
  type RabbitBinding,
  type RabbitExchangeDestination,
  type RabbitExchangeSettings,
  type TopologyChannel,
} from "./types.js";
