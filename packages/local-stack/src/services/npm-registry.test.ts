import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadSettings } from "../settings.js";
import { renderVerdaccioConfig } from "./npm-registry.js";

describe("the npm registry's configuration", () => {
  const settings = loadSettings({ KRONOS_STATE_DIR: "/tmp/kronos state" });
  const config = parse(renderVerdaccioConfig(settings)) as {
    storage: string;
    packages: Record<string, { proxy?: string; publish?: string }>;
    uplinks: Record<string, { url: string }>;
  };

  it("stores packages under the state directory", () => {
    expect(config.storage).toBe("/tmp/kronos state/npm-registry/storage");
  });

  it("never proxies @kronos/* (a public package cannot shadow ours), and proxies the rest to the public registry", () => {
    expect(config.packages["@kronos/*"]?.proxy).toBeUndefined();
    expect(config.packages["**"]?.proxy).toBe("npmjs");
    expect(config.uplinks.npmjs?.url).toBe("https://registry.npmjs.org/");
  });
});
