import { CriticalAlertEvent } from "@kronos/events-gaia";

/**
 * The events the relay bridges between Kafka and RabbitMQ, from the generated packages. First: Gaia's critical
 * alerts, produced on Kafka and delivered to RabbitMQ consumers (the manifest binds them to both brokers).
 */
export const bridgedEvents = [CriticalAlertEvent] as const;
