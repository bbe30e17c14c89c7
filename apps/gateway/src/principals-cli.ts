import { createPrincipalsCli } from "@kronos/app-kit";

/**
 * `kronos-gateway-principals` (see `bin/`): app-kit's principals CLI with the gateway's names; `--file` defaults
 * to `$GATEWAY_PRINCIPALS_FILE`, else the principals file all the apps share.
 */
export const runPrincipalsCli = createPrincipalsCli({
  program: "kronos-gateway-principals",
  invocation: "node apps/gateway/bin/kronos-gateway-principals.js",
  envPrefix: "GATEWAY",
  exampleUrl: "http://127.0.0.1:3000/whoami",
});
