// The gateway publishes over Kafka's SASL_SSL listener with its own SCRAM user (the local stack's, whose ACLs allow
// it the contract's kronos.* topics): one event end to end, 202 only after the ack, the record on the topic.
import { testEndpoints } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { bearer, criticalAlert, plainClients } from "./publish-helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;
type Clients = Awaited<ReturnType<typeof plainClients>>;

const ALERTS = "kronos.gaia.alerts";

describe("POST /publish over Kafka SASL_SSL", () => {
  let app: App;
  let clients: Clients;
  const secure = testEndpoints().kafkaSecure;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), {
      KAFKA_BROKERS: secure.brokers,
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_MECHANISM: secure.mechanism,
      KAFKA_SASL_USERNAME: secure.users.gateway.username,
      KAFKA_SASL_PASSWORD_FILE: secure.users.gateway.passwordFile,
      KAFKA_SSL_CA_FILE: secure.caFile,
      GATEWAY_PUBLISH_TIMEOUT_MS: "10000",
    });
    await app.ready();
    clients = await plainClients();
  });
  afterAll(async () => {
    await clients?.close();
    await app?.close();
  });

  it("202 after the ack, as the gateway's own user; the record is on the topic", async () => {
    const before = await clients.endOffsets(ALERTS);
    const response = await app.inject({
      method: "POST",
      url: "/publish",
      headers: await bearer("gaia-service", ["produce:kronos.gaia.*"]),
      payload: { topic: ALERTS, payload: criticalAlert() },
    });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ topic: ALERTS, broker: "kafka" });
    expect(await clients.endOffsets(ALERTS)).toBe(before + 1);
  });
});
