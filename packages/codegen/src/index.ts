/**
 * @kronos/codegen: Avro schemas → TypeScript (interfaces, enums, unions as avsc represents them, event descriptors).
 * {@link generate} is pure; {@link runGenerate} reads a schema folder and replaces an output folder; the
 * `kronos-codegen` bin calls {@link main}.
 */

/** The logical types the Kronos runtime implements (the catalog's list; the generator's default). */
export { KRONOS_LOGICAL_TYPES } from "@kronos/catalog";
export { type CliOutput, main } from "./cli.js";
export { CodegenError, type CodegenErrorCode, type CodegenErrorPlace } from "./errors.js";
export {
  type EventSubjectsInput,
  type GenerateInput,
  type GenerateOptions,
  type GenerateOutput,
  generate,
  type SourceFile,
} from "./generate.js";
export { type RunGenerateOptions, type RunGenerateResult, runGenerate } from "./run.js";
export { selectFolder } from "./select.js";
export { CODEGEN_VERSION } from "./version.js";
