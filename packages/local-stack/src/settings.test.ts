import { describe, expect, it } from "vitest";
import { endpoints, loadSettings } from "./settings.js";

describe("loadSettings", () => {
  it("defaults to the local stack's ports and the versions in infra/local/versions.json", () => {
    const settings = loadSettings({ HOME: "/home/someone" });
    expect(settings.kafkaPort).toBe(9092);
    expect(settings.registryPort).toBe(8081);
    expect(settings.versions.kafka).toMatch(/^4\.\d+\.\d+$/);
    expect(settings.versions.apicurio).toMatch(/^3\.\d+\.\d+$/);
    expect(endpoints(settings).registryUrl).toBe("http://127.0.0.1:8081/apis/ccompat/v7");
  });

  it("takes ports and folders from the environment", () => {
    const settings = loadSettings({
      KRONOS_KAFKA_PORT: "19092",
      KRONOS_STATE_DIR: "/tmp/x",
      KRONOS_CACHE_DIR: "/tmp/c",
    });
    expect(settings.kafkaPort).toBe(19092);
    expect(settings.stateDir).toBe("/tmp/x");
    expect(settings.cacheDir).toBe("/tmp/c");
  });

  it.each(["0", "65536", "abc", "80.5"])("refuses KRONOS_KAFKA_PORT=%s, naming the variable", (value) => {
    expect(() => loadSettings({ KRONOS_KAFKA_PORT: value })).toThrow(`KRONOS_KAFKA_PORT="${value}" is not a TCP port`);
  });
});
