/**
 * @kronos/contracts/testing: helpers for tests of code that uses the contracts runtime (needs `fast-check`).
 */
export { type ArbitraryOptions, arbitraryForType, formatDecimal } from "./arbitrary.js";
export { InMemorySchemaRegistry } from "./in-memory-registry.js";
