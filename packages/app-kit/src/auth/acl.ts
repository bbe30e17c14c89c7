/**
 * The rights a principal can hold, as data: the name, whether it is scoped to destinations (`produce:<glob>`), and
 * what it allows in which app. Apps check them with `app.authorize` / `requireRight`; the principals CLI lists them.
 * A new right is one entry here.
 */
export const RIGHTS = {
  admin: { scoped: false, allows: "administration: queues (gateway), pausing and resuming routes (relay)" },
  produce: {
    scoped: true,
    allows: "publish to the destinations the glob matches (gateway); replay to them (dlq-manager)",
  },
  consume: { scoped: true, allows: "consume from the destinations the glob matches (gateway)" },
  "dlq:read": { scoped: false, allows: "browse dead letters, groups, replay jobs and the audit (dlq-manager)" },
  "dlq:replay": { scoped: false, allows: "start, pause, resume and cancel replays, repair (dlq-manager)" },
  "dlq:discard": { scoped: false, allows: "discard dead letters and purge discarded ones (dlq-manager)" },
} as const satisfies Record<string, { readonly scoped: boolean; readonly allows: string }>;

/** What a right can allow: one of {@link RIGHTS}. */
export type Action = keyof typeof RIGHTS;

/** The rights that apply to destinations matched by a glob (`produce:<glob>`, `consume:<glob>`). */
export type ScopedAction = { [A in Action]: (typeof RIGHTS)[A]["scoped"] extends true ? A : never }[Action];

/** The rights held or not as a whole (`admin`, `dlq:read`, ...). */
export type PlainAction = Exclude<Action, ScopedAction>;

/** A parsed right: a plain one, or a scoped action on the destinations a glob matches. */
export type Right = { readonly action: PlainAction } | { readonly action: ScopedAction; readonly glob: RegExp };

const SCOPED = (Object.keys(RIGHTS) as Action[]).filter((a): a is ScopedAction => RIGHTS[a].scoped);

/** True when `action` is scoped to destinations (needs a destination to be checked). */
export function isScoped(action: Action): action is ScopedAction {
  return RIGHTS[action].scoped;
}

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
 * Parses one right: a plain right of {@link RIGHTS} (`admin`, `dlq:read`, ...) or `<scoped>:<glob>`
 * (`produce:kronos.*`). Returns `undefined` for anything else (an unknown right grants nothing).
 */
export function parseRight(text: string): Right | undefined {
  if (Object.hasOwn(RIGHTS, text) && !isScoped(text as Action)) return { action: text as PlainAction };
  for (const action of SCOPED) {
    if (!text.startsWith(`${action}:`) || text.length === action.length + 1) continue;
    const glob = compileGlob(text.slice(action.length + 1));
    return glob && { action, glob };
  }
  return undefined;
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

/** The right needed for `action` on `destination`, as a string (`admin`, `dlq:read`, `produce:kronos.log.app`). */
export function neededRight(action: Action, destination?: string): string {
  return isScoped(action) ? `${action}:${destination ?? ""}` : action;
}

/**
 * True when `acl` grants `action` (on `destination`, for scoped rights). Rights are independent: `admin` does not
 * imply produce, consume or any `dlq:*` right, and `produce:*` does not imply admin. Entries that are not valid
 * rights are ignored.
 */
export function isAllowed(acl: readonly string[], action: Action, destination?: string): boolean {
  for (const text of acl) {
    const right = cachedRight(text);
    if (right === undefined || right.action !== action) continue;
    if (!("glob" in right)) return true;
    if (destination !== undefined && right.glob.test(destination)) return true;
  }
  return false;
}

/**
 * True when `acl` grants `action` on at least one destination (any valid `<action>:<glob>` right; for a plain
 * action, the right itself). For checks that must run before the destination is known (it is in a request body
 * not yet read): a principal without it is refused before the body is read.
 */
export function holdsAction(acl: readonly string[], action: Action): boolean {
  return acl.some((text) => cachedRight(text)?.action === action);
}
