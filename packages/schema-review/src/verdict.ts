import type { Compatibility, Json } from "@kronos/catalog";
import type { AvroSchema } from "./avro.js";
import { checkResolution, type Direction, explain } from "./resolution.js";

/** One version of an event's schema, with the label reports use for it (`v3`). */
export interface SchemaVersion {
  label: string;
  /** Where it comes from: `git 1a2b3c4`, `registry version 3`, `working tree`. */
  source: string;
  json: Json;
  schema: AvroSchema;
}

/** The result of checking the candidate against one earlier version in one direction. */
export interface CompatibilityCheck {
  /** Label of the earlier version. */
  against: string;
  direction: Direction;
  compatible: boolean;
  /** One sentence per incompatibility. */
  reasons: string[];
}

/** Whether a candidate schema may follow the earlier versions under a subject's compatibility mode. */
export interface Verdict {
  mode: Compatibility;
  compatible: boolean;
  /** Every check made (none under NONE). */
  checks: CompatibilityCheck[];
  /** Every reason of every failed check. */
  reasons: string[];
}

/** The directions a mode checks, and whether it checks every earlier version (transitive) or only the latest. */
export function modeRules(mode: Compatibility): { directions: Direction[]; transitive: boolean } {
  const transitive = mode.endsWith("_TRANSITIVE");
  const base = mode.replace("_TRANSITIVE", "");
  const directions: Direction[] =
    base === "BACKWARD"
      ? ["BACKWARD"]
      : base === "FORWARD"
        ? ["FORWARD"]
        : base === "FULL"
          ? ["BACKWARD", "FORWARD"]
          : [];
  return { directions, transitive };
}

/**
 * Judges `candidate` against `earlier` (oldest first; the last is the latest) under `mode`: BACKWARD means the
 * candidate reads data written with the earlier version, FORWARD that the earlier version reads the candidate's
 * data, FULL both; the transitive forms check every earlier version, the others only the latest. No earlier
 * version: compatible.
 */
export function judge(mode: Compatibility, earlier: readonly SchemaVersion[], candidate: SchemaVersion): Verdict {
  const { directions, transitive } = modeRules(mode);
  const latest = earlier.at(-1);
  const against = transitive ? [...earlier].reverse() : latest ? [latest] : [];
  const checks: CompatibilityCheck[] = [];
  for (const version of against) {
    for (const direction of directions) {
      const problems =
        direction === "BACKWARD"
          ? checkResolution(version.schema, candidate.schema)
          : checkResolution(candidate.schema, version.schema);
      checks.push({
        against: version.label,
        direction,
        compatible: problems.length === 0,
        reasons: problems.map((p) => explain(p, direction, version.label, candidate.label)),
      });
    }
  }
  const reasons = checks.flatMap((c) => c.reasons);
  return { mode, compatible: reasons.length === 0, checks, reasons };
}
