import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadServiceConfig } from "./config.js";

const demo = { app: "demo", envPrefix: "DEMO", defaultPort: 4100 };
const dir = mkdtempSync(join(tmpdir(), "kronos-registry-config-"));
const passwordFile = join(dir, "password");
writeFileSync(passwordFile, "pw-from-file\n");
const caFile = join(dir, "ca.crt");
writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
const notPem = join(dir, "not-pem");
writeFileSync(notPem, "hello");

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadServiceConfig(demo, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("schema registry settings", () => {
  it("reads basic credentials, the password from a file, and the CA bundle", () => {
    const { schemaRegistry, schemaRegistryUrl } = loadServiceConfig(demo, {
      SCHEMA_REGISTRY_URL: "https://registry.example/apis/ccompat/v7",
      SCHEMA_REGISTRY_USERNAME: "svc",
      SCHEMA_REGISTRY_PASSWORD_FILE: passwordFile,
      SCHEMA_REGISTRY_CA_FILE: caFile,
    });
    expect(schemaRegistry.auth).toEqual({ kind: "basic", username: "svc", password: "pw-from-file" });
    expect(schemaRegistry.ca).toContain("BEGIN CERTIFICATE");
    expect(schemaRegistry.caFile).toBe(caFile);
    expect(schemaRegistryUrl).toBe("https://registry.example/apis/ccompat/v7");
  });

  it("reads a bearer token, and moves credentials out of the URL", () => {
    expect(loadServiceConfig(demo, { SCHEMA_REGISTRY_TOKEN: "tok" }).schemaRegistry.auth).toEqual({
      kind: "bearer",
      token: "tok",
    });
    const fromUrl = loadServiceConfig(demo, { SCHEMA_REGISTRY_URL: "https://u%40x:p%2Fw@registry.example/ccompat" });
    expect(fromUrl.schemaRegistry.auth).toEqual({ kind: "basic", username: "u@x", password: "p/w" });
    expect(fromUrl.schemaRegistryUrl).toBe("https://registry.example/ccompat");
  });

  it("names each wrong combination, never a secret", () => {
    const problems = [
      ...problemsOf({ SCHEMA_REGISTRY_USERNAME: "svc" }),
      ...problemsOf({ SCHEMA_REGISTRY_PASSWORD: "hunter2-secret" }),
      ...problemsOf({
        SCHEMA_REGISTRY_USERNAME: "svc",
        SCHEMA_REGISTRY_PASSWORD: "hunter2-secret",
        SCHEMA_REGISTRY_TOKEN: "tok-secret",
      }),
      ...problemsOf({ SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081", SCHEMA_REGISTRY_CA_FILE: caFile }),
      ...problemsOf({ SCHEMA_REGISTRY_URL: "https://h", SCHEMA_REGISTRY_CA_FILE: notPem }),
      ...problemsOf({ SCHEMA_REGISTRY_URL: "https://h", SCHEMA_REGISTRY_CA_FILE: join(dir, "missing") }),
      ...problemsOf({ SCHEMA_REGISTRY_URL: "ftp://u:hunter2-secret@h" }),
    ];
    expect(problems).toEqual([
      "SCHEMA_REGISTRY_USERNAME is set but neither SCHEMA_REGISTRY_PASSWORD nor its _FILE is",
      "SCHEMA_REGISTRY_PASSWORD is set but SCHEMA_REGISTRY_USERNAME is not",
      expect.stringMatching(
        /^SCHEMA_REGISTRY_USERNAME\/SCHEMA_REGISTRY_PASSWORD, SCHEMA_REGISTRY_TOKEN .* set only one/,
      ),
      "SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL is not https://: use the registry's https URL",
      expect.stringMatching(/^SCHEMA_REGISTRY_CA_FILE=".*not-pem" holds no PEM certificate/),
      expect.stringMatching(/^SCHEMA_REGISTRY_CA_FILE=".*missing" is not a readable file \(ENOENT\)$/),
      'SCHEMA_REGISTRY_URL="ftp://***@h" is not an http:// or https:// URL',
    ]);
    for (const problem of problems) expect(problem).not.toMatch(/secret/);
  });
});
