import type { StackSettings } from "../settings.js";

/** What `status` reports for one service. */
export interface ServiceStatus {
  name: string;
  /** It answers its protocol (a Kafka metadata request, the registry's readiness endpoint, an AMQP handshake). */
  ready: boolean;
  /** The stack started it (and `down` will stop it); false for a RabbitMQ the machine runs. */
  managed: boolean;
  pid?: number;
  endpoint: string;
  detail?: string;
  logFile?: string;
}

/** One service of the local stack. `up` is idempotent; `down` stops only what `up` started. */
export interface StackService {
  readonly name: "kafka" | "registry" | "rabbitmq" | "rabbitmq-tls" | "postgres" | "npm-registry";
  up(settings: StackSettings): Promise<void>;
  down(settings: StackSettings): Promise<void>;
  status(settings: StackSettings): Promise<ServiceStatus>;
  /**
   * Kills the service's process with SIGKILL (a crash: nothing is flushed or closed) and resolves once it is gone;
   * `up` starts it again. For the fault tests. Resolves with the pid killed, or undefined when none ran.
   */
  kill(settings: StackSettings): Promise<number | undefined>;
}
