/**
 * @kronos/testkit: what integration tests share. The stack is brought up by the global setup that
 * `@kronos/testkit/vitest` configures; tests take unique names from {@link TestResources}.
 */
export { type AuthProxy, type AuthProxyOptions, startAuthProxy } from "./auth-proxy.js";
export { testEndpoints } from "./endpoints.js";
export {
  type FaultProxy,
  type FaultProxyOptions,
  type ProxyChunk,
  type ProxyDirection,
  startFaultProxy,
} from "./fault-proxy.js";
export { uniqueName } from "./names.js";
export { type TestRabbitmqUser, testRabbitmqTls } from "./rabbitmq-tls.js";
export { type RelayManifestOptions, writeRelayManifest } from "./relay-manifest.js";
export { TestResources } from "./resources.js";
export { type MessageData, SseClient, type SseEvent } from "./sse-client.js";
