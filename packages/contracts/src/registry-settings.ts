import { accessSync, constants, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ContractError } from "./errors.js";
import { DEFAULT_REGISTRY_URL, type RegistryAuth, type RegistryConnectionOptions } from "./registry-http.js";

/** The environment as `process.env` gives it. */
export type SettingsEnv = Readonly<Record<string, string | undefined>>;

/** The registry connection read from the environment by {@link readRegistrySettings}. */
export interface RegistrySettings extends RegistryConnectionOptions {
  /** Base URL without credentials (`SCHEMA_REGISTRY_URL`, userinfo moved to `auth`), no trailing slash. */
  readonly url: string;
  /** `SCHEMA_REGISTRY_USERNAME` + `SCHEMA_REGISTRY_PASSWORD[_FILE]`, or `SCHEMA_REGISTRY_TOKEN[_FILE]`. */
  readonly auth: RegistryAuth | undefined;
  /** The CA bundle's text (`SCHEMA_REGISTRY_CA_FILE`'s contents). */
  readonly ca: string | undefined;
  /** `SCHEMA_REGISTRY_CA_FILE`, absolute. */
  readonly caFile: string | undefined;
}

function raw(env: SettingsEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/**
 * A secret setting: `name`'s value, or the contents of the file `<name>_FILE` names (Docker and Kubernetes secrets;
 * one trailing newline dropped). Setting both, a `_FILE` that cannot be read and an empty one are problems: the
 * sentence names the variable and never the secret. The one reader of `*_FILE` secrets (app-kit's
 * `EnvReader.secret` calls it too).
 */
export function secretSetting(env: SettingsEnv, name: string): { value?: string; problem?: string } {
  const direct = raw(env, name);
  const fileVariable = `${name}_FILE`;
  const file = raw(env, fileVariable);
  if (file === undefined) return direct === undefined ? {} : { value: direct };
  if (direct !== undefined)
    return { value: direct, problem: `${name} and ${fileVariable} are both set: set one of them` };
  let value: string;
  try {
    value = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return { problem: `${fileVariable}="${file}" cannot be read (${code})` };
  }
  if (value === "") return { problem: `${fileVariable}="${file}" is an empty file: put the secret in it` };
  return { value };
}

/**
 * Reads the registry connection: `SCHEMA_REGISTRY_URL` (http or https; default the local stack), credentials
 * (`SCHEMA_REGISTRY_USERNAME` with `SCHEMA_REGISTRY_PASSWORD` or `SCHEMA_REGISTRY_PASSWORD_FILE`; or
 * `SCHEMA_REGISTRY_TOKEN` / `SCHEMA_REGISTRY_TOKEN_FILE`; or `user:password@` in the URL) and
 * `SCHEMA_REGISTRY_CA_FILE` (a PEM CA bundle for an https registry). Returns the settings and one sentence per
 * problem, each naming the variable, never a secret.
 */
export function readRegistrySettings(env: SettingsEnv): { settings: RegistrySettings; problems: string[] } {
  const problems: string[] = [];
  const text = raw(env, "SCHEMA_REGISTRY_URL") ?? DEFAULT_REGISTRY_URL;
  let url: URL;
  try {
    url = new URL(text);
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") throw new Error("scheme");
  } catch {
    problems.push(`SCHEMA_REGISTRY_URL="${text.replace(/\/\/[^@/]*@/, "//***@")}" is not an http:// or https:// URL`);
    url = new URL(DEFAULT_REGISTRY_URL);
  }
  let auth: RegistryAuth | undefined;
  if (url.username !== "" || url.password !== "") {
    auth = { kind: "basic", username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = "";
    url.password = "";
  }
  const take = (name: string): string | undefined => {
    const { value, problem } = secretSetting(env, name);
    if (problem !== undefined) problems.push(problem);
    return value;
  };
  const username = raw(env, "SCHEMA_REGISTRY_USERNAME");
  const password = take("SCHEMA_REGISTRY_PASSWORD");
  const token = take("SCHEMA_REGISTRY_TOKEN");
  const set = [username !== undefined || password !== undefined, token !== undefined, auth !== undefined];
  if (set.filter(Boolean).length > 1) {
    problems.push(
      "SCHEMA_REGISTRY_USERNAME/SCHEMA_REGISTRY_PASSWORD, SCHEMA_REGISTRY_TOKEN and credentials in SCHEMA_REGISTRY_URL: set only one of them",
    );
  } else if (username !== undefined || password !== undefined) {
    if (username === undefined) problems.push("SCHEMA_REGISTRY_PASSWORD is set but SCHEMA_REGISTRY_USERNAME is not");
    else if (password === undefined) {
      problems.push("SCHEMA_REGISTRY_USERNAME is set but neither SCHEMA_REGISTRY_PASSWORD nor its _FILE is");
    } else auth = { kind: "basic", username, password };
  } else if (token !== undefined) {
    auth = { kind: "bearer", token };
  }

  let ca: string | undefined;
  let caFile: string | undefined;
  const caText = raw(env, "SCHEMA_REGISTRY_CA_FILE");
  if (caText !== undefined) {
    const path = isAbsolute(caText) ? caText : resolve(caText);
    try {
      accessSync(path, constants.R_OK);
      ca = readFileSync(path, "utf8");
      caFile = path;
      if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
        problems.push(`SCHEMA_REGISTRY_CA_FILE="${caText}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      problems.push(`SCHEMA_REGISTRY_CA_FILE="${caText}" is not a readable file (${code})`);
    }
    if (url.protocol !== "https:") {
      problems.push(
        "SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL is not https://: use the registry's https URL",
      );
    }
  }
  const settings: RegistrySettings = { url: url.toString().replace(/\/+$/, ""), auth, ca, caFile };
  return { settings, problems };
}

/**
 * {@link readRegistrySettings} for command-line tools: `url` (a `--registry` option) replaces `SCHEMA_REGISTRY_URL`
 * when given. Throws ContractError `INVALID_REGISTRY_SETTINGS` listing every problem.
 */
export function registrySettingsFromEnv(env: SettingsEnv = process.env, url?: string): RegistrySettings {
  const { settings, problems } = readRegistrySettings(url === undefined ? env : { ...env, SCHEMA_REGISTRY_URL: url });
  if (problems.length > 0) {
    throw new ContractError("INVALID_REGISTRY_SETTINGS", `invalid schema registry settings: ${problems.join("; ")}`);
  }
  return settings;
}
