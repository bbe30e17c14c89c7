import type { Json, JsonObject } from "@kronos/catalog";
import { isObject, namespaceOf, ownNamespace, qualify } from "@kronos/catalog";
import { definitionsOf, shortName } from "./avro.js";
import { type CatalogView, MANIFEST_FILE, manifestMessages } from "./snapshot.js";
import { modeRules } from "./verdict.js";

/** The lint rules, by id, with what each checks. */
export const LINT_RULES = {
  "doc-required": "every record, enum, fixed and field has a non-empty `doc`",
  "record-name-case": "record, enum and fixed names are PascalCase",
  "field-name-case": "field names are camelCase",
  "namespace-folder": "the namespace is `kronos.<folder>` and the file is named after its type",
  "enum-default": "every enum has a `default` symbol that is one of its symbols",
  "optional-field": 'optional fields are `["null", T]` with `"default": null` (no other union with null)',
  "timestamp-logical-type": "fields named `timestamp` or `...At` are longs with a timestamp logical type",
  "new-field-default": "a field added to a subject checked BACKWARD or FULL has a default",
  "manifest-entry": "every event has an entry in the manifest, and every entry's schema exists",
  "lint-disable": "a lint disable names a known rule and gives a reason",
} as const;

/** A lint rule id. */
export type LintRuleId = keyof typeof LINT_RULES;

/** Attribute of a type or field that disables rules for that node: `{"<rule>": "<reason>"}`. */
export const DISABLE_ATTRIBUTE = "kronos.lint.disable";
/** Attribute of a file's top-level type that disables rules for the whole file: `{"<rule>": "<reason>"}`. */
export const DISABLE_FILE_ATTRIBUTE = "kronos.lint.disable-file";

/** One lint finding. Suppressed findings are reported but do not fail the review. */
export interface LintFinding {
  rule: LintRuleId;
  /** File relative to the schemas folder. */
  file: string;
  /** 1-based line of the entry in the file (best effort), or null. */
  line: number | null;
  /** Type or field, e.g. `kronos.gaia.CriticalAlert.severity`. */
  entry: string;
  message: string;
  /** Set when a disable with a reason covers the finding. */
  suppressed: { scope: "node" | "file"; reason: string } | null;
}

const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL = /^[a-z][A-Za-z0-9]*$/;
const NAMED = new Set(["record", "error", "enum", "fixed"]);
const TIMESTAMPS = new Set([
  "timestamp-millis",
  "timestamp-micros",
  "local-timestamp-millis",
  "local-timestamp-micros",
]);

function hasDoc(node: JsonObject): boolean {
  return typeof node.doc === "string" && node.doc.trim() !== "";
}

function disables(node: JsonObject, attribute: string): Map<string, Json> {
  const raw = node[attribute];
  return new Map(isObject(raw) ? Object.entries(raw) : []);
}

/** The line of the first `"name": "<name>"` in `text` (1-based), or null. */
function lineOf(text: string, name: string): number | null {
  const index = text.search(new RegExp(`"name"\\s*:\\s*"${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`));
  return index < 0 ? null : text.slice(0, index).split("\n").length;
}

/**
 * Lints the given .avsc files of `head` (usually the files a change touched) and the manifest entries of every
 * event. `base` tells which fields are new (for `new-field-default`). Disables: `"kronos.lint.disable":
 * {"<rule>": "<reason>"}` on a type or a field covers that node; `"kronos.lint.disable-file"` on the top-level
 * type covers the file. A disable without a reason, or of an unknown rule, is itself a `lint-disable` error.
 */
export function lintFiles(
  head: CatalogView,
  base: CatalogView,
  files: readonly string[],
  texts: ReadonlyMap<string, string>,
): LintFinding[] {
  const findings: LintFinding[] = [];
  const baseRecords = new Map<string, JsonObject>();
  for (const json of base.files.values()) for (const [name, def] of definitionsOf(json)) baseRecords.set(name, def);

  for (const file of files) {
    const json = head.files.get(file);
    if (json === undefined) continue;
    const text = texts.get(file) ?? "";
    const fileDisables = disables(json, DISABLE_FILE_ATTRIBUTE);
    const report = (rule: LintRuleId, node: JsonObject, entry: string, message: string): void => {
      const name = typeof node.name === "string" ? node.name : "";
      const local = disables(node, DISABLE_ATTRIBUTE).get(rule);
      const whole = fileDisables.get(rule);
      const suppressed =
        typeof local === "string" && local.trim() !== ""
          ? { scope: "node" as const, reason: local }
          : typeof whole === "string" && whole.trim() !== ""
            ? { scope: "file" as const, reason: whole }
            : null;
      findings.push({ rule, file, line: lineOf(text, name), entry, message, suppressed });
    };
    const checkDisables = (node: JsonObject, entry: string, attribute: string): void => {
      for (const [rule, reason] of disables(node, attribute)) {
        if (!(rule in LINT_RULES) || rule === "lint-disable") {
          report("lint-disable", node, entry, `${attribute} names unknown rule "${rule}"`);
        } else if (typeof reason !== "string" || reason.trim() === "") {
          report("lint-disable", node, entry, `${attribute} of "${rule}" needs a reason (a non-empty string)`);
        }
      }
    };
    checkDisables(json, String(json.name), DISABLE_FILE_ATTRIBUTE);

    // Which modes the events using this file's records are checked under (for new-field-default).
    const definedHere = definitionsOf(json);
    const needsDefaults = [...head.events.values()].some(
      (event) =>
        modeRules(event.compatibility).directions.includes("BACKWARD") &&
        [...definedHere.keys()].some((name) => event.schema.named.has(name)),
    );

    const folders = file.split("/").slice(0, -1);
    const topName = qualify(String(json.name), typeof json.namespace === "string" ? json.namespace : "");
    const expected = `kronos.${folders.join(".")}`;
    if (namespaceOf(topName) !== expected) {
      report(
        "namespace-folder",
        json,
        topName,
        `namespace "${namespaceOf(topName)}" does not match its folder ${folders.join("/")}/ (expected ${expected})`,
      );
    }
    if (file.split("/").at(-1) !== `${shortName(topName)}.avsc`) {
      report("namespace-folder", json, topName, `the file must be named after its type: ${shortName(topName)}.avsc`);
    }

    const visit = (node: Json, namespace: string): void => {
      if (Array.isArray(node)) {
        for (const branch of node) visit(branch, namespace);
        return;
      }
      if (!isObject(node)) return;
      const type = node.type;
      if (typeof type === "string" && NAMED.has(type) && typeof node.name === "string") {
        const own = ownNamespace(node, namespace);
        const full = qualify(node.name, own);
        checkDisables(node, full, DISABLE_ATTRIBUTE);
        if (!hasDoc(node)) report("doc-required", node, full, `${type} ${shortName(full)} has no doc`);
        if (!PASCAL.test(shortName(full))) {
          report("record-name-case", node, full, `${type} name ${shortName(full)} is not PascalCase`);
        }
        if (type === "enum") {
          const symbols = Array.isArray(node.symbols) ? node.symbols : [];
          if (node.default === undefined) {
            report(
              "enum-default",
              node,
              full,
              `enum ${shortName(full)} has no "default" symbol: add one (e.g. UNKNOWN) so that symbols can be added later`,
            );
          } else if (!symbols.includes(node.default)) {
            report(
              "enum-default",
              node,
              full,
              `enum default ${JSON.stringify(node.default)} is not one of its symbols`,
            );
          }
        }
        const before = baseRecords.get(full);
        const beforeFields = before && Array.isArray(before.fields) ? before.fields.filter(isObject) : undefined;
        for (const field of Array.isArray(node.fields) ? node.fields : []) {
          if (!isObject(field) || typeof field.name !== "string") continue;
          const entry = `${full}.${field.name}`;
          checkDisables(field, entry, DISABLE_ATTRIBUTE);
          lintField(field, (rule, message) => report(rule, field, entry, message));
          const aliases = Array.isArray(field.aliases) ? field.aliases : [];
          const isNew =
            beforeFields !== undefined &&
            !beforeFields.some((f) => f.name === field.name || aliases.includes(f.name as Json));
          if (isNew && needsDefaults && !("default" in field)) {
            report(
              "new-field-default",
              field,
              entry,
              `new field \`${field.name}\` has no default: consumers on the new schema cannot read messages written before it (BACKWARD)`,
            );
          }
          if (field.type !== undefined) visit(field.type, own);
        }
        return;
      }
      if (type === "array" && node.items !== undefined) visit(node.items, namespace);
      else if (type === "map" && node.values !== undefined) visit(node.values, namespace);
      else if (type !== undefined && typeof type !== "string") visit(type, namespace);
    };
    visit(json, "");
  }

  findings.push(...lintManifest(head));
  return findings;
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
  if (name === "timestamp" || /[a-z0-9]At$/.test(name)) {
    const inner = Array.isArray(type) && type.length === 2 && type[0] === "null" ? type[1] : type;
    if (!(isObject(inner) && inner.type === "long" && TIMESTAMPS.has(String(inner.logicalType)))) {
      report(
        "timestamp-logical-type",
        `\`${name}\` must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)`,
      );
    }
  }
}

/** `manifest-entry`: every event has a manifest entry; every entry's schema exists. */
function lintManifest(head: CatalogView): LintFinding[] {
  const findings: LintFinding[] = [];
  const messages = manifestMessages(head.manifest);
  for (const event of head.events.values()) {
    if (event.messageId !== null) continue;
    const json = head.files.get(event.file) ?? {};
    const local = disables(json, DISABLE_FILE_ATTRIBUTE).get("manifest-entry");
    findings.push({
      rule: "manifest-entry",
      file: event.file,
      line: null,
      entry: event.name,
      message: `event ${event.name} has no entry under components.messages in ${MANIFEST_FILE} (add one with its payload $ref, owner and channels)`,
      suppressed: typeof local === "string" && local.trim() !== "" ? { scope: "file", reason: local } : null,
    });
  }
  const lines = head.manifestText.split("\n");
  for (const [file, message] of messages) {
    if (head.files.has(file)) continue;
    const line = lines.findIndex((l) => new RegExp(`^\\s+${message.id}:\\s*$`).test(l));
    findings.push({
      rule: "manifest-entry",
      file: MANIFEST_FILE,
      line: line < 0 ? null : line + 1,
      entry: `components.messages.${message.id}`,
      message: `components.messages.${message.id} names schema ./${file}, which does not exist`,
      suppressed: null,
    });
  }
  return findings;
}
