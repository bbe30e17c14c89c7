/**
 * @kronos/app-kit/testing: the suites every app runs (integration and disruptive), and their helpers. Needs vitest,
 * @kronos/testkit and @kronos/local-stack (dev dependencies of the apps). `@kronos/app-kit/testing/process` has the
 * helpers alone (a built server as a child process, a free port), for scripts that do not run under vitest.
 */
export { describeAppDisruptive } from "./disruptive.js";
export {
  type AppTestSpec,
  freePort,
  pollReadyz,
  type ReadyzBody,
  type ServerProcess,
  startServerProcess,
  waitForHttp,
} from "./helpers.js";
export { type AppIntegrationSpec, describeAppIntegration } from "./integration.js";
