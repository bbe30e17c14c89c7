import { describe, expect, it } from "vitest";
import { endpoints, loadSettings } from "../settings.js";
import { renderKafkaConfig } from "./kafka.js";

/** `key=value` lines of a rendered server.properties. */
const properties = (text: string) =>
  new Map(
    text
      .split("\n")
      .filter((line) => line.includes("=") && !line.startsWith("#"))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
  );

describe("Kafka's configuration", () => {
  it("one node by default: its own quorum, one replica of everything", () => {
    const config = properties(renderKafkaConfig(loadSettings({}), 0, "/data"));
    expect(config.get("node.id")).toBe("1");
    expect(config.get("controller.quorum.voters")).toBe("1@127.0.0.1:9093");
    expect(config.get("advertised.listeners")).toBe("PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9094");
    expect(config.get("offsets.topic.replication.factor")).toBe("1");
    expect(config.get("min.insync.replicas")).toBe("1");
  });

  it("a 3-node cluster: one quorum of all three, each node on its own ports, 3 replicas and 2 in sync", () => {
    const settings = loadSettings({ KRONOS_KAFKA_NODES: "3", KRONOS_KAFKA_PORT: "19092" });
    expect(endpoints(settings).kafkaBrokers).toBe("127.0.0.1:19092,127.0.0.1:19102,127.0.0.1:19112");
    const third = properties(renderKafkaConfig(settings, 2, "/data/3"));
    expect(third.get("node.id")).toBe("3");
    expect(third.get("controller.quorum.voters")).toBe("1@127.0.0.1:9093,2@127.0.0.1:9103,3@127.0.0.1:9113");
    expect(third.get("listeners")).toBe(
      "PLAINTEXT://127.0.0.1:19112,CONTROLLER://127.0.0.1:9113,SASL_SSL://127.0.0.1:19114",
    );
    expect(third.get("advertised.listeners")).toBe("PLAINTEXT://127.0.0.1:19112,SASL_SSL://127.0.0.1:19114");
    expect(third.get("default.replication.factor")).toBe("3");
    expect(third.get("offsets.topic.replication.factor")).toBe("3");
    expect(third.get("min.insync.replicas")).toBe("2");
    expect(third.get("unclean.leader.election.enable")).toBe("false");
  });

  it("a SASL_SSL listener next to the plaintext one: the stack's TLS, SCRAM, StandardAuthorizer, plaintext super user", () => {
    const settings = loadSettings({ KRONOS_STATE_DIR: "/state" });
    const config = properties(renderKafkaConfig(settings, 0, "/data"));
    expect(config.get("listeners")).toBe(
      "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094",
    );
    expect(config.get("advertised.listeners")).toBe("PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9094");
    expect(config.get("inter.broker.listener.name")).toBe("PLAINTEXT");
    expect(config.get("listener.security.protocol.map")).toContain("SASL_SSL:SASL_SSL");
    expect(config.get("sasl.enabled.mechanisms")).toBe("SCRAM-SHA-512,SCRAM-SHA-256");
    expect(config.get("listener.name.sasl_ssl.ssl.keystore.location")).toBe("/state/tls/server.pem");
    expect(config.get("listener.name.sasl_ssl.ssl.truststore.location")).toBe("/state/tls/ca.crt");
    expect(config.get("authorizer.class.name")).toBe("org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    expect(config.get("super.users")).toBe("User:ANONYMOUS;User:kronos-admin");
  });

  it("the SASL_SSL port: KRONOS_KAFKA_PORT + 2 unless KRONOS_KAFKA_SASL_PORT says, + 10 per cluster node", () => {
    expect(endpoints(loadSettings({ KRONOS_KAFKA_PORT: "19092" })).kafkaSecure.brokers).toBe("127.0.0.1:19094");
    const cluster = loadSettings({ KRONOS_KAFKA_NODES: "3", KRONOS_KAFKA_SASL_PORT: "29094" });
    expect(endpoints(cluster).kafkaSecure.brokers).toBe("127.0.0.1:29094,127.0.0.1:29104,127.0.0.1:29114");
    expect(properties(renderKafkaConfig(cluster, 1, "/d")).get("advertised.listeners")).toBe(
      "PLAINTEXT://127.0.0.1:9102,SASL_SSL://127.0.0.1:29104",
    );
    expect(() => loadSettings({ KRONOS_KAFKA_SASL_PORT: "x" })).toThrow('KRONOS_KAFKA_SASL_PORT="x" is not a TCP port');
  });

  it.each(["2", "6", "0", "x"])("refuses KRONOS_KAFKA_NODES=%s, naming the variable", (value) => {
    expect(() => loadSettings({ KRONOS_KAFKA_NODES: value })).toThrow(`KRONOS_KAFKA_NODES="${value}"`);
  });
});
