import { readdirSync, readFileSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import avro from "avsc";
import { isObject, lintSchema, namespaceOf, qualify, scanSchema } from "./avro.js";
import type { CatalogIssue } from "./errors.js";
import type { CatalogType, JsonObject } from "./types.js";

/** Folder whose schemas are all shared types, never events. */
export const SHARED_FOLDER = "common";
/** Attribute that marks a top-level record as a shared type rather than an event (enum and fixed files always are). */
export const SHARED_ATTRIBUTE = "kronos.shared";
/** Namespace prefix: `schemas/<domain>/` holds namespace `kronos.<domain>`. */
export const NAMESPACE_PREFIX = "kronos";

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

/**
 * Reads, checks and cross-links every .avsc file under `dir`. Pushes every problem to `issues`, with file names
 * shown as `<label>/<file>`.
 */
export function readSchemas(dir: string, label: string, issues: CatalogIssue[]): SchemaScanResult {
  const show = (file: string) => `${label}/${file}`;
  const files: SchemaFile[] = [];
  const types = new Map<string, CatalogType>();

  for (const file of listAvsc(dir)) {
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(join(dir, file), "utf8"));
    } catch (error) {
      issues.push({ file: show(file), entry: "(file)", message: `is not valid JSON: ${(error as Error).message}` });
      continue;
    }
    const type = isObject(schema) ? schema.type : undefined;
    if (!isObject(schema) || typeof schema.name !== "string" || typeof type !== "string") {
      issues.push({ file: show(file), entry: "(file)", message: "must hold one named type (record, enum or fixed)" });
      continue;
    }
    const folders = file.split("/").slice(0, -1);
    const domain = folders.join(".");
    const name = qualify(schema.name, typeof schema.namespace === "string" ? schema.namespace : "");
    const entry = name;
    if (folders.length === 0) {
      issues.push({ file: show(file), entry, message: "schemas must live in a domain folder: <domain>/<Name>.avsc" });
    } else {
      const expected = `${NAMESPACE_PREFIX}.${domain}`;
      if (namespaceOf(name) !== expected) {
        issues.push({
          file: show(file),
          entry,
          message: `namespace ${JSON.stringify(namespaceOf(name))} does not match its folder ${folders.join("/")}/ (expected ${expected})`,
        });
      }
    }
    const simpleName = name.slice(name.lastIndexOf(".") + 1);
    if (basename(file, ".avsc") !== simpleName) {
      issues.push({ file: show(file), entry, message: `file name must be the type's name: ${simpleName}.avsc` });
    }
    if (!["record", "error", "enum", "fixed"].includes(type)) {
      issues.push({ file: show(file), entry, message: `top-level type must be a record, enum or fixed, not ${type}` });
      continue;
    }
    for (const problem of lintSchema(schema)) issues.push({ file: show(file), ...problem });

    const kind: CatalogType["kind"] = type === "error" ? "record" : (type as CatalogType["kind"]);
    // Only records are events; a file holding an enum or a fixed is a shared type wherever it lives.
    const shared = folders[0] === SHARED_FOLDER || schema[SHARED_ATTRIBUTE] === true || kind !== "record";
    const scan = scanSchema(schema);
    let usable = true;
    const defined = new Set<string>();
    for (const def of scan.definitions) {
      const existing = types.get(def.name);
      if (existing !== undefined || defined.has(def.name)) {
        issues.push({
          file: show(file),
          entry: def.name,
          message: `type ${def.name} is already defined${existing ? ` in ${show(existing.file)}` : " in this file"}`,
        });
        usable = false;
        continue;
      }
      defined.add(def.name);
    }
    if (usable) {
      for (const def of scan.definitions) {
        types.set(def.name, {
          name: def.name,
          kind: def.kind,
          file,
          schema: def.schema,
          topLevel: def.name === name,
          shared,
        });
      }
    }
    const dependsOn = [...new Set(scan.references.filter((ref) => !defined.has(ref)))];
    files.push({ file, domain, schema, name, kind, isEvent: kind === "record" && !shared, dependsOn, usable });
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
