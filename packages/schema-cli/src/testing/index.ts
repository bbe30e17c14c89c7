/**
 * @kronos/schema-cli/testing: the vitest suite every `@kronos/events-*` package runs to prove its descriptors'
 * schemas are what `kronos-schemas register` sends. Needs vitest (an optional peer dependency).
 */
export {
  type DescribedEvent,
  describeRegisteredSchemas,
  type RegisteredSchemasOptions,
} from "./registered-schemas.js";
