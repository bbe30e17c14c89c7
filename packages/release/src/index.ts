/**
 * @kronos/release: publishes the typed event packages and @kronos/contracts to an npm registry (the local
 * stack's Verdaccio by default). The CLI is `kronos-release` (`npm run release` at the root).
 */
export { changelogEntry, type EventChanges, prependChangelog } from "./changelog.js";
export { ReleaseError, type ReleaseErrorCode } from "./errors.js";
export { type NpmRegistry, npmPublish, publishedVersions, registryUrl } from "./npm-registry.js";
export { checkContents, contentProblems, type Packed, pack } from "./pack.js";
export { registerSchemas, writePins } from "./pins.js";
export { type PlannedPackage, type ReleaseOptions, type ReleaseResult, release } from "./release.js";
export { type PublishablePackage, publishablePackages } from "./workspace.js";
