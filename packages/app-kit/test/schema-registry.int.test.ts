import { testEndpoints } from "@kronos/testkit";
import { describe, expect, it } from "vitest";
import { createSchemaRegistryProbe } from "../src/schema-registry.js";
import { freePort } from "../src/testing/helpers.js";

describe("schema registry probe (real registry)", () => {
  it("passes against the running registry", async () => {
    await expect(createSchemaRegistryProbe(testEndpoints().registryUrl).checkHealth()).resolves.toBeUndefined();
  });

  it("fails naming the URL when the registry path is wrong", async () => {
    const url = `${new URL(testEndpoints().registryUrl).origin}/no-such-api`;
    await expect(createSchemaRegistryProbe(url).checkHealth()).rejects.toThrow(/\/no-such-api\/subjects answered 404/);
  });

  it("fails with the connection error on a closed port", async () => {
    const port = await freePort();
    await expect(createSchemaRegistryProbe(`http://127.0.0.1:${port}`).checkHealth()).rejects.toThrow(/ECONNREFUSED/);
  });
});
