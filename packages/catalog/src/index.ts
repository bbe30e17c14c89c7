/**
 * @kronos/catalog: loads the Kronos event catalog (Avro schemas in `schemas/` and the AsyncAPI 3 contract manifest
 * `schemas/asyncapi.yaml`), validates both, and gives codegen, the CLI, the gateway and the schema review one typed
 * view of every event and where it travels.
 */
export { AVRO_PRIMITIVES, isObject, type LintProblem, lintSchema, namespaceOf, qualify } from "./avro.js";
export { CatalogError, type CatalogIssue, formatIssue } from "./errors.js";
export { inlineNamedTypes, ownNamespace, selfContainedSchema } from "./inline.js";
export { loadCatalog, loadCatalogSync, MANIFEST_FILE, SUBJECT_NAMING } from "./load.js";
export {
  loadRelayRoutes,
  parseRelayRoutes,
  RELAY_EXTENSION,
  type RelayRoute,
  type RelaySource,
  type RelayTarget,
} from "./relay-routes.js";
export { SHARED_ATTRIBUTE, SHARED_FOLDER } from "./schemas.js";
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
} from "./types.js";
