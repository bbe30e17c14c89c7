import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DiagnosticSeverity, fromFile, Parser } from "@asyncapi/parser";
import { afterAll, describe, expect, it } from "vitest";
import { CatalogError, loadCatalogSync, MANIFEST_FILE, parseManifest } from "../src/index.js";

const schemasDir = fileURLToPath(new URL("../../../schemas", import.meta.url));
const gatewaySrc = fileURLToPath(new URL("../../../apps/gateway/src", import.meta.url));
const manifestPath = join(schemasDir, MANIFEST_FILE);

describe("schemas/asyncapi.yaml is a valid AsyncAPI document", () => {
  it("@asyncapi/parser finds no error in it", async () => {
    const { document, diagnostics } = await fromFile(new Parser(), manifestPath).parse();
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join(".")}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
  });

  it("declares the content-type the gateway writes on every message", () => {
    const { manifest } = parseManifest(readFileSync(manifestPath, "utf8"));
    const contentType = manifest.defaultContentType;
    expect(contentType).toBe("application/vnd.kronos.avro");
    // The gateway sets the header from a string literal in its source; find it wherever it lives.
    const sources = readdirSync(gatewaySrc, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
      .map((file) => readFileSync(join(gatewaySrc, file), "utf8"));
    expect(sources.some((text) => text.includes(`"${String(contentType)}"`))).toBe(true);
  });
});

describe("retry, dead-letter and reply channels (x-kronos-role)", () => {
  const catalog = loadCatalogSync(schemasDir);
  const topology = catalog.topology ?? [];

  it("are channels of the manifest, listed apart in catalog.topology", () => {
    expect(topology.map((t) => [t.role, t.broker, t.address])).toEqual([
      ["retry", "kafka", "{topic}.retry.{delayMs}"],
      ["dead-letter", "kafka", "{topic}.dlq"],
      ["reply", "kafka", "kronos.gateway.replies"],
      ["retry", "rabbitmq", "{queue}.retry.{delayMs}"],
      ["dead-letter", "rabbitmq", "kronos.router.dlx"],
      ["dead-letter", "rabbitmq", "kronos.router.requests.dlq"],
      ["dead-letter", "rabbitmq", "kronos.gaia.critical.dlx"],
      ["dead-letter", "rabbitmq", "kronos.gaia.critical.notifications.dlq"],
    ]);
  });

  it("are never destinations events are published to, nor bindings of an event", () => {
    const roleChannels = new Set(topology.map((t) => t.channel));
    const addresses = new Set(topology.map((t) => t.address));
    for (const destination of catalog.destinations) {
      expect(addresses.has(destination.name)).toBe(false);
      for (const channel of destination.channels) expect(roleChannels.has(channel)).toBe(false);
    }
    for (const event of catalog.events) {
      for (const binding of event.bindings) expect(roleChannels.has(binding.channel)).toBe(false);
    }
  });

  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  /** A copy of the valid fixture with `channels` appended to its manifest's channels. */
  const withChannels = (yaml: string): string => {
    const dir = mkdtempSync(join(tmpdir(), "kronos-catalog-"));
    dirs.push(dir);
    cpSync(fileURLToPath(new URL("./fixtures/valid", import.meta.url)), dir, { recursive: true });
    const manifest = readFileSync(join(dir, MANIFEST_FILE), "utf8").replace("channels:\n", `channels:\n${yaml}`);
    writeFileSync(join(dir, MANIFEST_FILE), manifest);
    return dir;
  };

  it("need no messages and no full binding, and carry no event", () => {
    const dir = withChannels(
      '  orderRetries:\n    address: "{topic}.retry.{delayMs}"\n    x-kronos-role: retry\n    bindings:\n      kafka: {}\n',
    );
    const catalog = loadCatalogSync(dir);
    expect(catalog.topology).toEqual([
      { channel: "orderRetries", role: "retry", broker: "kafka", address: "{topic}.retry.{delayMs}", description: "" },
    ]);
    expect(catalog.destinations.map((d) => d.name)).not.toContain("{topic}.retry.{delayMs}");
  });

  it("an unknown role is an issue", () => {
    const dir = withChannels("  odd:\n    address: odd\n    x-kronos-role: archive\n    bindings:\n      kafka: {}\n");
    expect(() => loadCatalogSync(dir)).toThrow(CatalogError);
    try {
      loadCatalogSync(dir);
    } catch (error) {
      expect((error as CatalogError).issues).toContainEqual({
        file: expect.stringMatching(/asyncapi\.yaml$/),
        entry: "channels.odd",
        message: "x-kronos-role must be one of events, retry, dead-letter, reply",
      });
    }
  });
});
