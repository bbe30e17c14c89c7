import { CodegenError, type CodegenErrorCode } from "./errors.js";
import { type ParsedJson, parseJson, pointerSegment } from "./json.js";

/** Avro primitive type names. */
export type Primitive = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

const PRIMITIVES: ReadonlySet<string> = new Set([
  "null",
  "boolean",
  "int",
  "long",
  "float",
  "double",
  "bytes",
  "string",
]);

/** A logical type the runtime implements, and the TypeScript type its values have. */
export interface LogicalInfo {
  name: string;
  ts: string;
}

/** One Avro type in a schema, with named types replaced by a reference to their definition. */
export type TypeNode =
  | { kind: "primitive"; type: Primitive; logical: LogicalInfo | undefined; json: unknown }
  | { kind: "named"; fullName: string; file: string; pointer: string; reference: string }
  | { kind: "array"; items: TypeNode; json: Record<string, unknown> }
  | { kind: "map"; values: TypeNode; json: Record<string, unknown> }
  | { kind: "union"; branches: TypeNode[]; pointer: string };

/** A record field. */
export interface FieldDef {
  name: string;
  doc: string | undefined;
  type: TypeNode;
  hasDefault: boolean;
  default: unknown;
  pointer: string;
  json: Record<string, unknown>;
}

/** A named type (record, error, enum or fixed) and where it is defined. */
export interface NamedDef {
  kind: "record" | "error" | "enum" | "fixed";
  fullName: string;
  name: string;
  namespace: string;
  doc: string | undefined;
  file: string;
  pointer: string;
  /** True for the one named schema at the top of its file. */
  topLevel: boolean;
  json: Record<string, unknown>;
  fields: FieldDef[];
  symbols: string[];
  enumDefault: string | undefined;
  size: number;
  logical: LogicalInfo | undefined;
}

/** One parsed schema file. */
export interface SchemaFile {
  path: string;
  /** Full name of the named schema the file holds. */
  root: string;
  /** Full names of every named type defined in the file, in definition order. */
  defined: string[];
}

/** Every schema file and named type of one generator input. */
export interface SchemaSet {
  files: SchemaFile[];
  types: Map<string, NamedDef>;
}

/** The logical types the Kronos runtime (@kronos/contracts) implements, by default. */
export const KRONOS_LOGICAL_TYPES: readonly string[] = [
  "date",
  "decimal",
  "local-timestamp-micros",
  "local-timestamp-millis",
  "time-micros",
  "time-millis",
  "timestamp-micros",
  "timestamp-millis",
  "uuid",
];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Which logical type applies to a type, if the runtime implements it and its parameters are valid; otherwise the
 * type is read as its underlying type (as the Avro specification says for unknown or invalid logical types).
 */
function logicalOf(
  underlying: Primitive | "fixed",
  json: Record<string, unknown>,
  runtime: ReadonlySet<string>,
  size = 0,
): LogicalInfo | undefined {
  const name = json.logicalType;
  if (typeof name !== "string" || !runtime.has(name)) return undefined;
  const on = (types: string[], ts: string): LogicalInfo | undefined =>
    types.includes(underlying) ? { name, ts } : undefined;
  switch (name) {
    case "timestamp-millis":
    case "local-timestamp-millis":
      return on(["long"], "Date");
    case "timestamp-micros":
    case "local-timestamp-micros":
      return on(["long"], "bigint");
    case "date":
      return on(["int"], "string");
    case "time-millis":
      return on(["int"], "number");
    case "time-micros":
      return on(["long"], "number");
    case "uuid":
      return on(["string"], "string");
    case "decimal": {
      const { precision, scale = 0 } = json;
      if (typeof precision !== "number" || !Number.isInteger(precision) || precision < 1) return undefined;
      if (typeof scale !== "number" || !Number.isInteger(scale) || scale < 0 || scale > precision) return undefined;
      if (underlying === "fixed" && precision > Math.floor(Math.log10(2) * (8 * size - 1))) return undefined;
      return on(["bytes", "fixed"], "string");
    }
    default:
      return undefined;
  }
}

function qualify(name: string, namespace: string): { fullName: string; name: string; namespace: string } {
  const dot = name.lastIndexOf(".");
  if (dot >= 0) return { fullName: name, name: name.slice(dot + 1), namespace: name.slice(0, dot) };
  return { fullName: namespace ? `${namespace}.${name}` : name, name, namespace };
}

/** The options of {@link parseSchemas}. */
export interface ParseOptions {
  /** Logical types the runtime implements; others fall back to their underlying type. */
  logicalTypes: readonly string[];
}

/**
 * Parses and validates every schema file: JSON syntax, Avro structure, names, references, defaults and unions.
 *
 * @throws CodegenError naming the file and place of the first problem (files are read in path order).
 */
export function parseSchemas(
  inputs: ReadonlyArray<{ path: string; content: string }>,
  options: ParseOptions,
): SchemaSet {
  const runtime = new Set(options.logicalTypes);
  const types = new Map<string, NamedDef>();
  const files: SchemaFile[] = [];
  const parsed = new Map<string, ParsedJson>();
  const refs: Array<Extract<TypeNode, { kind: "named" }>> = [];
  const unions: Array<Extract<TypeNode, { kind: "union" }> & { file: string }> = [];

  const sorted = [...inputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const input of sorted) {
    const doc = parseJson(input.path, input.content);
    parsed.set(input.path, doc);
    const fail = (code: CodegenErrorCode, pointer: string, reason: string): never => {
      throw new CodegenError(code, input.path, { pointer, ...doc.positions.get(pointer) }, reason);
    };
    const defined: string[] = [];

    const parseNamed = (
      json: Record<string, unknown>,
      kind: NamedDef["kind"],
      pointer: string,
      namespace: string,
      topLevel: boolean,
    ): NamedDef => {
      if (typeof json.name !== "string") fail("CODEGEN_INVALID_SCHEMA", pointer, `a ${kind} needs a "name" (a string)`);
      if (json.namespace !== undefined && typeof json.namespace !== "string") {
        fail("CODEGEN_INVALID_SCHEMA", `${pointer}/namespace`, `"namespace" must be a string`);
      }
      const q = qualify(json.name as string, (json.namespace as string | undefined) ?? namespace);
      if (!NAME.test(q.name))
        fail("CODEGEN_INVALID_SCHEMA", `${pointer}/name`, `invalid name ${JSON.stringify(q.name)}`);
      if (q.namespace !== "" && !q.namespace.split(".").every((s) => NAME.test(s))) {
        fail("CODEGEN_INVALID_SCHEMA", `${pointer}/namespace`, `invalid namespace ${JSON.stringify(q.namespace)}`);
      }
      if (PRIMITIVES.has(q.name)) {
        fail(
          "CODEGEN_INVALID_SCHEMA",
          `${pointer}/name`,
          `cannot redefine the primitive type ${JSON.stringify(q.name)}`,
        );
      }
      const existing = types.get(q.fullName);
      if (existing) {
        fail(
          "CODEGEN_DUPLICATE_TYPE",
          `${pointer}/name`,
          `type ${q.fullName} is already defined in ${existing.file} at ${existing.pointer || "/"}`,
        );
      }
      if (json.doc !== undefined && typeof json.doc !== "string") {
        fail("CODEGEN_INVALID_SCHEMA", `${pointer}/doc`, `"doc" must be a string`);
      }
      const def: NamedDef = {
        kind,
        fullName: q.fullName,
        name: q.name,
        namespace: q.namespace,
        doc: json.doc as string | undefined,
        file: input.path,
        pointer,
        topLevel,
        json,
        fields: [],
        symbols: [],
        enumDefault: undefined,
        size: 0,
        logical: undefined,
      };
      // Registered before the fields are read, so a record can refer to itself.
      types.set(q.fullName, def);
      defined.push(q.fullName);
      return def;
    };

    const parseType = (json: unknown, pointer: string, namespace: string, topLevel = false): TypeNode => {
      if (typeof json === "string") {
        if (PRIMITIVES.has(json)) return { kind: "primitive", type: json as Primitive, logical: undefined, json };
        const node = {
          kind: "named" as const,
          fullName: qualify(json, namespace).fullName,
          file: input.path,
          pointer,
          reference: json,
        };
        refs.push(node);
        return node;
      }
      if (Array.isArray(json)) {
        if (json.length === 0) fail("CODEGEN_INVALID_SCHEMA", pointer, "a union needs at least one branch");
        const branches = json.map((b, i) => {
          if (Array.isArray(b)) {
            fail("CODEGEN_INVALID_SCHEMA", `${pointer}/${i}`, "a union cannot directly contain another union");
          }
          return parseType(b, `${pointer}/${i}`, namespace);
        });
        const node = { kind: "union" as const, branches, pointer };
        unions.push({ ...node, file: input.path });
        return node;
      }
      if (json === null || typeof json !== "object") {
        return fail(
          "CODEGEN_INVALID_SCHEMA",
          pointer,
          `a schema must be a type name, an object or a union array, not ${JSON.stringify(json)}`,
        );
      }
      const obj = json as Record<string, unknown>;
      const type = obj.type;
      if (type === undefined) return fail("CODEGEN_INVALID_SCHEMA", pointer, `missing "type"`);
      if (typeof type !== "string") {
        return fail(
          "CODEGEN_INVALID_SCHEMA",
          `${pointer}/type`,
          `"type" of a schema object must be a type name; write a nested schema or union directly`,
        );
      }
      if (PRIMITIVES.has(type)) {
        return {
          kind: "primitive",
          type: type as Primitive,
          logical: logicalOf(type as Primitive, obj, runtime),
          json,
        };
      }
      switch (type) {
        case "array":
          if (obj.items === undefined) fail("CODEGEN_INVALID_SCHEMA", pointer, `an array needs "items"`);
          return { kind: "array", items: parseType(obj.items, `${pointer}/items`, namespace), json: obj };
        case "map":
          if (obj.values === undefined) fail("CODEGEN_INVALID_SCHEMA", pointer, `a map needs "values"`);
          return { kind: "map", values: parseType(obj.values, `${pointer}/values`, namespace), json: obj };
        case "record":
        case "error": {
          const def = parseNamed(obj, type, pointer, namespace, topLevel);
          if (!Array.isArray(obj.fields)) fail("CODEGEN_INVALID_SCHEMA", pointer, `a record needs "fields" (an array)`);
          const seen = new Set<string>();
          (obj.fields as unknown[]).forEach((f, i) => {
            const fp = `${pointer}/fields/${i}`;
            if (f === null || typeof f !== "object" || Array.isArray(f)) {
              fail("CODEGEN_INVALID_SCHEMA", fp, "a field must be an object");
            }
            const field = f as Record<string, unknown>;
            if (typeof field.name !== "string" || !NAME.test(field.name)) {
              fail(
                "CODEGEN_INVALID_SCHEMA",
                `${fp}/name`,
                `a field needs a valid "name", got ${JSON.stringify(field.name)}`,
              );
            }
            const name = field.name as string;
            if (seen.has(name)) fail("CODEGEN_INVALID_SCHEMA", `${fp}/name`, `duplicate field ${JSON.stringify(name)}`);
            seen.add(name);
            if (field.type === undefined) {
              fail("CODEGEN_INVALID_SCHEMA", fp, `field ${JSON.stringify(name)} of ${def.fullName} has no "type"`);
            }
            if (field.doc !== undefined && typeof field.doc !== "string") {
              fail("CODEGEN_INVALID_SCHEMA", `${fp}/doc`, `"doc" must be a string`);
            }
            if (field.order !== undefined && !["ascending", "descending", "ignore"].includes(field.order as string)) {
              fail("CODEGEN_INVALID_SCHEMA", `${fp}/order`, `"order" must be "ascending", "descending" or "ignore"`);
            }
            def.fields.push({
              name,
              doc: field.doc as string | undefined,
              type: parseType(field.type, `${fp}/type`, def.namespace),
              hasDefault: Object.hasOwn(field, "default"),
              default: field.default,
              pointer: fp,
              json: field,
            });
          });
          return { kind: "named", fullName: def.fullName, file: input.path, pointer, reference: def.fullName };
        }
        case "enum": {
          const def = parseNamed(obj, type, pointer, namespace, topLevel);
          const symbols = obj.symbols;
          if (!Array.isArray(symbols) || symbols.length === 0) {
            fail("CODEGEN_INVALID_SCHEMA", pointer, `an enum needs "symbols" (a non-empty array)`);
          }
          (symbols as unknown[]).forEach((s, i) => {
            if (typeof s !== "string" || !NAME.test(s)) {
              fail("CODEGEN_INVALID_SCHEMA", `${pointer}/symbols/${i}`, `invalid enum symbol ${JSON.stringify(s)}`);
            }
            if (def.symbols.includes(s as string)) {
              fail("CODEGEN_INVALID_SCHEMA", `${pointer}/symbols/${i}`, `duplicate enum symbol ${JSON.stringify(s)}`);
            }
            def.symbols.push(s as string);
          });
          if (obj.default !== undefined) {
            if (typeof obj.default !== "string" || !def.symbols.includes(obj.default)) {
              fail("CODEGEN_INVALID_SCHEMA", `${pointer}/default`, `enum default must be one of its symbols`);
            }
            def.enumDefault = obj.default as string;
          }
          return { kind: "named", fullName: def.fullName, file: input.path, pointer, reference: def.fullName };
        }
        case "fixed": {
          const def = parseNamed(obj, type, pointer, namespace, topLevel);
          if (typeof obj.size !== "number" || !Number.isInteger(obj.size) || obj.size < 0) {
            fail("CODEGEN_INVALID_SCHEMA", `${pointer}/size`, `a fixed needs "size" (a non-negative integer)`);
          }
          def.size = obj.size as number;
          def.logical = logicalOf("fixed", obj, runtime, def.size);
          return { kind: "named", fullName: def.fullName, file: input.path, pointer, reference: def.fullName };
        }
        default:
          // {"type": "SomeRecord"}: Avro for Java reads it, avsc does not, so the runtime could not use it.
          return fail(
            "CODEGEN_INVALID_SCHEMA",
            `${pointer}/type`,
            `unknown type ${JSON.stringify(type)} in a schema object (refer to a named type by its name as a plain string)`,
          );
      }
    };

    const root = doc.value;
    if (root === null || typeof root !== "object" || Array.isArray(root)) {
      fail("CODEGEN_INVALID_SCHEMA", "", "a schema file must hold one named schema (a record, enum or fixed object)");
    }
    const rootType = (root as Record<string, unknown>).type;
    if (rootType !== "record" && rootType !== "error" && rootType !== "enum" && rootType !== "fixed") {
      fail("CODEGEN_INVALID_SCHEMA", "/type", "a schema file must hold one named schema (a record, enum or fixed)");
    }
    const node = parseType(root, "", "", true);
    files.push({ path: input.path, root: (node as { fullName: string }).fullName, defined });
  }

  const failAt = (code: CodegenErrorCode, file: string, pointer: string, reason: string): never => {
    throw new CodegenError(code, file, { pointer, ...parsed.get(file)?.positions.get(pointer) }, reason);
  };

  for (const ref of refs) {
    if (!types.has(ref.fullName)) {
      const hint =
        ref.reference === ref.fullName ? "" : ` (${JSON.stringify(ref.reference)} resolved in its namespace)`;
      failAt("CODEGEN_UNKNOWN_TYPE", ref.file, ref.pointer, `unknown type ${ref.fullName}${hint}`);
    }
  }
  for (const union of unions) {
    const seen = new Map<string, number>();
    union.branches.forEach((b, i) => {
      const name = branchName(b);
      const first = seen.get(name);
      if (first !== undefined) {
        failAt(
          "CODEGEN_INVALID_SCHEMA",
          union.file,
          `${union.pointer}/${i}`,
          `a union cannot have two branches named ${JSON.stringify(name)} (branches ${first} and ${i})`,
        );
      }
      seen.set(name, i);
    });
  }
  for (const def of types.values()) {
    for (const field of def.fields) {
      if (!field.hasDefault) continue;
      const problem = checkDefault(field.type, field.default, types, "");
      if (problem !== undefined) {
        failAt(
          "CODEGEN_INVALID_SCHEMA",
          def.file,
          `${field.pointer}/default`,
          `invalid default for field ${JSON.stringify(field.name)} of ${def.fullName}: ${problem}`,
        );
      }
    }
  }
  return { files, types };
}

/** The name avsc gives a union branch: a named type's full name, otherwise the (underlying) type name. */
export function branchName(node: TypeNode): string {
  switch (node.kind) {
    case "primitive":
      return node.type;
    case "named":
      return node.fullName;
    case "array":
    case "map":
      return node.kind;
    case "union":
      return "union";
  }
}

/**
 * The default value a field declares, checked as avsc checks it when the runtime builds the type (a union's default
 * belongs to its first branch; bytes and fixed are strings of code points 0-255). Returns the problem, if any.
 */
function checkDefault(
  node: TypeNode,
  value: unknown,
  types: ReadonlyMap<string, NamedDef>,
  at: string,
): string | undefined {
  const where = at ? ` at ${at}` : "";
  const bad = (expected: string) => `expected ${expected}${where}, got ${JSON.stringify(value)}`;
  switch (node.kind) {
    case "primitive":
      switch (node.type) {
        case "null":
          return value === null ? undefined : bad("null");
        case "boolean":
          return typeof value === "boolean" ? undefined : bad("a boolean");
        case "int":
          return Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31
            ? undefined
            : bad("an int");
        case "long":
          return Number.isSafeInteger(value) ? undefined : bad("a long (a safe integer)");
        case "float":
        case "double":
          return typeof value === "number" ? undefined : bad("a number");
        case "string":
          return typeof value === "string" ? undefined : bad("a string");
        case "bytes":
          return typeof value === "string" && !/[\u0100-\uffff]/.test(value) ? undefined : bad("a bytes string");
      }
      return undefined;
    case "array":
      if (!Array.isArray(value)) return bad("an array");
      for (const [i, item] of value.entries()) {
        const p = checkDefault(node.items, item, types, `${at}/${i}`);
        if (p) return p;
      }
      return undefined;
    case "map":
      if (value === null || typeof value !== "object" || Array.isArray(value)) return bad("an object (map)");
      for (const [k, v] of Object.entries(value)) {
        const p = checkDefault(node.values, v, types, `${at}/${pointerSegment(k)}`);
        if (p) return p;
      }
      return undefined;
    case "union": {
      const first = node.branches[0];
      return first === undefined ? bad("nothing") : checkDefault(first, value, types, at);
    }
    case "named": {
      const def = types.get(node.fullName);
      if (!def) return undefined;
      if (def.kind === "enum") {
        return typeof value === "string" && def.symbols.includes(value)
          ? undefined
          : bad(`a symbol of ${def.fullName}`);
      }
      if (def.kind === "fixed") {
        return typeof value === "string" && value.length === def.size && !/[\u0100-\uffff]/.test(value)
          ? undefined
          : bad(`a string of ${def.size} bytes`);
      }
      if (value === null || typeof value !== "object" || Array.isArray(value))
        return bad(`an object (${def.fullName})`);
      const obj = value as Record<string, unknown>;
      for (const field of def.fields) {
        if (Object.hasOwn(obj, field.name)) {
          const p = checkDefault(field.type, obj[field.name], types, `${at}/${pointerSegment(field.name)}`);
          if (p) return p;
        } else if (!field.hasDefault) {
          return `missing field ${JSON.stringify(field.name)} of ${def.fullName}${where}`;
        }
      }
      return undefined;
    }
  }
}
