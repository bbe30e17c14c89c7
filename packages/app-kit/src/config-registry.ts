import { type RegistrySettings, readRegistrySettings } from "@kronos/contracts";
import type { Env, EnvReader } from "./config.js";

/**
 * The schema registry connection of an app: `SCHEMA_REGISTRY_URL`, `SCHEMA_REGISTRY_USERNAME`,
 * `SCHEMA_REGISTRY_PASSWORD[_FILE]`, `SCHEMA_REGISTRY_TOKEN[_FILE]` and `SCHEMA_REGISTRY_CA_FILE`, read by
 * `@kronos/contracts`' `readRegistrySettings` (the registry CLIs read the same ones). Problems go to `read` (its
 * `finish()` reports them with the others); they name the variable, never a secret.
 */
export function readSchemaRegistryConfig(read: EnvReader, env: Env): RegistrySettings {
  const { settings, problems } = readRegistrySettings(env);
  for (const problem of problems) read.problem(problem);
  return settings;
}
