import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import fp from "fastify-plugin";
import { HttpError } from "../http-error.js";
import { type Action, holdsAction, isAllowed, neededRight, type PlainAction, type ScopedAction } from "./acl.js";
import { createJwtVerifier, type JwtConfig } from "./jwt.js";
import { FORBIDDEN, type Principal, unauthenticated } from "./principal.js";
import { type KeyLookup, PrincipalsStore } from "./principals.js";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * Who is calling. Set before any other hook of a protected route runs, so it is never `null` in a protected
     * route's handler or preHandler; `null` on public routes (`/healthz`, `/readyz`, `/metrics`, docs) and 404s.
     */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /**
     * Checks that the request's principal holds a right (see `RIGHTS`) and returns the principal. A plain right
     * (`admin`, `dlq:read`, ...) as a whole; `produce` / `consume` on a destination name (a Kafka topic, a RabbitMQ
     * exchange or queue), matched against the principal's `produce:<glob>` / `consume:<glob>` rights. Throws a 403
     * `FORBIDDEN` `HttpError` naming the right needed, or a 401 `UNAUTHENTICATED` one when the request has no
     * principal.
     */
    authorize(request: FastifyRequest, action: PlainAction): Principal;
    authorize(request: FastifyRequest, action: ScopedAction, destination: string): Principal;
    /** The API-key principals file, re-read when it changes. */
    principals: PrincipalsStore;
  }
  interface FastifyContextConfig {
    /** `true`: the route needs no principal (like `/healthz`). Default: every route needs one. */
    public?: boolean;
  }
}

/** Routes that need no principal: probes, metrics and the API documentation. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  "/healthz",
  "/readyz",
  "/metrics",
  "/openapi.json",
  "/docs",
]);

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  /** How to verify JWTs; `undefined`: bearer tokens are refused. */
  readonly jwt: JwtConfig | undefined;
  /** The API-key principals file (need not exist). */
  readonly principalsFile: string;
  /** The realm named in `WWW-Authenticate` on a 401: the app, e.g. `kronos-gateway`. */
  readonly realm: string;
}

/** `Retry-After` of a 503 answered because credentials cannot be checked right now. */
const RETRY_AFTER_SECONDS = "5";

const MISSING =
  'Missing credentials: send "Authorization: Bearer <JWT>", "X-API-Key: <key>" or "Authorization: ApiKey <key>"';

/**
 * Whether a route needs no principal: `config: { public: true }`, `/healthz`, `/readyz`, `/metrics`, and the API
 * docs (`/openapi.json`, `/docs`, `/docs/...`). The OpenAPI document says the same (`security: []`).
 */
export function isPublicRoute(url: string, config: { readonly public?: boolean } | undefined): boolean {
  return config?.public === true || PUBLIC_ROUTES.has(url) || url.startsWith("/docs/");
}

function isPublic(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  if (url === undefined) return false;
  return isPublicRoute(url, request.routeOptions.config);
}

/** The credential header (`X-API-Key`, `Authorization`) sent more than once, if any. */
function repeatedCredentialHeader(rawHeaders: readonly string[]): string | undefined {
  let apiKeys = 0;
  let authorizations = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 9 && name.toLowerCase() === "x-api-key") apiKeys++;
    else if (name.length === 13 && name.toLowerCase() === "authorization") authorizations++;
  }
  if (apiKeys > 1) return "X-API-Key";
  return authorizations > 1 ? "Authorization" : undefined;
}

/**
 * Which credential a request carries: `X-API-Key: <key>`, `Authorization: ApiKey <key>` or
 * `Authorization: Bearer <JWT>` (schemes are case-insensitive). Exactly one, in one header sent once; throws 401
 * otherwise ("Send one X-API-Key header, not several").
 */
export function credentialOf(request: FastifyRequest): { kind: "jwt" | "api-key"; value: string } {
  const apiKeyHeader = request.headers["x-api-key"];
  const authorization = request.headers.authorization;
  // Node joins repeated X-API-Key headers with ", " and keeps only the first Authorization: count the raw ones.
  const repeated = repeatedCredentialHeader(request.raw.rawHeaders);
  if (repeated !== undefined) throw unauthenticated(`Send one ${repeated} header, not several`);
  if (Array.isArray(apiKeyHeader)) throw unauthenticated("Send one X-API-Key header, not several");
  if (apiKeyHeader !== undefined && authorization !== undefined) {
    throw unauthenticated("Send either X-API-Key or Authorization, not both");
  }
  if (apiKeyHeader !== undefined) {
    if (apiKeyHeader.trim() === "") throw unauthenticated("X-API-Key is empty");
    return { kind: "api-key", value: apiKeyHeader.trim() };
  }
  if (authorization === undefined || authorization.trim() === "") throw unauthenticated(MISSING);
  const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization.trim());
  const scheme = match?.[1]?.toLowerCase();
  if (match === null || (scheme !== "bearer" && scheme !== "apikey")) {
    const shown = authorization.trim().split(/\s/)[0]?.slice(0, 20);
    throw unauthenticated(`Unsupported Authorization scheme "${shown}": use Bearer <JWT> or ApiKey <key>`);
  }
  return { kind: scheme === "bearer" ? "jwt" : "api-key", value: match[2] as string };
}

/**
 * Authentication for every route but the public ones: an `onRequest` hook (before the body is even read) sets
 * `request.principal` from a JWT (see `createJwtVerifier`) or an API key (see `PrincipalsStore`), or answers 401
 * `UNAUTHENTICATED` saying what was wrong (missing, expired, bad signature, algorithm not accepted, unknown key,
 * revoked key...) with `WWW-Authenticate`. An unreadable principals file answers 503 `UNAVAILABLE` for API keys
 * (fails closed), and a JWKS that cannot be fetched answers 503 `IDENTITY_PROVIDER_UNAVAILABLE`, both with
 * `Retry-After: 5`. Decorates `app.authorize` and `app.principals`. Plugin name: `kronos-auth`.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, options) => {
    const verifyJwt = createJwtVerifier(options.jwt);
    const principals = new PrincipalsStore(options.principalsFile);
    const challenge = `Bearer realm="${options.realm}", ApiKey realm="${options.realm}"`;

    /** The principal of a key lookup, or the 401 saying why there is none. */
    function principalOf(found: KeyLookup): Principal {
      if (found.found === "unknown") throw unauthenticated("Unknown API key");
      if (found.found === "revoked") {
        throw unauthenticated(`API key of principal "${found.id}" was revoked at ${found.revokedAt}`);
      }
      return found.principal;
    }

    async function lookupKey(request: FastifyRequest, key: string): Promise<Principal> {
      let found: KeyLookup;
      try {
        found = await principals.lookup(key);
      } catch (error) {
        request.log.error({ err: error, file: principals.path }, "cannot read the principals file");
        throw new HttpError(503, "UNAVAILABLE", "API keys cannot be checked right now; try again later");
      }
      return principalOf(found);
    }

    /** The request's principal: at once for an API key the store knows fresh, through a promise otherwise. */
    function authenticate(request: FastifyRequest): Principal | Promise<Principal> {
      const credential = credentialOf(request);
      if (credential.kind === "jwt") return verifyJwt(credential.value);
      const found = principals.lookupFresh(credential.value);
      return found === undefined ? lookupKey(request, credential.value) : principalOf(found);
    }

    /** `error` as the hook's failure (what was thrown: an HttpError), with `WWW-Authenticate` when it is a 401. */
    function refusal(error: unknown, reply: FastifyReply): Error {
      if (error instanceof HttpError && error.statusCode === 401) {
        reply.header("www-authenticate", challenge);
      }
      // A dependency of authentication is down (the JWKS, the principals file): the client may retry.
      if (error instanceof HttpError && error.statusCode === 503) reply.header("retry-after", RETRY_AFTER_SECONDS);
      return error as Error;
    }

    app.decorateRequest("principal", null);
    app.decorate("principals", principals);
    app.decorate("authorize", authorize as FastifyInstanceAuthorize);

    // A callback hook: with an API key (nearly every request) it finishes synchronously, without the promise and
    // microtask turn of an async hook; a JWT or a file look waits for its promise.
    app.addHook("onRequest", (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
      if (request.is404 || isPublic(request)) return done();
      let outcome: Principal | Promise<Principal>;
      try {
        outcome = authenticate(request);
      } catch (error) {
        return done(refusal(error, reply));
      }
      if (!(outcome instanceof Promise)) {
        request.principal = outcome;
        return done();
      }
      outcome.then(
        (principal) => {
          request.principal = principal;
          done();
        },
        (error: unknown) => done(refusal(error, reply)),
      );
    });
  },
  { name: "kronos-auth", fastify: "5.x", dependencies: ["kronos-errors"] },
);

type FastifyInstanceAuthorize = FastifyInstance["authorize"];

function authorize(request: FastifyRequest, action: Action, destination?: string): Principal {
  const principal = request.principal;
  if (principal === null) throw unauthenticated(MISSING);
  if (!isAllowed(principal.acl, action, destination)) {
    throw new HttpError(
      403,
      FORBIDDEN,
      `Principal "${principal.id}" lacks the right "${neededRight(action, destination)}"`,
    );
  }
  return principal;
}

/**
 * A hook (`onRequest`, before the body is read, or `preHandler`) that lets the request through only when its
 * principal holds `action` on at least one destination (`produce:<any glob>`): for routes whose destination is in
 * the body, so a principal that could never be allowed is refused before the body is read. The route still checks
 * the destination itself with `app.authorize`. 403 `FORBIDDEN` naming `<action>:<destination>`, 401 without a
 * principal.
 */
export function requireAnyRight(action: ScopedAction): preHandlerAsyncHookHandler {
  return async (request) => {
    const principal = request.principal;
    if (principal === null) throw unauthenticated(MISSING);
    if (!holdsAction(principal.acl, action)) {
      throw new HttpError(403, FORBIDDEN, `Principal "${principal.id}" holds no "${action}:<destination>" right`);
    }
  };
}

/**
 * A hook (`onRequest`: before the body is read; or `preHandler`) that lets the request through only when its
 * principal holds the right: `requireRight("admin")`,
 * `requireRight("dlq:read")`, or `requireRight("consume", (request) => (request.params as { queue: string }).queue)`
 * for a destination taken from the request. Throws like `app.authorize` (403 `FORBIDDEN` naming the right, 401 without a principal).
 */
export function requireRight(action: PlainAction): preHandlerAsyncHookHandler;
export function requireRight(
  action: ScopedAction,
  destinationOf: (request: FastifyRequest) => string,
): preHandlerAsyncHookHandler;
export function requireRight(
  action: Action,
  destinationOf?: (request: FastifyRequest) => string,
): preHandlerAsyncHookHandler {
  return async (request) => {
    authorize(request, action, destinationOf?.(request));
  };
}
