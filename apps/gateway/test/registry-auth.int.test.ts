import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuthProxy, startAuthProxy } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { bearer, criticalAlert } from "./publish-helpers.js";

// The gateway's publish path (schema lookup, registration) against the registry behind an authenticating HTTPS
// proxy, with its password in a file as Docker and Kubernetes secrets give it.
const PASSWORD = "gw-registry-pass-Vb93";
let proxy: AuthProxy;
let passwordFile: string;

beforeAll(async () => {
  proxy = await startAuthProxy({ basic: { username: "gateway", password: PASSWORD } });
  passwordFile = join(mkdtempSync(join(tmpdir(), "gw-registry-")), "password");
  writeFileSync(passwordFile, `${PASSWORD}\n`);
});
afterAll(() => proxy?.close());

describe("the gateway with an authenticated HTTPS schema registry", () => {
  it("publishes an event (202), its schema looked up through the proxy", async () => {
    const app = await testGateway(tempPrincipalsFile(), {
      SCHEMA_REGISTRY_URL: proxy.url,
      SCHEMA_REGISTRY_CA_FILE: proxy.caFile,
      SCHEMA_REGISTRY_USERNAME: "gateway",
      SCHEMA_REGISTRY_PASSWORD_FILE: passwordFile,
    });
    try {
      const before = proxy.counts.requests;
      const response = await app.inject({
        method: "POST",
        url: "/publish",
        headers: await bearer("gaia", ["produce:kronos.gaia.*"]),
        payload: { topic: "kronos.gaia.alerts", payload: criticalAlert() },
      });
      expect(response.statusCode, response.body).toBe(202);
      expect(proxy.counts.requests).toBeGreaterThan(before);
    } finally {
      await app.close();
    }
  });

  it("a wrong registry password fails the publish without the secret, and says the settings need fixing", async () => {
    const app = await testGateway(tempPrincipalsFile(), {
      SCHEMA_REGISTRY_URL: proxy.url,
      SCHEMA_REGISTRY_CA_FILE: proxy.caFile,
      SCHEMA_REGISTRY_USERNAME: "gateway",
      SCHEMA_REGISTRY_PASSWORD: "not-the-password-Kd2",
    });
    try {
      const response = await app.inject({
        method: "POST",
        url: "/publish",
        headers: await bearer("gaia", ["produce:kronos.gaia.*"]),
        payload: { topic: "kronos.gaia.alerts", payload: criticalAlert() },
      });
      expect(response.statusCode).toBe(500);
      expect(response.json().message).toMatch(/cannot use the schema registry \(REGISTRY_UNAUTHORIZED\)/);
      expect(response.body).not.toContain("not-the-password-Kd2");
    } finally {
      await app.close();
    }
  });
});
