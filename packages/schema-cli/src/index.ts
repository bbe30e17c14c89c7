/**
 * @kronos/schema-cli: the `kronos-schemas` command (validate, generate, register) and the functions behind it.
 */
export { type CliOutput, main } from "./cli.js";
export { bindingsOf, type GenerateDomainOptions, generateDomain, subjectsOf } from "./generate.js";
export { findSchemasDir } from "./paths.js";
export { type RegisteredSubject, registerCatalog, registeredSchema } from "./register.js";
