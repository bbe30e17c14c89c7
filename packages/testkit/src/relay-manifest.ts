// A scratch copy of the contract manifest with one relay route of its own, for tests and the battery that start the
// built relay (it reads its routes from a manifest; the shipped routes would relay the shared stack's topics).
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export interface RelayManifestOptions {
  /** The repository's `schemas/` directory (copied). */
  readonly schemasDir: string;
  /** Where the copy goes (`<into>/schemas`). */
  readonly into: string;
  /** The route's id, the manifest operation's name (what `RELAY_ROUTES` names). */
  readonly routeId: string;
  /** The Kafka topic the route reads (a channel of the copy, `partitions` partitions). */
  readonly topic: string;
  readonly partitions?: number;
  /** The RabbitMQ topic exchange the route writes to (a channel of the copy). */
  readonly exchange: string;
  readonly consumerGroup: string;
}

/**
 * Copies `schemas/` into `<into>/schemas` with every shipped relay route removed and one route, `routeId`, for Gaia's
 * `CriticalAlert` from `topic` to `exchange`. Resolves to the copy's directory (the relay's `RELAY_SCHEMAS_DIR`).
 */
export function writeRelayManifest(options: RelayManifestOptions): string {
  const { topic, exchange, routeId } = options;
  const dir = join(options.into, "schemas");
  cpSync(options.schemasDir, dir, { recursive: true });
  const manifest = parse(readFileSync(join(dir, "asyncapi.yaml"), "utf8")) as {
    channels: Record<string, unknown>;
    operations: Record<string, Record<string, unknown>>;
  };
  for (const operation of Object.values(manifest.operations)) delete operation["x-kronos-relay"];
  const alert = { CriticalAlert: { $ref: "#/components/messages/CriticalAlert" } };
  const source = `${routeId}Source`;
  const target = `${routeId}Target`;
  manifest.channels[source] = {
    address: topic,
    messages: alert,
    bindings: {
      kafka: {
        topic,
        partitions: options.partitions ?? 3,
        replicas: 1,
        topicConfiguration: { "cleanup.policy": ["delete"], "retention.ms": 3_600_000 },
        bindingVersion: "0.5.0",
      },
    },
  };
  manifest.channels[target] = {
    address: exchange,
    messages: alert,
    bindings: {
      amqp: {
        is: "routingKey",
        exchange: { name: exchange, type: "topic", durable: true, autoDelete: false, vhost: "/" },
      },
    },
  };
  manifest.operations[routeId] = {
    action: "send",
    channel: { $ref: `#/channels/${target}` },
    "x-kronos-relay": {
      from: { channel: { $ref: `#/channels/${source}` }, consumerGroup: options.consumerGroup },
      messages: [{ $ref: "#/components/messages/CriticalAlert" }],
    },
  };
  // YAML is a superset of JSON.
  writeFileSync(join(dir, "asyncapi.yaml"), JSON.stringify(manifest, null, 2));
  return dir;
}
