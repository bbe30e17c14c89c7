/** One problem found in the catalog. */
export interface CatalogIssue {
  /** File the problem is in, as `<schemas dir name>/<relative path>`, e.g. `schemas/asyncapi.yaml`. */
  file: string;
  /** Entry in that file, e.g. `components.messages.CriticalAlert` or `kronos.auth.LoginFailed.reason`. */
  entry: string;
  /** What is wrong, e.g. `schema ./gaia/CriticalAlert.avsc does not exist`. */
  message: string;
  /** Line (from 1) of the entry in the file, when the check knows it. */
  line?: number;
  /** Column (from 1) of the entry in the file, with `line`. */
  column?: number;
}

/** Formats an issue as `file: entry: message`, or `file:line:column: entry: message` when its place is known. */
export function formatIssue(issue: CatalogIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.entry}: ${issue.message}`;
}

/**
 * Thrown by `loadCatalog` when the catalog is invalid. `issues` holds every problem found (not only the first);
 * the message lists them, one per line. Code: `KRONOS_CATALOG_INVALID`.
 */
export class CatalogError extends Error {
  /** Stable code for tools and CI output. */
  readonly code = "KRONOS_CATALOG_INVALID";
  /** Retrying cannot help: the files must be fixed. */
  readonly retriable = false;
  readonly issues: CatalogIssue[];

  constructor(issues: CatalogIssue[]) {
    const count = issues.length === 1 ? "1 issue" : `${issues.length} issues`;
    super(`The event catalog is invalid (${count}):\n${issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
    this.name = "CatalogError";
    this.issues = issues;
  }
}
