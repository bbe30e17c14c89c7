import {
  loadSettings,
  localTlsPaths,
  type RabbitmqApp,
  rabbitmqAppPassword,
  rabbitmqAppUser,
} from "@kronos/local-stack";
import { testEndpoints } from "./endpoints.js";

/** An app's RabbitMQ login on the local stack (made by the stack's `up`). */
export interface TestRabbitmqUser {
  readonly username: string;
  readonly password: string;
  /** The file holding {@link password}: what `RABBITMQ_PASSWORD_FILE` names. */
  readonly passwordFile: string;
}

/**
 * Where tests reach RabbitMQ over TLS: the stack's amqps front (stunnel, `rabbitmq-tls`), its CA and client
 * certificate, a CA that trusts nothing of the stack's (for "untrusted certificate" tests), the management API
 * over HTTPS, and each app's least-privilege user with its password.
 */
export function testRabbitmqTls() {
  const settings = loadSettings();
  const tls = localTlsPaths(settings);
  const user = (app: RabbitmqApp): TestRabbitmqUser => {
    const found = rabbitmqAppUser(settings, app);
    return { username: found.username, password: rabbitmqAppPassword(found), passwordFile: found.passwordFile };
  };
  return {
    url: `amqps://localhost:${settings.rabbitmqTlsPort}`,
    managementUrl: `https://localhost:${settings.rabbitmqManagementTlsPort}`,
    /** The plain management API with the administrator's login (for clean-up). */
    adminManagementUrl: testEndpoints().rabbitmqManagementUrl,
    caFile: tls.caFile,
    clientCertFile: tls.clientCertFile,
    clientKeyFile: tls.clientKeyFile,
    untrustedCaFile: tls.untrustedCaFile,
    users: { gateway: user("gateway"), relay: user("relay"), "dlq-manager": user("dlq-manager") },
  };
}
