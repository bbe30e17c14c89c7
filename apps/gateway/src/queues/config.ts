import type { EnvReader } from "@kronos/app-kit";

/** Default `RABBITMQ_MANAGEMENT_URL`: the local stack's management API with the guest account. */
export const DEFAULT_RABBITMQ_MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672";

/** What the queue administration routes need beyond the shared configuration. */
export interface QueuesConfig {
  /** RabbitMQ management API base URL with credentials (`RABBITMQ_MANAGEMENT_URL`), for live queue figures. */
  readonly rabbitmqManagementUrl: string;
}

/**
 * Reads `RABBITMQ_MANAGEMENT_URL` (http or https, default {@link DEFAULT_RABBITMQ_MANAGEMENT_URL}; an invalid one is
 * reported by `reader.finish()`). The contract manifest comes from the generated event descriptors (the
 * `contracts` plugin), not from a folder.
 */
export function readQueuesConfig(reader: EnvReader): QueuesConfig {
  return {
    rabbitmqManagementUrl: reader.url("RABBITMQ_MANAGEMENT_URL", DEFAULT_RABBITMQ_MANAGEMENT_URL, ["http:", "https:"]),
  };
}
