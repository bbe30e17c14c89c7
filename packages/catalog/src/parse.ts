import { type ParsedJson, parseJson, pointerSegment } from "./json.js";
import {
  AVRO_PRIMITIVES,
  type AvroField,
  type AvroType,
  branchName,
  KRONOS_LOGICAL_TYPES,
  type NamedType,
  type ParsedFile,
  type Primitive,
  type SchemaSet,
} from "./model.js";
import { SchemaError, type SchemaErrorCode } from "./schema-error.js";

/** Options of {@link parseSchemaFiles} and {@link parseSchema}. */
export interface ParseOptions {
  /** Logical types the runtime implements; others read as their underlying type. Default: the Kronos runtime's. */
  logicalTypes?: readonly string[];
}

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
): string | undefined {
  const name = json.logicalType;
  if (typeof name !== "string" || !runtime.has(name)) return undefined;
  const on = (types: string[]): string | undefined => (types.includes(underlying) ? name : undefined);
  switch (name) {
    case "timestamp-millis":
    case "local-timestamp-millis":
    case "timestamp-micros":
    case "local-timestamp-micros":
    case "time-micros":
      return on(["long"]);
    case "date":
    case "time-millis":
      return on(["int"]);
    case "uuid":
      return on(["string"]);
    case "decimal": {
      const { precision, scale = 0 } = json;
      if (typeof precision !== "number" || !Number.isInteger(precision) || precision < 1) return undefined;
      if (typeof scale !== "number" || !Number.isInteger(scale) || scale < 0 || scale > precision) return undefined;
      if (underlying === "fixed" && precision > Math.floor(Math.log10(2) * (8 * size - 1))) return undefined;
      return on(["bytes", "fixed"]);
    }
    default:
      return undefined;
  }
}

function qualifyName(name: string, namespace: string): { fullName: string; name: string; namespace: string } {
  const dot = name.lastIndexOf(".");
  if (dot >= 0) return { fullName: name, name: name.slice(dot + 1), namespace: name.slice(0, dot) };
  return { fullName: namespace ? `${namespace}.${name}` : name, name, namespace };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

type NamedNode = Extract<AvroType, { kind: "named" }>;
type UnionNode = Extract<AvroType, { kind: "union" }> & { file: string };

/** Thrown inside one file's parse; the file stops there. */
class FileProblem {
  constructor(readonly error: SchemaError) {}
}

/**
 * Parses and checks Avro schema files into the one model: JSON syntax (with positions), Avro structure, names,
 * references across files, unions (nested, duplicate branches) and defaults (checked as avsc checks them). Pure.
 * Never throws for a bad schema: every problem is in `problems`, with its file, JSON pointer, line and column.
 */
export function parseSchemaFiles(
  inputs: ReadonlyArray<{ path: string; content: string }>,
  options: ParseOptions = {},
): SchemaSet {
  const docs: Array<{ path: string; doc: ParsedJson | SchemaError }> = [...inputs]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((input) => {
      try {
        return { path: input.path, doc: parseJson(input.path, input.content) };
      } catch (error) {
        if (error instanceof SchemaError) return { path: input.path, doc: error };
        throw error;
      }
    });
  return parseDocuments(docs, options);
}

/**
 * Parses one schema given as a JSON value (e.g. a self-contained event schema) into the model. `file` names it in
 * problems (no line and column: there is no text).
 * @throws SchemaError for the first problem found.
 */
export function parseSchema(
  json: unknown,
  options: ParseOptions & { file?: string } = {},
): { root: NamedType; types: Map<string, NamedType> } {
  const file = options.file ?? "(schema)";
  const set = parseDocuments([{ path: file, doc: { value: json, positions: new Map() } }], options);
  const [problem] = set.problems;
  if (problem !== undefined) throw problem;
  const root = set.types.get((set.files[0] as ParsedFile).root) as NamedType;
  return { root, types: set.types };
}

function parseDocuments(
  docs: ReadonlyArray<{ path: string; doc: ParsedJson | SchemaError }>,
  options: ParseOptions,
): SchemaSet {
  const runtime = new Set(options.logicalTypes ?? KRONOS_LOGICAL_TYPES);
  const types = new Map<string, NamedType>();
  const files: ParsedFile[] = [];
  const problems: SchemaError[] = [];
  const parsed = new Map<string, ParsedJson>();
  const refs: NamedNode[] = [];
  const unions: UnionNode[] = [];

  for (const { path, doc } of docs) {
    if (doc instanceof SchemaError) {
      problems.push(doc);
      continue;
    }
    parsed.set(path, doc);
    const fileRefs: NamedNode[] = [];
    const fileUnions: UnionNode[] = [];
    const defined: string[] = [];
    try {
      const root = parseFile(path, doc, types, defined, fileRefs, fileUnions, runtime);
      const references = [...new Set(fileRefs.map((r) => r.fullName).filter((name) => !defined.includes(name)))];
      files.push({
        path,
        json: doc.value as Record<string, unknown>,
        root,
        defined,
        references,
        positions: doc.positions,
      });
      refs.push(...fileRefs);
      unions.push(...fileUnions);
    } catch (error) {
      if (!(error instanceof FileProblem)) throw error;
      problems.push(error.error);
      // A file that stops half-way defines nothing.
      for (const name of defined) types.delete(name);
    }
  }

  const problemAt = (code: SchemaErrorCode, file: string, pointer: string, reason: string): SchemaError =>
    new SchemaError(code, file, { pointer, ...parsed.get(file)?.positions.get(pointer) }, reason);

  for (const ref of refs) {
    if (!types.has(ref.fullName)) {
      const hint =
        ref.reference === ref.fullName ? "" : ` (${JSON.stringify(ref.reference)} resolved in its namespace)`;
      problems.push(problemAt("SCHEMA_UNKNOWN_TYPE", ref.file, ref.pointer, `unknown type ${ref.fullName}${hint}`));
    }
  }
  for (const union of unions) {
    const seen = new Map<string, number>();
    for (const [i, b] of union.branches.entries()) {
      const name = branchName(b);
      const first = seen.get(name);
      if (first !== undefined) {
        problems.push(
          problemAt(
            "SCHEMA_INVALID",
            union.file,
            `${union.pointer}/${i}`,
            `a union cannot have two branches named ${JSON.stringify(name)} (branches ${first} and ${i})`,
          ),
        );
        break;
      }
      seen.set(name, i);
    }
  }
  for (const def of types.values()) {
    for (const field of def.fields) {
      if (!field.hasDefault) continue;
      const problem = checkDefault(field.type, field.default, types, "");
      if (problem !== undefined) {
        problems.push(
          problemAt(
            "SCHEMA_INVALID",
            def.file,
            `${field.pointer}/default`,
            `invalid default for field ${JSON.stringify(field.name)} of ${def.fullName}: ${problem}`,
          ),
        );
      }
    }
  }
  return { files, types, problems };
}

/** Parses one file's document; registers its named types in `types`. Returns the root's full name. */
function parseFile(
  path: string,
  doc: ParsedJson,
  types: Map<string, NamedType>,
  defined: string[],
  refs: NamedNode[],
  unions: UnionNode[],
  runtime: ReadonlySet<string>,
): string {
  const fail = (code: SchemaErrorCode, pointer: string, reason: string): never => {
    throw new FileProblem(new SchemaError(code, path, { pointer, ...doc.positions.get(pointer) }, reason));
  };

  const parseNamed = (
    json: Record<string, unknown>,
    kind: NamedType["kind"],
    written: string,
    pointer: string,
    namespace: string,
    topLevel: boolean,
  ): NamedType => {
    if (typeof json.name !== "string") fail("SCHEMA_INVALID", pointer, `a ${written} needs a "name" (a string)`);
    if (json.namespace !== undefined && typeof json.namespace !== "string") {
      fail("SCHEMA_INVALID", `${pointer}/namespace`, `"namespace" must be a string`);
    }
    const q = qualifyName(json.name as string, (json.namespace as string | undefined) ?? namespace);
    if (!NAME.test(q.name)) fail("SCHEMA_INVALID", `${pointer}/name`, `invalid name ${JSON.stringify(q.name)}`);
    if (q.namespace !== "" && !q.namespace.split(".").every((s) => NAME.test(s))) {
      fail("SCHEMA_INVALID", `${pointer}/namespace`, `invalid namespace ${JSON.stringify(q.namespace)}`);
    }
    if (AVRO_PRIMITIVES.has(q.name)) {
      fail("SCHEMA_INVALID", `${pointer}/name`, `cannot redefine the primitive type ${JSON.stringify(q.name)}`);
    }
    const existing = types.get(q.fullName);
    if (existing) {
      fail(
        "SCHEMA_DUPLICATE_TYPE",
        `${pointer}/name`,
        `type ${q.fullName} is already defined in ${existing.file} at ${existing.pointer || "/"}`,
      );
    }
    if (json.doc !== undefined && typeof json.doc !== "string") {
      fail("SCHEMA_INVALID", `${pointer}/doc`, `"doc" must be a string`);
    }
    const def: NamedType = {
      kind,
      fullName: q.fullName,
      name: q.name,
      namespace: q.namespace,
      aliases: strings(json.aliases).map((alias) => qualifyName(alias, q.namespace).fullName),
      doc: json.doc as string | undefined,
      file: path,
      pointer,
      topLevel,
      json,
      fields: [],
      symbols: [],
      enumDefault: undefined,
      size: 0,
      logicalType: typeof json.logicalType === "string" ? json.logicalType : undefined,
      logical: undefined,
    };
    // Registered before the fields are read, so a record can refer to itself.
    types.set(q.fullName, def);
    defined.push(q.fullName);
    return def;
  };

  const named = (def: NamedType, pointer: string): NamedNode => ({
    kind: "named",
    fullName: def.fullName,
    file: path,
    pointer,
    reference: def.fullName,
  });

  const parseType = (json: unknown, pointer: string, namespace: string, topLevel = false): AvroType => {
    if (typeof json === "string") {
      if (AVRO_PRIMITIVES.has(json)) {
        return { kind: "primitive", type: json as Primitive, logicalType: undefined, logical: undefined, json };
      }
      const node: NamedNode = {
        kind: "named",
        fullName: qualifyName(json, namespace).fullName,
        file: path,
        pointer,
        reference: json,
      };
      refs.push(node);
      return node;
    }
    if (Array.isArray(json)) {
      if (json.length === 0) fail("SCHEMA_INVALID", pointer, "a union needs at least one branch");
      const branches = json.map((b, i) => {
        if (Array.isArray(b))
          fail("SCHEMA_INVALID", `${pointer}/${i}`, "a union cannot directly contain another union");
        return parseType(b, `${pointer}/${i}`, namespace);
      });
      const node = { kind: "union" as const, branches, pointer };
      unions.push({ ...node, file: path });
      return node;
    }
    if (json === null || typeof json !== "object") {
      return fail(
        "SCHEMA_INVALID",
        pointer,
        `a schema must be a type name, an object or a union array, not ${JSON.stringify(json)}`,
      );
    }
    const obj = json as Record<string, unknown>;
    const type = obj.type;
    if (type === undefined) return fail("SCHEMA_INVALID", pointer, `missing "type"`);
    if (typeof type !== "string") {
      return fail(
        "SCHEMA_INVALID",
        `${pointer}/type`,
        `"type" of a schema object must be a type name; write a nested schema or union directly`,
      );
    }
    if (AVRO_PRIMITIVES.has(type)) {
      return {
        kind: "primitive",
        type: type as Primitive,
        logicalType: typeof obj.logicalType === "string" ? obj.logicalType : undefined,
        logical: logicalOf(type as Primitive, obj, runtime),
        json,
      };
    }
    switch (type) {
      case "array":
        if (obj.items === undefined) fail("SCHEMA_INVALID", pointer, `an array needs "items"`);
        return { kind: "array", items: parseType(obj.items, `${pointer}/items`, namespace), json: obj };
      case "map":
        if (obj.values === undefined) fail("SCHEMA_INVALID", pointer, `a map needs "values"`);
        return { kind: "map", values: parseType(obj.values, `${pointer}/values`, namespace), json: obj };
      case "record":
      case "error": {
        const def = parseNamed(obj, "record", type, pointer, namespace, topLevel);
        if (!Array.isArray(obj.fields)) fail("SCHEMA_INVALID", pointer, `a record needs "fields" (an array)`);
        const seen = new Set<string>();
        (obj.fields as unknown[]).forEach((f, i) => {
          def.fields.push(parseField(f, `${pointer}/fields/${i}`, def, seen));
        });
        return named(def, pointer);
      }
      case "enum": {
        const def = parseNamed(obj, "enum", type, pointer, namespace, topLevel);
        const symbols = obj.symbols;
        if (!Array.isArray(symbols) || symbols.length === 0) {
          fail("SCHEMA_INVALID", pointer, `an enum needs "symbols" (a non-empty array)`);
        }
        (symbols as unknown[]).forEach((s, i) => {
          if (typeof s !== "string" || !NAME.test(s)) {
            fail("SCHEMA_INVALID", `${pointer}/symbols/${i}`, `invalid enum symbol ${JSON.stringify(s)}`);
          }
          if (def.symbols.includes(s as string)) {
            fail("SCHEMA_INVALID", `${pointer}/symbols/${i}`, `duplicate enum symbol ${JSON.stringify(s)}`);
          }
          def.symbols.push(s as string);
        });
        if (obj.default !== undefined) {
          if (typeof obj.default !== "string" || !def.symbols.includes(obj.default)) {
            fail("SCHEMA_INVALID", `${pointer}/default`, `enum default must be one of its symbols`);
          }
          def.enumDefault = obj.default as string;
        }
        return named(def, pointer);
      }
      case "fixed": {
        const def = parseNamed(obj, "fixed", type, pointer, namespace, topLevel);
        if (typeof obj.size !== "number" || !Number.isInteger(obj.size) || obj.size < 0) {
          fail("SCHEMA_INVALID", `${pointer}/size`, `a fixed needs "size" (a non-negative integer)`);
        }
        def.size = obj.size as number;
        def.logical = logicalOf("fixed", obj, runtime, def.size);
        return named(def, pointer);
      }
      default:
        // {"type": "SomeRecord"}: Avro for Java reads it, avsc does not, so the runtime could not use it.
        return fail(
          "SCHEMA_INVALID",
          `${pointer}/type`,
          `unknown type ${JSON.stringify(type)} in a schema object (refer to a named type by its name as a plain string)`,
        );
    }
  };

  const parseField = (f: unknown, fp: string, def: NamedType, seen: Set<string>): AvroField => {
    if (f === null || typeof f !== "object" || Array.isArray(f))
      fail("SCHEMA_INVALID", fp, "a field must be an object");
    const field = f as Record<string, unknown>;
    if (typeof field.name !== "string" || !NAME.test(field.name)) {
      fail("SCHEMA_INVALID", `${fp}/name`, `a field needs a valid "name", got ${JSON.stringify(field.name)}`);
    }
    const name = field.name as string;
    if (seen.has(name)) fail("SCHEMA_INVALID", `${fp}/name`, `duplicate field ${JSON.stringify(name)}`);
    seen.add(name);
    if (field.type === undefined) {
      fail("SCHEMA_INVALID", fp, `field ${JSON.stringify(name)} of ${def.fullName} has no "type"`);
    }
    if (field.doc !== undefined && typeof field.doc !== "string") {
      fail("SCHEMA_INVALID", `${fp}/doc`, `"doc" must be a string`);
    }
    if (field.order !== undefined && !["ascending", "descending", "ignore"].includes(field.order as string)) {
      fail("SCHEMA_INVALID", `${fp}/order`, `"order" must be "ascending", "descending" or "ignore"`);
    }
    return {
      name,
      doc: field.doc as string | undefined,
      type: parseType(field.type, `${fp}/type`, def.namespace),
      hasDefault: Object.hasOwn(field, "default"),
      default: field.default,
      aliases: strings(field.aliases),
      pointer: fp,
      json: field,
    };
  };

  const root = doc.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    fail("SCHEMA_INVALID", "", "a schema file must hold one named schema (a record, enum or fixed object)");
  }
  const rootType = (root as Record<string, unknown>).type;
  if (rootType !== "record" && rootType !== "error" && rootType !== "enum" && rootType !== "fixed") {
    fail("SCHEMA_INVALID", "/type", "a schema file must hold one named schema (a record, enum or fixed)");
  }
  return (parseType(root, "", "", true) as NamedNode).fullName;
}

/**
 * The default value a field declares, checked as avsc checks it when the runtime builds the type (a union's default
 * belongs to its first branch; bytes and fixed are strings of code points 0-255). Returns the problem, if any.
 */
function checkDefault(
  node: AvroType,
  value: unknown,
  types: ReadonlyMap<string, NamedType>,
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
