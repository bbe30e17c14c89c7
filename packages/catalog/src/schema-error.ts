/** Stable codes of the problems the Avro parser ({@link parseSchemaFiles}) reports. */
export type SchemaErrorCode =
  | "SCHEMA_INVALID_JSON"
  | "SCHEMA_INVALID"
  | "SCHEMA_UNKNOWN_TYPE"
  | "SCHEMA_DUPLICATE_TYPE";

/** Where in a schema file a problem is: a JSON pointer and, when known, the 1-based line and column. */
export interface SchemaPlace {
  /** JSON pointer into the file (`""` is the whole document), e.g. `/fields/2/type`. */
  pointer: string;
  /** 1-based line of the value the pointer names (or of the JSON syntax error). */
  line?: number | undefined;
  /** 1-based column of that value. */
  column?: number | undefined;
}

/**
 * A schema file the Avro parser cannot read. The message reads `<file>:<line>:<column> <pointer>: <reason>` so
 * editors can jump to it; `file`, `pointer`, `line`, `column` and `reason` give the parts. Retrying cannot help.
 */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
  /** Stable code, e.g. `SCHEMA_UNKNOWN_TYPE`. */
  readonly code: SchemaErrorCode;
  /** Retrying cannot help: the file must be fixed. */
  readonly retriable = false;
  /** The schema file, as given to the parser (e.g. `auth/LoginSucceeded.avsc`). */
  readonly file: string;
  /** JSON pointer of the offending value (`""` for a JSON syntax error or the whole document). */
  readonly pointer: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;
  /** What is wrong, in a sentence. */
  readonly reason: string;

  constructor(code: SchemaErrorCode, file: string, place: SchemaPlace, reason: string) {
    const lineCol = place.line === undefined ? "" : `:${place.line}:${place.column ?? 1}`;
    super(`${file}${lineCol} ${place.pointer || "/"}: ${reason}`);
    this.code = code;
    this.file = file;
    this.pointer = place.pointer;
    this.line = place.line;
    this.column = place.column;
    this.reason = reason;
  }
}
