import { endpoints, loadSettings } from "@kronos/local-stack";

/**
 * Where tests find the stack: the local stack's endpoints, unless the environment points elsewhere. `kafkaSecure`
 * is the local Kafka's SASL_SSL listener: its brokers, CA file, and each app's SCRAM user and password file.
 */
export function testEndpoints() {
  const local = endpoints(loadSettings());
  return {
    kafkaBrokers: process.env.KAFKA_BROKERS ?? local.kafkaBrokers,
    kafkaSecure: local.kafkaSecure,
    registryUrl: process.env.SCHEMA_REGISTRY_URL ?? local.registryUrl,
    rabbitmqUrl: process.env.RABBITMQ_URL ?? local.rabbitmqUrl,
    rabbitmqManagementUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? local.rabbitmqManagementUrl,
  };
}
