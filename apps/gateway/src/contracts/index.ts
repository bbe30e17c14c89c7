/**
 * The contract manifest as the gateway uses it: the `contracts` plugin ({@link contractsPlugin}), built from the
 * generated event descriptors, with destination resolution for publishing, the topology created at start and the
 * topics and queues the manifest declares.
 */
export { type Broker, type Destination, Destinations, defaultKey, type Route, type Target } from "./destinations.js";
export { eventsByName } from "./events.js";
export { type Contracts, type ContractsPluginOptions, contractsOf, contractsPlugin } from "./plugin.js";
export {
  bindingsOf,
  type ManifestBinding,
  type ManifestDestinations,
  manifestDestinations,
  topologyOf,
} from "./topology.js";
