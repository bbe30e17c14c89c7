/** The version of @kronos/codegen, written into every generated file's header (kept equal to package.json's). */
export const CODEGEN_VERSION = "0.1.0";
