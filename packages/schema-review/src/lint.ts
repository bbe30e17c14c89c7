import {
  DISABLE_FILE_ATTRIBUTE,
  type JsonObject,
  type LintFinding,
  lintSchema,
  type NamedType,
  suppression,
} from "@kronos/catalog";
import { type CatalogView, MANIFEST_FILE, messageIndex } from "./snapshot.js";
import { modeRules } from "./verdict.js";

/**
 * Lints the given .avsc files of `head` (usually the files a change touched) with the catalog's rule table
 * (`lintSchema`: docs, name cases, namespace and folder, enum defaults, optional fields, timestamps, disables), adds
 * `new-field-default` (which fields are new: `base` tells) and `manifest-entry` for every event. Disables:
 * `"kronos.lint.disable": {"<rule>": "<reason>"}` on a type or a field covers that node;
 * `"kronos.lint.disable-file"` on the top-level type covers the file. A disable without a reason, or of an unknown
 * rule, is itself a `lint-disable` error.
 */
export function lintFiles(head: CatalogView, base: CatalogView, files: readonly string[]): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const file of files) {
    const json = head.files.get(file);
    const parsed = head.parsed.get(file);
    if (json === undefined || parsed === undefined) continue;
    findings.push(...lintSchema(json, { file, positions: parsed.positions }));

    // new-field-default: does an event checked BACKWARD (or FULL) use a record of this file?
    const defined = parsed.defined.map((name) => head.types.get(name) as NamedType);
    const needsDefaults = [...head.events.values()].some(
      (event) =>
        modeRules(event.compatibility).directions.includes("BACKWARD") &&
        defined.some((def) => event.schema.types.has(def.fullName)),
    );
    if (!needsDefaults) continue;
    for (const def of defined) {
      const before = base.types.get(def.fullName);
      if (def.kind !== "record" || before === undefined || before.kind !== "record") continue;
      for (const field of def.fields) {
        const isNew = !before.fields.some((f) => f.name === field.name || field.aliases.includes(f.name));
        if (!isNew || field.hasDefault) continue;
        const at = parsed.positions.get(`${field.pointer}/name`) ?? parsed.positions.get(field.pointer);
        findings.push({
          rule: "new-field-default",
          file,
          pointer: field.pointer,
          line: at?.line ?? null,
          column: at?.column ?? null,
          entry: `${def.fullName}.${field.name}`,
          message: `new field \`${field.name}\` has no default: consumers on the new schema cannot read messages written before it (BACKWARD)`,
          suppressed: suppression("new-field-default", field.json as JsonObject, json),
        });
      }
    }
  }
  findings.push(...lintManifest(head));
  return findings;
}

/** `manifest-entry`: every event has a manifest entry; every entry's schema exists. */
function lintManifest(head: CatalogView): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const event of head.events.values()) {
    if (event.messageId !== null) continue;
    const json = head.files.get(event.file) ?? {};
    const local = json[DISABLE_FILE_ATTRIBUTE];
    const reason =
      local !== null && typeof local === "object" && !Array.isArray(local) ? local["manifest-entry"] : undefined;
    findings.push({
      rule: "manifest-entry",
      file: event.file,
      pointer: "",
      line: null,
      column: null,
      entry: event.name,
      message: `event ${event.name} has no entry under components.messages in ${MANIFEST_FILE} (add one with its payload $ref, owner and channels)`,
      suppressed: typeof reason === "string" && reason.trim() !== "" ? { scope: "file", reason } : null,
    });
  }
  const lines = head.manifestText.split("\n");
  for (const [file, message] of messageIndex(head.manifest)) {
    if (head.files.has(file)) continue;
    const line = lines.findIndex((l) => new RegExp(`^\\s+${message.id}:\\s*$`).test(l));
    findings.push({
      rule: "manifest-entry",
      file: MANIFEST_FILE,
      pointer: `/components/messages/${message.id}`,
      line: line < 0 ? null : line + 1,
      column: null,
      entry: `components.messages.${message.id}`,
      message: `components.messages.${message.id} names schema ./${file}, which does not exist`,
      suppressed: null,
    });
  }
  return findings;
}
