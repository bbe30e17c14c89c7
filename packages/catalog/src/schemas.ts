import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import avro from "avsc";
import type { CatalogIssue } from "./errors.js";
import { definitionOf } from "./inline.js";
import { LINT_RULES, lintSchema } from "./lint.js";
import type { NamedType } from "./model.js";
import { parseSchemaFiles } from "./parse.js";
import type { SchemaError } from "./schema-error.js";
import type { CatalogType, JsonObject } from "./types.js";

/** Folder whose schemas are all shared types, never events. */
export const SHARED_FOLDER = "common";
/** Attribute that marks a top-level record as a shared type rather than an event (enum and fixed files always are). */
export const SHARED_ATTRIBUTE = "kronos.shared";

/** One .avsc file, parsed. */
export interface SchemaFile {
  /** Path relative to the schemas directory, with `/` separators. */
  file: string;
  /** Folder (domain), e.g. `auth`; empty for files at the root. */
  domain: string;
  schema: JsonObject;
  /** Full name of the top-level type. */
  name: string;
  kind: CatalogType["kind"];
  /** A top-level record that is not shared. */
  isEvent: boolean;
  /** Full names this file references that it does not define. */
  dependsOn: string[];
  /** False when the file has problems that stop it from being used (unparsable, avsc refuses it). */
  usable: boolean;
}

/** Result of reading the schemas: the files, every named type, and the issues found. */
export interface SchemaScanResult {
  files: SchemaFile[];
  types: Map<string, CatalogType>;
}

function listAvsc(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith(".avsc")) out.push(relative(dir, path).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** A parser problem as an issue message: the reason, then where (`/fields/0/default`, line 7, column 52). */
function where(problem: SchemaError): string {
  const at = problem.line === undefined ? "" : `, line ${problem.line}, column ${problem.column ?? 1}`;
  return `${problem.reason} (at ${problem.pointer || "/"}${at})`;
}

/**
 * Reads, checks and cross-links every .avsc file under `dir` with the one Avro parser ({@link parseSchemaFiles}) and
 * the lint table ({@link lintSchema}, the rules marked `validate`). Pushes every problem to `issues`, with file
 * names shown as `<label>/<file>`.
 */
export function readSchemas(dir: string, label: string, issues: CatalogIssue[]): SchemaScanResult {
  const show = (file: string) => `${label}/${file}`;
  const files: SchemaFile[] = [];
  const types = new Map<string, CatalogType>();
  const inputs = listAvsc(dir).map((file) => ({ path: file, content: readFileSync(join(dir, file), "utf8") }));
  const set = parseSchemaFiles(inputs);

  // Problems of one file (JSON syntax, structure, duplicate names): the file is not usable.
  const broken = new Map<string, SchemaError>();
  for (const problem of set.problems) {
    if (broken.has(problem.file)) continue;
    if (problem.code === "SCHEMA_UNKNOWN_TYPE") continue; // reported per file below, as "references X"
    broken.set(problem.file, problem);
  }
  const parsed = new Map(set.files.map((f) => [f.path, f]));

  for (const { path: file } of inputs) {
    const problem = broken.get(file);
    const parsedFile = parsed.get(file);
    if (problem?.code === "SCHEMA_INVALID_JSON") {
      issues.push({ file: show(file), entry: "(file)", message: `is not valid JSON: ${where(problem)}` });
      continue;
    }
    if (parsedFile === undefined) {
      const message = problem === undefined ? "must hold one named type (record, enum or fixed)" : where(problem);
      issues.push({ file: show(file), entry: "(file)", message: `is not a valid Avro schema: ${message}` });
      continue;
    }
    const schema = parsedFile.json as JsonObject;
    const root = set.types.get(parsedFile.root) as NamedType;
    const folders = file.split("/").slice(0, -1);
    const domain = folders.join(".");
    const name = root.fullName;
    for (const finding of lintSchema(schema, { file })) {
      if (LINT_RULES[finding.rule].validate && finding.suppressed === null) {
        issues.push({ file: show(file), entry: finding.entry, message: finding.message });
      }
    }

    const kind = root.kind;
    // Only records are events; a file holding an enum or a fixed is a shared type wherever it lives.
    const shared = folders[0] === SHARED_FOLDER || schema[SHARED_ATTRIBUTE] === true || kind !== "record";
    for (const defined of parsedFile.defined) {
      const def = set.types.get(defined) as NamedType;
      types.set(defined, {
        name: defined,
        kind: def.kind,
        file,
        schema: definitionOf(def),
        topLevel: defined === name,
        shared,
      });
    }
    files.push({
      file,
      domain,
      schema,
      name,
      kind,
      isEvent: kind === "record" && !shared,
      dependsOn: parsedFile.references,
      usable: problem === undefined,
    });
  }
  // Problems found across files (defaults, unions), after the files' own, as avsc's are.
  for (const file of files) {
    const problem = broken.get(file.file);
    if (problem !== undefined) {
      issues.push({
        file: show(file.file),
        entry: file.name,
        message: `is not a valid Avro schema: ${where(problem)}`,
      });
    }
  }
  parseWithAvsc(files, types, show, issues);
  return { files, types };
}

/**
 * Parses every file with avsc, dependencies first, into one registry (so names defined in other files resolve).
 * Marks files avsc refuses, or whose dependencies are missing or refused, as not usable.
 */
function parseWithAvsc(
  files: SchemaFile[],
  types: Map<string, CatalogType>,
  show: (file: string) => string,
  issues: CatalogIssue[],
): void {
  const byFile = new Map(files.map((f) => [f.file, f]));
  const registry: Record<string, avro.Type> = {};
  const state = new Map<string, "visiting" | "done">();

  const parse = (file: SchemaFile): boolean => {
    const seen = state.get(file.file);
    if (seen === "done") return file.usable;
    if (seen === "visiting") {
      issues.push({
        file: show(file.file),
        entry: file.name,
        message: "is part of a cycle of references between files",
      });
      file.usable = false;
      return false;
    }
    state.set(file.file, "visiting");
    let depsOk = true;
    for (const ref of file.dependsOn) {
      const owner = types.get(ref);
      if (owner === undefined) {
        issues.push({ file: show(file.file), entry: file.name, message: `references ${ref}, which no schema defines` });
        depsOk = false;
        continue;
      }
      const dep = byFile.get(owner.file);
      if (dep !== undefined && dep !== file && !parse(dep)) depsOk = false;
    }
    if (depsOk && file.usable) {
      // A copy: avsc registers names before it fails, and a failed parse must leave the shared registry clean.
      const attempt = { ...registry };
      try {
        avro.Type.forSchema(file.schema as avro.Schema, { registry: attempt });
        Object.assign(registry, attempt);
      } catch (error) {
        issues.push({
          file: show(file.file),
          entry: file.name,
          message: `is not a valid Avro schema: ${(error as Error).message}`,
        });
        file.usable = false;
      }
    } else {
      file.usable = false;
    }
    state.set(file.file, "done");
    return file.usable;
  };
  for (const file of files) parse(file);
}
