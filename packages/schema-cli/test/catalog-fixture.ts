import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A field of the fixture event. */
export interface FixtureField {
  name: string;
  type: unknown;
  doc: string;
  default?: unknown;
}

/**
 * Writes a one-event catalog (`<domain>/Thing.avsc` and `asyncapi.yaml`) into a new temporary folder and returns
 * its schemas folder. `domain` should be unique per test: the subject is `kronos.<domain>.Thing`.
 */
export function writeCatalog(domain: string, fields: FixtureField[], dir = mkdtempSync(join(tmpdir(), "kronos-cli-"))) {
  mkdirSync(join(dir, domain), { recursive: true });
  writeThing(dir, domain, fields);
  writeFileSync(
    join(dir, "asyncapi.yaml"),
    `asyncapi: 3.0.0
info:
  title: Test catalog
  version: 1.0.0
channels:
  things:
    address: kronos.${domain}.things
    messages:
      Thing:
        $ref: "#/components/messages/Thing"
    bindings:
      kafka:
        partitions: 1
        replicas: 1
        topicConfiguration:
          cleanup.policy: [delete]
          retention.ms: 86400000
components:
  messages:
    Thing:
      payload:
        schemaFormat: application/vnd.apache.avro;version=1.9.0
        schema:
          $ref: ./${domain}/Thing.avsc
      x-kronos-owner: ${domain}
      x-kronos-partition-key: id
`,
  );
  return dir;
}

/** Rewrites the fixture event's schema (a new version of it). */
export function writeThing(dir: string, domain: string, fields: FixtureField[]): void {
  const schema = { type: "record", name: "Thing", namespace: `kronos.${domain}`, doc: "A test thing.", fields };
  writeFileSync(join(dir, domain, "Thing.avsc"), `${JSON.stringify(schema, null, 2)}\n`);
}
