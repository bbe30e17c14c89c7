import type { Violation } from "@kronos/contracts";

/** Violations as one line for a message or a report: `path: what was expected`, separated by `; `. */
export function violationList(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.path || "(payload)"}: ${v.message}`).join("; ");
}
