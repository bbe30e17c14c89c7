/**
 * Authentication and authorization of the Kronos apps: API-key principals in a file (with its CLI), JWTs, and rights
 * as data (`RIGHTS`). Routes use `request.principal`, `app.authorize(request, action, destination?)` or the
 * `requireRight(...)` preHandler; `authPlugin` sets them up, `readAuthConfig` reads its settings.
 */
export {
  type Action,
  compileGlob,
  holdsAction,
  isAllowed,
  isScoped,
  neededRight,
  type PlainAction,
  parseRight,
  RIGHTS,
  type Right,
  type ScopedAction,
} from "./acl.js";
export { type AuthConfig, readAuthConfig } from "./config.js";
export { JWKS_ALGORITHMS, type JwksConfig } from "./jwks.js";
export {
  CLOCK_TOLERANCE_SECONDS,
  createJwtVerifier,
  IDENTITY_PROVIDER_UNAVAILABLE,
  type JwtAlgorithm,
  type JwtConfig,
  readJwtConfig,
} from "./jwt.js";
export {
  type AuthPluginOptions,
  authPlugin,
  credentialOf,
  isPublicRoute,
  PUBLIC_ROUTES,
  requireAnyRight,
  requireRight,
} from "./plugin.js";
export {
  apiKeyIdentity,
  FORBIDDEN,
  jwtIdentity,
  type Principal,
  type PrincipalKind,
  UNAUTHENTICATED,
} from "./principal.js";
export {
  API_KEY_PATTERN,
  addPrincipal,
  listPrincipals,
  PrincipalsError,
  PrincipalsStore,
  principalsFilePath,
  revokePrincipal,
} from "./principals.js";
export {
  type CliIo,
  createPrincipalsCli,
  type PrincipalsCli,
  type PrincipalsCliOptions,
  principalsCliUsage,
} from "./principals-cli.js";
export { authRoutes } from "./routes.js";
