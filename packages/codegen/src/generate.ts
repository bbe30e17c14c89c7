import {
  type AvroField,
  type AvroType,
  branchName,
  KRONOS_LOGICAL_TYPES,
  type NamedType,
  parseSchemaFiles,
  type SchemaSet,
  selfContainedOf,
} from "@kronos/catalog";
import { CodegenError, codegenErrorOf } from "./errors.js";
import { assignNames } from "./names.js";
import { isWrappedUnion } from "./unions.js";
import { CODEGEN_VERSION } from "./version.js";

/** A file given to or produced by the generator; `path` is relative and uses `/`. */
export interface SourceFile {
  path: string;
  content: string;
}

/** What {@link generate} reads. */
export interface GenerateInput {
  /** The `.avsc` files, each holding one named schema; paths relative to the schemas folder (`auth/Login.avsc`). */
  files: ReadonlyArray<SourceFile>;
  /** Per event (by full name), the transport binding to put in its descriptor as `binding`. */
  bindings?: Readonly<Record<string, unknown>>;
  /**
   * Per event (by full name), its registry subjects (the catalog's `subjectNaming`, `subject`, `topicSubjects`).
   * An event not listed, or under RecordNameStrategy, gets `subject: <full name>` and nothing more (the runtime's
   * defaults); under a topic strategy the descriptor also carries `subjectNaming` and `topicSubjects`.
   */
  subjects?: Readonly<Record<string, EventSubjectsInput>>;
}

/** The registry subjects of one event, as the catalog computes them (see {@link GenerateInput.subjects}). */
export interface EventSubjectsInput {
  naming: string;
  subject: string;
  topicSubjects: Readonly<Record<string, string>>;
}

/** What {@link generate} produces. */
export interface GenerateOutput {
  /** TypeScript files, sorted by path: one per schema file (`auth/Login.avsc` → `auth/Login.ts`) and an `index.ts` per folder. */
  files: SourceFile[];
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  /**
   * Which top-level records are events (get an `<Name>Event` descriptor), by full name. Default: every top-level
   * record. Shared records such as headers are not events.
   */
  isEvent?: (fullName: string) => boolean;
  /** Folder the schema paths are relative to, as written in headers and `@see` lines. Default `"schemas"`. */
  sourceRoot?: string;
  /** Module the descriptors import `defineEvent` from. Default `"@kronos/contracts"`. */
  runtimeModule?: string;
  /**
   * Logical types the runtime implements (they decide the TypeScript type and are left out of the union ambiguity
   * check, as avsc does). Default: {@link KRONOS_LOGICAL_TYPES}.
   */
  logicalTypes?: readonly string[];
  /**
   * Emit `defineEvent<Name, NameInput>` instead of `defineEvent<Name>`, for a runtime whose `defineEvent` takes the
   * input type (what `encode` accepts) as a second type argument. Default `false`.
   */
  inputTypeArgument?: boolean;
}

type Mode = "output" | "input";

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The TypeScript type of a value of each logical type the runtime implements (as avsc gives and takes it). */
const LOGICAL_TS: Record<string, string> = {
  "timestamp-millis": "Date",
  "local-timestamp-millis": "Date",
  "timestamp-micros": "bigint",
  "local-timestamp-micros": "bigint",
  date: "string",
  "time-millis": "number",
  "time-micros": "number",
  uuid: "string",
  decimal: "string",
};

const PRIMITIVE_TS: Record<string, string> = {
  null: "null",
  boolean: "boolean",
  int: "number",
  long: "number",
  float: "number",
  double: "number",
  bytes: "Buffer",
  string: "string",
};

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** `import` specifier from the file `from` to the file `to` (both output paths), ending in `.js`. */
function relativeImport(from: string, to: string): string {
  const a = dirname(from).split("/").filter(Boolean);
  const b = to.split("/");
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  const rest = b.slice(i).join("/").replace(/\.ts$/, ".js");
  return up === 0 ? `./${rest}` : `${"../".repeat(up)}${rest}`;
}

/** A TSDoc block at the given indentation; a single short line stays on one line. */
function docBlock(paragraphs: ReadonlyArray<string | undefined>, indent: string): string[] {
  const lines: string[] = [];
  for (const p of paragraphs) {
    if (p === undefined || p.trim() === "") continue;
    if (lines.length) lines.push("");
    for (const l of p.trim().split(/\r?\n/)) lines.push(l.replaceAll("*/", "*\\/").trimEnd());
  }
  if (lines.length === 0) return [];
  if (lines.length === 1 && indent.length + (lines[0] as string).length + 7 <= 120) {
    return [`${indent}/** ${lines[0]} */`];
  }
  return [`${indent}/**`, ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`];
}

/**
 * A JSON value as a TypeScript literal: an object or array stays on one line when it fits in 120 columns from
 * `column`, otherwise one member per line; continuation lines are indented from `indent`.
 */
function literal(value: unknown, indent: string, column = indent.length): string {
  const flat = (v: unknown): string => {
    if (Array.isArray(v)) return v.length ? `[${v.map(flat).join(", ")}]` : "[]";
    if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      return entries.length ? `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${flat(x)}`).join(", ")} }` : "{}";
    }
    return JSON.stringify(v);
  };
  const one = flat(value);
  if (column + one.length <= 118 || value === null || typeof value !== "object") return one;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => `${inner}${literal(v, inner)}`).join(",\n")}\n${indent}]`;
  }
  const lines = Object.entries(value).map(([k, v]) => {
    const key = `${JSON.stringify(k)}: `;
    return `${inner}${key}${literal(v, inner, inner.length + key.length)}`;
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/** `export type X = | "a" | "b";` or its multi-line form when it would be longer than 120 characters. */
function unionAlias(head: string, members: string[]): string[] {
  const oneLine = `${head} ${members.join(" | ")};`;
  if (oneLine.length <= 120) return [oneLine];
  return [head, ...members.map((m, i) => `  | ${m}${i === members.length - 1 ? ";" : ""}`)];
}

function constArray(head: string, members: string[]): string[] {
  const oneLine = `${head} [${members.join(", ")}] as const;`;
  if (oneLine.length <= 120) return [oneLine];
  return [`${head} [`, ...members.map((m) => `  ${m},`), "] as const;"];
}

/**
 * Generates TypeScript from Avro schemas: per schema file, an interface per record (`<Name>`, what decode returns,
 * and `<Name>Input`, what encode and validate accept, where defaulted fields are optional), a string literal union
 * and a `<Name>Symbols` array per enum, a `Buffer` alias per fixed, and for each event an `<Name>Event` descriptor
 * (`defineEvent` from the runtime) holding the event's self-contained schema; plus an `index.ts` per folder that
 * re-exports everything. Pure: no I/O, and the same input always gives the same output.
 *
 * @throws CodegenError naming the file, the place in it and the reason, for a file that is not JSON, not a valid
 *   Avro schema, or refers to an unknown type; for a name that cannot be made unambiguous; for a binding of an
 *   unknown event.
 */
export function generate(input: GenerateInput, options: GenerateOptions = {}): GenerateOutput {
  const sourceRoot = (options.sourceRoot ?? "schemas").replace(/\/+$/, "");
  const runtimeModule = options.runtimeModule ?? "@kronos/contracts";
  const files = input.files.map((f) => ({
    path: f.path.replaceAll("\\", "/").replace(/^\.\//, ""),
    content: f.content,
  }));
  const set = parseSchemaFiles(files, { logicalTypes: options.logicalTypes ?? KRONOS_LOGICAL_TYPES });
  const [problem] = set.problems;
  if (problem !== undefined) throw codegenErrorOf(problem);
  const { types } = set;

  const descriptorTypeArgs = (name: string): string => (options.inputTypeArgument ? `${name}, ${name}Input` : name);
  const isEventDef = (def: NamedType): boolean =>
    def.topLevel && def.kind === "record" && (options.isEvent ? options.isEvent(def.fullName) : true);
  const tsNames = assignNames(types, isEventDef);
  const tsName = (fullName: string): string => tsNames.get(fullName) as string;

  for (const [what, given] of [
    ["binding", input.bindings],
    ["subject", input.subjects],
  ] as const) {
    for (const key of Object.keys(given ?? {}).sort(cmp)) {
      const def = types.get(key);
      if (!def || !isEventDef(def)) {
        throw new CodegenError(
          "CODEGEN_UNKNOWN_TYPE",
          `<${what}s>`,
          { pointer: `/${key}` },
          `a ${what} is given for ${key}, which is not an event of these schemas`,
        );
      }
    }
  }

  const outPath = (schemaPath: string): string => schemaPath.replace(/\.avsc$/, "").concat(".ts");
  const fileOf = new Map<string, string>();
  for (const f of set.files) for (const name of f.defined) fileOf.set(name, outPath(f.path));
  for (const f of set.files) {
    if (/(^|\/)index\.ts$/.test(outPath(f.path))) {
      throw new CodegenError(
        "CODEGEN_NAME_CLASH",
        f.path,
        { pointer: "" },
        "a schema file cannot be named index.avsc: index.ts re-exports its folder",
      );
    }
  }

  const inputDiffers = computeInputDiffers(set);
  const out: SourceFile[] = [];

  for (const file of set.files) {
    const path = outPath(file.path);
    const source = `${sourceRoot}/${file.path}`;
    const imports = new Map<string, Set<string>>();

    const ref = (fullName: string, mode: Mode): string => {
      const name = mode === "input" && inputDiffers.has(fullName) ? `${tsName(fullName)}Input` : tsName(fullName);
      const from = fileOf.get(fullName) as string;
      if (from !== path) {
        const spec = relativeImport(path, from);
        const names = imports.get(spec) ?? new Set<string>();
        names.add(name);
        imports.set(spec, names);
      }
      return name;
    };

    const ts = (node: AvroType, mode: Mode): string => {
      switch (node.kind) {
        case "primitive":
          return node.logical ? (LOGICAL_TS[node.logical] as string) : (PRIMITIVE_TS[node.type] as string);
        case "named":
          return ref(node.fullName, mode);
        case "array": {
          const item = ts(node.items, mode);
          return /[|&]/.test(item) ? `(${item})[]` : `${item}[]`;
        }
        case "map":
          return `Record<string, ${ts(node.values, mode)}>`;
        case "union": {
          const wrapped = isWrappedUnion(node.branches, types);
          const parts: string[] = [];
          let nullable = false;
          for (const b of node.branches) {
            if (b.kind === "primitive" && b.type === "null" && !b.logical) {
              nullable = true;
              continue;
            }
            const t = ts(b, mode);
            const part = wrapped ? `{ ${JSON.stringify(branchName(b))}: ${t} }` : t;
            if (!parts.includes(part)) parts.push(part);
          }
          if (nullable) parts.push("null");
          return parts.join(" | ");
        }
      }
    };

    const fieldLines = (field: AvroField, mode: Mode): string[] => {
      const optional = mode === "input" && field.hasDefault;
      return [
        ...docBlock(
          [field.doc, field.hasDefault ? `@defaultValue \`${JSON.stringify(field.default)}\`` : undefined],
          "  ",
        ),
        `  ${field.name}${optional ? "?" : ""}: ${ts(field.type, mode)};`,
      ];
    };

    const body: string[][] = [];
    for (const fullName of file.defined) {
      const def = types.get(fullName) as NamedType;
      const name = tsName(fullName);
      const see = `@see ${source}`;
      const avroName = name === def.name ? undefined : `Avro name: \`${def.fullName}\`.`;
      switch (def.kind) {
        case "record": {
          const fields = (mode: Mode) => def.fields.flatMap((f) => fieldLines(f, mode));
          const output = fields("output");
          body.push([
            ...docBlock([def.doc, avroName, see], ""),
            output.length ? `export interface ${name} {` : `export interface ${name} {}`,
            ...(output.length ? [...output, "}"] : []),
          ]);
          if (inputDiffers.has(fullName)) {
            const input = fields("input");
            body.push([
              ...docBlock(
                [`What encode and validate accept for {@link ${name}}: fields with a default may be left out.`, see],
                "",
              ),
              `export interface ${name}Input {`,
              ...input,
              "}",
            ]);
          } else {
            body.push([
              ...docBlock(
                [`What encode and validate accept for {@link ${name}}: the same (no field has a default).`],
                "",
              ),
              `export type ${name}Input = ${name};`,
            ]);
          }
          break;
        }
        case "enum": {
          const symbols = def.symbols.map((s) => JSON.stringify(s));
          const dflt =
            def.enumDefault === undefined
              ? undefined
              : `Readers that do not know a writer's symbol read \`${JSON.stringify(def.enumDefault)}\` (the enum's default).`;
          body.push([...docBlock([def.doc, avroName, dflt, see], ""), ...unionAlias(`export type ${name} =`, symbols)]);
          body.push([
            ...docBlock([`The symbols of {@link ${name}}, in schema order.`], ""),
            ...constArray(`export const ${name}Symbols =`, symbols),
          ]);
          break;
        }
        case "fixed": {
          const what = def.logical
            ? `Avro fixed of ${def.size} bytes holding a ${def.logical} (precision ${String(def.json.precision)}, scale ${String(def.json.scale ?? 0)}), as its exact decimal string.`
            : `Avro fixed of ${def.size} bytes.`;
          body.push([
            ...docBlock([def.doc, avroName, what, see], ""),
            `export type ${name} = ${def.logical ? LOGICAL_TS[def.logical] : "Buffer"};`,
          ]);
          break;
        }
      }
    }

    let usesRuntime = false;
    const root = types.get(file.root) as NamedType;
    if (isEventDef(root)) {
      usesRuntime = true;
      const name = tsName(root.fullName);
      const schema = selfContainedOf(root.fullName, types);
      const binding = input.bindings?.[root.fullName];
      const subjects = input.subjects?.[root.fullName];
      const naming = subjects?.naming ?? "RecordNameStrategy";
      const byTopic = naming !== "RecordNameStrategy" && subjects !== undefined;
      body.push([
        ...docBlock(
          [
            `The \`${root.fullName}\` event: registry subject${byTopic ? "s" : ""} (${naming}), self-contained schema, source${binding === undefined ? "" : ", binding"}\nand \`encode\`/\`decode\`/\`validate\` for {@link ${name}} values.`,
            `@see ${source}`,
          ],
          "",
        ),
        `export const ${name}Event = defineEvent<${descriptorTypeArgs(name)}>({`,
        `  name: ${JSON.stringify(root.fullName)},`,
        `  subject: ${JSON.stringify(subjects?.subject ?? root.fullName)},`,
        ...(byTopic
          ? [
              `  subjectNaming: ${JSON.stringify(naming)},`,
              `  topicSubjects: ${literal(subjects.topicSubjects, "  ", 17)},`,
            ]
          : []),
        `  schema: ${literal(schema, "  ", 10)},`,
        `  source: ${JSON.stringify(source)},`,
        ...(binding === undefined ? [] : [`  binding: ${literal(binding, "  ", 11)},`]),
        "});",
      ]);
    }

    const head = [`// Generated by @kronos/codegen ${CODEGEN_VERSION} from ${source} — do not edit.`];
    const importLines: string[] = [];
    if (usesRuntime) importLines.push(`import { defineEvent } from ${JSON.stringify(runtimeModule)};`);
    for (const spec of [...imports.keys()].sort(cmp)) {
      const names = [...(imports.get(spec) as Set<string>)].sort(cmp);
      importLines.push(`import type { ${names.join(", ")} } from ${JSON.stringify(spec)};`);
    }
    const sections = [head, ...(importLines.length ? [importLines] : []), ...body];
    out.push({ path, content: `${sections.map((s) => s.join("\n")).join("\n\n")}\n` });
  }

  out.push(
    ...indexFiles(
      out.map((f) => f.path),
      sourceRoot,
    ),
  );
  out.sort((a, b) => cmp(a.path, b.path));
  return { files: out };
}

/** The records whose input type differs from their output type: a field with a default, here or in a nested record. */
function computeInputDiffers(set: SchemaSet): Set<string> {
  const differs = new Set<string>();
  const nodeDiffers = (node: AvroType): boolean => {
    switch (node.kind) {
      case "named":
        return differs.has(node.fullName);
      case "array":
        return nodeDiffers(node.items);
      case "map":
        return nodeDiffers(node.values);
      case "union":
        return node.branches.some(nodeDiffers);
      default:
        return false;
    }
  };
  // A fixpoint, since records can be recursive.
  for (let changed = true; changed; ) {
    changed = false;
    for (const def of set.types.values()) {
      if (differs.has(def.fullName) || def.kind !== "record") continue;
      if (def.fields.some((f) => f.hasDefault || nodeDiffers(f.type))) {
        differs.add(def.fullName);
        changed = true;
      }
    }
  }
  return differs;
}

/** One `index.ts` per output folder (and each folder above it), re-exporting its files and sub-folders, sorted. */
function indexFiles(paths: readonly string[], sourceRoot: string): SourceFile[] {
  const entries = new Map<string, Set<string>>();
  const add = (dir: string, spec: string) => {
    const set = entries.get(dir) ?? new Set<string>();
    set.add(spec);
    entries.set(dir, set);
  };
  for (const path of paths) {
    let dir = dirname(path);
    add(dir, `./${path.slice(dir ? dir.length + 1 : 0).replace(/\.ts$/, ".js")}`);
    while (dir !== "") {
      const parent = dirname(dir);
      add(parent, `./${dir.slice(parent ? parent.length + 1 : 0)}/index.js`);
      dir = parent;
    }
  }
  return [...entries.keys()].sort(cmp).map((dir) => ({
    path: dir ? `${dir}/index.ts` : "index.ts",
    content: [
      `// Generated by @kronos/codegen ${CODEGEN_VERSION} from ${sourceRoot}/${dir ? `${dir}/` : ""} — do not edit.`,
      "",
      ...[...(entries.get(dir) as Set<string>)].sort(cmp).map((spec) => `export * from ${JSON.stringify(spec)};`),
      "",
    ].join("\n"),
  }));
}
