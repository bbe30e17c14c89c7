/** What a right can allow: publishing to a destination, consuming from one, or administering queues. */
export type Action = "produce" | "consume" | "admin";

/** A parsed right: `admin`, or an action on the destinations a glob matches. */
export type Right = { readonly action: "admin" } | { readonly action: "produce" | "consume"; readonly glob: RegExp };

const GLOB_SYNTAX = /^[A-Za-z0-9._*?#/:-]+$/;

/**
 * Compiles a destination glob: `*` matches any run of characters (dots included, so `kronos.*` matches
 * `kronos.log.app`), `?` exactly one, everything else itself; the whole name must match. Returns `undefined`
 * when the glob holds characters a destination name never has.
 */
export function compileGlob(glob: string): RegExp | undefined {
  if (!GLOB_SYNTAX.test(glob)) return undefined;
  const source = [...glob]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/#-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`);
}

/**
 * Parses one right: `admin`, `produce:<glob>` or `consume:<glob>`. Returns `undefined` for anything else (an
 * unknown right grants nothing).
 */
export function parseRight(text: string): Right | undefined {
  if (text === "admin") return { action: "admin" };
  const match = /^(produce|consume):(.+)$/.exec(text);
  if (!match) return undefined;
  const glob = compileGlob(match[2] as string);
  return glob && { action: match[1] as "produce" | "consume", glob };
}

// Rights come from signed tokens and the principals file, so their number is small; the bound is a safety net.
const parsed = new Map<string, Right | undefined>();
const MAX_CACHED = 10_000;

function cachedRight(text: string): Right | undefined {
  if (parsed.has(text)) return parsed.get(text);
  if (parsed.size >= MAX_CACHED) parsed.clear();
  const right = parseRight(text);
  parsed.set(text, right);
  return right;
}

/** The right needed for `action` on `destination`, as a string (`admin`, `produce:kronos.log.app`). */
export function neededRight(action: Action, destination?: string): string {
  return action === "admin" ? "admin" : `${action}:${destination ?? ""}`;
}

/**
 * True when `acl` grants `action` (on `destination`, for produce and consume). Rights are independent: `admin`
 * does not imply produce or consume, and `produce:*` does not imply admin. Entries that are not valid rights are
 * ignored.
 */
export function isAllowed(acl: readonly string[], action: Action, destination?: string): boolean {
  for (const text of acl) {
    const right = cachedRight(text);
    if (right === undefined || right.action !== action) continue;
    if (right.action === "admin") return true;
    if (destination !== undefined && right.glob.test(destination)) return true;
  }
  return false;
}
