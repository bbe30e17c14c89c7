/**
 * @kronos/schema-review: reviews a change to the Kronos event catalog — the diff in Avro terms, the compatibility
 * verdict under each subject's mode with reasons, lint, consumer impact from the workspace graph, and the semver
 * bump each generated package needs — rendered as Markdown or JSON. The `kronos-schemas review` command runs it.
 */

/** The lint rule table and findings are the catalog's (one table for validate and review). */
export {
  DISABLE_ATTRIBUTE,
  DISABLE_FILE_ATTRIBUTE,
  LINT_RULES,
  type LintFinding,
  type LintRuleId,
} from "@kronos/catalog";
export {
  type AvroField,
  type AvroSchema,
  type AvroType,
  describe,
  parseAvro,
} from "./avro.js";
export { type Bump, bumpVersion, caretLine, compareVersions, maxBump } from "./bump.js";
export { type Change, type ChangeKind, describeChange, diffSchemas, isDocOnly } from "./diff.js";
export { ReviewError, type ReviewErrorCode } from "./errors.js";
export { type Dependents, WorkspaceGraph, type WorkspacePackage } from "./impact.js";
export { type RegistrySubject, ReviewRegistry } from "./registry.js";
export { REPORT_MARKER, renderJson, renderMarkdown } from "./render.js";
export { checkResolution, type Direction, explain, type Incompatibility, promotes } from "./resolution.js";
export {
  type DescribedChange,
  type EventReview,
  type PackageImpact,
  type RegistryComparison,
  type Review,
  type ReviewOptions,
  runReview,
} from "./review.js";
export type { EventDestination } from "./snapshot.js";
export { type CompatibilityCheck, judge, modeRules, type SchemaVersion, type Verdict } from "./verdict.js";
