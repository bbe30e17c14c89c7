/**
 * Authentication and authorization of the gateway. Routes use `request.principal`, `app.authorize(request,
 * action, destination?)` or the `requireRight(...)` preHandler; `authPlugin` sets them up.
 */
export { type Action, isAllowed, neededRight, parseRight } from "./acl.js";
export { CLOCK_TOLERANCE_SECONDS, type JwtConfig } from "./jwt.js";
export { type AuthPluginOptions, authPlugin, isPublicRoute, PUBLIC_ROUTES, requireRight } from "./plugin.js";
export { FORBIDDEN, type Principal, type PrincipalKind, UNAUTHENTICATED } from "./principal.js";
export { addPrincipal, listPrincipals, PrincipalsStore, revokePrincipal } from "./principals.js";
export { authRoutes } from "./routes.js";
