import type { SchemaError, SchemaErrorCode } from "@kronos/catalog";

/** Stable codes of the errors the generator reports. */
export type CodegenErrorCode =
  | "CODEGEN_INVALID_JSON"
  | "CODEGEN_INVALID_SCHEMA"
  | "CODEGEN_UNKNOWN_TYPE"
  | "CODEGEN_DUPLICATE_TYPE"
  | "CODEGEN_NAME_CLASH"
  | "CODEGEN_OUTPUT_NOT_GENERATED";

/** Where in a schema file an error is: a JSON pointer and, when known, the 1-based line and column. */
export interface CodegenErrorPlace {
  /** JSON pointer into the file (`""` is the whole document), e.g. `/fields/2/type`. */
  pointer: string;
  /** 1-based line of the value the pointer names (or of the JSON syntax error). */
  line?: number | undefined;
  /** 1-based column of that value. */
  column?: number | undefined;
}

/**
 * A schema (or output folder) the generator cannot work with. The message reads
 * `<file>:<line>:<column> <pointer>: <reason>` so editors can jump to it; `file`, `location` and `reason` give the
 * parts. Nothing is written when one is thrown.
 */
export class CodegenError extends Error {
  override readonly name = "CodegenError";
  /** Stable code, e.g. `CODEGEN_UNKNOWN_TYPE`. */
  readonly code: CodegenErrorCode;
  /** The schema file, as given in the input (e.g. `auth/LoginSucceeded.avsc`). */
  readonly file: string;
  /**
   * The place in the file: `line:column` for a JSON syntax error, otherwise the JSON pointer followed by the
   * `line:column` of the value it names, e.g. `/fields/1/type (4:15)`.
   */
  readonly location: string;
  /** JSON pointer of the offending value (`""` for a JSON syntax error or the whole document). */
  readonly pointer: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;
  /** What is wrong, in a sentence. */
  readonly reason: string;

  constructor(code: CodegenErrorCode, file: string, place: CodegenErrorPlace, reason: string) {
    const lineCol = place.line === undefined ? undefined : `${place.line}:${place.column ?? 1}`;
    const location =
      code === "CODEGEN_INVALID_JSON"
        ? (lineCol ?? "")
        : `${place.pointer === "" ? "/" : place.pointer}${lineCol === undefined ? "" : ` (${lineCol})`}`;
    super(`${file}${lineCol === undefined ? "" : `:${lineCol}`} ${place.pointer || "/"}: ${reason}`);
    this.code = code;
    this.file = file;
    this.location = location;
    this.pointer = place.pointer;
    this.line = place.line;
    this.column = place.column;
    this.reason = reason;
  }
}

const FROM_SCHEMA: Record<SchemaErrorCode, CodegenErrorCode> = {
  SCHEMA_INVALID_JSON: "CODEGEN_INVALID_JSON",
  SCHEMA_INVALID: "CODEGEN_INVALID_SCHEMA",
  SCHEMA_UNKNOWN_TYPE: "CODEGEN_UNKNOWN_TYPE",
  SCHEMA_DUPLICATE_TYPE: "CODEGEN_DUPLICATE_TYPE",
};

/** The generator's error for a problem the catalog's Avro parser found (same file, place and reason). */
export function codegenErrorOf(problem: SchemaError): CodegenError {
  const place = { pointer: problem.pointer, line: problem.line, column: problem.column };
  return new CodegenError(FROM_SCHEMA[problem.code], problem.file, place, problem.reason);
}
