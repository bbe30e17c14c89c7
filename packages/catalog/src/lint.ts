import { isObject, namespaceOf, ownNamespace, qualify } from "./avro.js";
import type { Position } from "./json.js";
import { NAMED_KINDS, shortName, TIMESTAMP_LOGICAL_TYPES } from "./model.js";
import type { Json, JsonObject } from "./types.js";

/** How a rule's finding counts: an `error` fails `kronos-schemas validate` (when the rule is `validate`d) and the review. */
export type LintSeverity = "error" | "warning";

/** One rule of the table: its severity, what it checks, and whether the catalog loader enforces it. */
export interface LintRule {
  severity: LintSeverity;
  /** What the rule checks, in a sentence (the README's table). */
  checks: string;
  /**
   * True when `loadCatalog` (and so `kronos-schemas validate`, codegen and the gateway) refuses a catalog with an
   * unsuppressed finding; the schema review reports every rule.
   */
  validate: boolean;
}

/**
 * The lint rules of the Kronos catalog, by id: the one table the catalog loader and the schema review use. Each
 * rule's check lives once: the schema rules in {@link lintSchema}; `new-field-default` (it needs the base of a
 * change) and `manifest-entry` (it needs the manifest) in the schema review.
 */
export const LINT_RULES = {
  "doc-required": {
    severity: "error",
    checks: "every record, enum, fixed and field has a non-empty `doc`",
    validate: true,
  },
  "record-name-case": { severity: "error", checks: "record, enum and fixed names are PascalCase", validate: false },
  "field-name-case": { severity: "error", checks: "field names are camelCase", validate: false },
  "namespace-folder": {
    severity: "error",
    checks: "the namespace is `kronos.<folder>` and the file is named after its type",
    validate: true,
  },
  "enum-default": {
    severity: "error",
    checks: "every enum has a `default` symbol that is one of its symbols",
    validate: true,
  },
  "optional-field": {
    severity: "error",
    checks: 'optional fields are `["null", T]` with `"default": null` (no other union with null)',
    validate: true,
  },
  "timestamp-logical-type": {
    severity: "error",
    checks: "fields named `timestamp` or `...At` are longs with a timestamp logical type",
    validate: true,
  },
  "new-field-default": {
    severity: "error",
    checks: "a field added to a subject checked BACKWARD or FULL (transitive or not) has a default",
    validate: false,
  },
  "manifest-entry": {
    severity: "error",
    checks: "every event has a `components.messages` entry; every entry's schema exists",
    validate: false,
  },
  "lint-disable": { severity: "error", checks: "a disable names a known rule and gives a reason", validate: false },
} as const satisfies Record<string, LintRule>;

/** Namespace prefix: `schemas/<domain>/` holds namespace `kronos.<domain>` (rule `namespace-folder`). */
export const NAMESPACE_PREFIX = "kronos";

/** A lint rule id. */
export type LintRuleId = keyof typeof LINT_RULES;

/** Attribute of a type or field that disables rules for that node: `{"<rule>": "<reason>"}`. */
export const DISABLE_ATTRIBUTE = "kronos.lint.disable";
/** Attribute of a file's top-level type that disables rules for the whole file: `{"<rule>": "<reason>"}`. */
export const DISABLE_FILE_ATTRIBUTE = "kronos.lint.disable-file";

/** One lint finding. Suppressed findings are reported but fail nothing. */
export interface LintFinding {
  rule: LintRuleId;
  /** File relative to the schemas folder (as given to {@link lintSchema}). */
  file: string;
  /** JSON pointer of the type or field in the file. */
  pointer: string;
  /** 1-based line of the type or field in the file, or null when no positions were given. */
  line: number | null;
  /** 1-based column, or null. */
  column: number | null;
  /** Type or field, e.g. `kronos.gaia.CriticalAlert.severity`. */
  entry: string;
  message: string;
  /** Set when a disable with a reason covers the finding. */
  suppressed: { scope: "node" | "file"; reason: string } | null;
}

/** Options of {@link lintSchema}. */
export interface LintOptions {
  /** The file, relative to the schemas folder (`gaia/CriticalAlert.avsc`); checked by `namespace-folder` when given. */
  file?: string;
  /** Where each JSON pointer of the file starts (from `parseSchemaFiles`), for the findings' lines. */
  positions?: ReadonlyMap<string, Position>;
}

const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL = /^[a-z][A-Za-z0-9]*$/;

function hasDoc(node: JsonObject): boolean {
  return typeof node.doc === "string" && node.doc.trim() !== "";
}

/** The rules a node's (or a file's) disable attribute names, with their reasons. */
export function disablesOf(node: JsonObject, attribute: string): Map<string, Json> {
  const raw = node[attribute];
  return new Map(isObject(raw) ? Object.entries(raw) : []);
}

/** The suppression a node's or its file's disable gives `rule`, if any (a disable needs a non-empty reason). */
export function suppression(
  rule: LintRuleId,
  node: JsonObject,
  file: JsonObject,
): { scope: "node" | "file"; reason: string } | null {
  const local = disablesOf(node, DISABLE_ATTRIBUTE).get(rule);
  const whole = disablesOf(file, DISABLE_FILE_ATTRIBUTE).get(rule);
  if (typeof local === "string" && local.trim() !== "") return { scope: "node", reason: local };
  if (typeof whole === "string" && whole.trim() !== "") return { scope: "file", reason: whole };
  return null;
}

/**
 * Checks the schema rules of {@link LINT_RULES} on one schema file's JSON: `doc-required`, `record-name-case`,
 * `field-name-case`, `enum-default`, `optional-field`, `timestamp-logical-type`, `namespace-folder` (when
 * `options.file` is given) and `lint-disable`. Returns every finding (empty when none), suppressed ones included.
 */
export function lintSchema(schema: Json, options: LintOptions = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const file = options.file ?? "";
  const top = isObject(schema) ? schema : {};
  const report = (rule: LintRuleId, node: JsonObject, pointer: string, entry: string, message: string): void => {
    // The line of the node's name: where a reader looks for the type or field.
    const at = options.positions?.get(`${pointer}/name`) ?? options.positions?.get(pointer);
    findings.push({
      rule,
      file,
      pointer,
      line: at?.line ?? null,
      column: at?.column ?? null,
      entry,
      message,
      suppressed: rule === "lint-disable" ? null : suppression(rule, node, top),
    });
  };
  const checkDisables = (node: JsonObject, pointer: string, entry: string, attribute: string): void => {
    for (const [rule, reason] of disablesOf(node, attribute)) {
      if (!(rule in LINT_RULES) || rule === "lint-disable") {
        report("lint-disable", node, pointer, entry, `${attribute} names unknown rule "${rule}"`);
      } else if (typeof reason !== "string" || reason.trim() === "") {
        report("lint-disable", node, pointer, entry, `${attribute} of "${rule}" needs a reason (a non-empty string)`);
      }
    }
  };

  if (typeof top.name === "string") {
    const topName = qualify(top.name, typeof top.namespace === "string" ? top.namespace : "");
    checkDisables(top, "", topName, DISABLE_FILE_ATTRIBUTE);
    if (options.file !== undefined) {
      const folders = file.split("/").slice(0, -1);
      const expected = `${NAMESPACE_PREFIX}.${folders.join(".")}`;
      if (folders.length === 0) {
        report("namespace-folder", top, "", topName, "schemas must live in a domain folder: <domain>/<Name>.avsc");
      } else if (namespaceOf(topName) !== expected) {
        report(
          "namespace-folder",
          top,
          "",
          topName,
          `namespace "${namespaceOf(topName)}" does not match its folder ${folders.join("/")}/ (expected ${expected})`,
        );
      }
      if (file.split("/").at(-1) !== `${shortName(topName)}.avsc`) {
        report(
          "namespace-folder",
          top,
          "",
          topName,
          `the file must be named after its type: ${shortName(topName)}.avsc`,
        );
      }
    }
  }

  const visit = (node: Json, pointer: string, namespace: string): void => {
    if (Array.isArray(node)) {
      for (const [i, branch] of node.entries()) visit(branch, `${pointer}/${i}`, namespace);
      return;
    }
    if (!isObject(node)) return;
    const type = node.type;
    if (typeof type === "string" && NAMED_KINDS.has(type) && typeof node.name === "string") {
      const own = ownNamespace(node, namespace);
      const full = qualify(node.name, own);
      const kind = type === "error" ? "record" : type;
      checkDisables(node, pointer, full, DISABLE_ATTRIBUTE);
      if (!hasDoc(node)) report("doc-required", node, pointer, full, `${kind} ${shortName(full)} has no doc`);
      if (!PASCAL.test(shortName(full))) {
        report("record-name-case", node, pointer, full, `${kind} name ${shortName(full)} is not PascalCase`);
      }
      if (type === "enum") {
        const symbols = Array.isArray(node.symbols) ? node.symbols : [];
        if (node.default === undefined) {
          report(
            "enum-default",
            node,
            pointer,
            full,
            `enum ${shortName(full)} has no "default" symbol: add one (e.g. UNKNOWN) so that symbols can be added later`,
          );
        } else if (!symbols.includes(node.default)) {
          report(
            "enum-default",
            node,
            pointer,
            full,
            `enum default ${JSON.stringify(node.default)} is not one of its symbols`,
          );
        }
      }
      for (const [index, field] of (Array.isArray(node.fields) ? node.fields : []).entries()) {
        if (!isObject(field) || typeof field.name !== "string") continue;
        const at = `${pointer}/fields/${index}`;
        const entry = `${full}.${field.name}`;
        checkDisables(field, at, entry, DISABLE_ATTRIBUTE);
        lintField(field, (rule, message) => report(rule, field, at, entry, message));
        if (field.type !== undefined) visit(field.type, `${at}/type`, own);
      }
      return;
    }
    if (type === "array" && node.items !== undefined) visit(node.items, `${pointer}/items`, namespace);
    else if (type === "map" && node.values !== undefined) visit(node.values, `${pointer}/values`, namespace);
    else if (type !== undefined && typeof type !== "string") visit(type, `${pointer}/type`, namespace);
  };
  visit(schema, "", "");
  return findings;
}

function isTimestampName(name: string): boolean {
  return name === "timestamp" || /[a-z0-9]At$/.test(name);
}

function lintField(field: JsonObject, report: (rule: LintRuleId, message: string) => void): void {
  const name = field.name as string;
  if (!hasDoc(field)) report("doc-required", `field \`${name}\` has no doc`);
  if (!CAMEL.test(name)) report("field-name-case", `field name \`${name}\` is not camelCase`);
  const type = field.type;
  if (Array.isArray(type) && type.includes("null")) {
    if (type.length !== 2 || type[0] !== "null") {
      report("optional-field", `optional field \`${name}\` must be ["null", T] (null first, one other branch)`);
    } else if (!("default" in field) || field.default !== null) {
      report("optional-field", `optional field \`${name}\` must have "default": null`);
    }
  }
  if (isTimestampName(name)) {
    const inner = Array.isArray(type) && type.length === 2 && type[0] === "null" ? type[1] : type;
    if (!(isObject(inner) && inner.type === "long" && TIMESTAMP_LOGICAL_TYPES.has(String(inner.logicalType)))) {
      report(
        "timestamp-logical-type",
        `\`${name}\` must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)`,
      );
    }
  }
}
