import type { Admin } from "kafkajs";
import { TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import { withTimeout } from "../timeout.js";
import { createKafkaClient, NO_RETRIES, rememberKafkaSettings } from "./client.js";
import { kafkaFailure } from "./errors.js";
import type { KafkaSaslOptions, KafkaTlsOptions } from "./security.js";

/**
 * Options of {@link createKafkaConnection}: the settings of every Kafka client made on this connection (its health
 * checks and administration, and the publishers, subscriptions, requesters and responders given it).
 */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers, `host:port` each. */
  readonly brokers: readonly string[];
  /** The client id Kafka sees (use the app's name). */
  readonly clientId: string;
  /** Where the client's own log lines go (WARN and above). Default: nowhere. */
  readonly logger?: TransportLogger;
  /** TCP connect timeout per broker, in ms, for every client of this connection. Default: 1000. */
  readonly connectionTimeoutMs?: number;
  /**
   * Timeout of one Kafka request, in ms, for every client of this connection. Default: 5000 for the health checks
   * and administration, 10 000 for publishers, subscriptions, requesters and responders.
   */
  readonly requestTimeoutMs?: number;
  /** TLS to the brokers (`SSL`, `SASL_SSL`), for every client of this connection. Default: plaintext. */
  readonly tls?: KafkaTlsOptions | undefined;
  /** SASL authentication, for every client of this connection. Default: none. */
  readonly sasl?: KafkaSaslOptions | undefined;
}

/** What a successful {@link KafkaConnection.checkHealth} learnt about the cluster. */
export interface KafkaClusterInfo {
  readonly clusterId: string;
  /** Number of brokers in the metadata answer. */
  readonly brokers: number;
  /** Node id of the controller, or null when the cluster reports none. */
  readonly controller: number | null;
}

/**
 * A connection to one Kafka cluster, with the client library kept behind it: apps never import kafkajs, so a faster
 * client can replace it without touching them. Later issues add producers and consumers here.
 */
export interface KafkaConnection {
  /** The bootstrap brokers this connection uses. */
  readonly brokers: readonly string[];
  /**
   * Sends a metadata request (through an admin client it keeps connected between calls) and resolves with what
   * the cluster answered. Rejects with a {@link TransportError}: `KAFKA_UNAVAILABLE` when Kafka cannot be reached
   * or answers with an error, `TIMEOUT` after `timeoutMs` (default 2000), `CLOSED` after {@link close}. After a
   * failure the admin client is dropped, so the next call connects afresh (kafkajs' own reconnects are not
   * trusted: tulios/kafkajs#919, #979).
   */
  checkHealth(timeoutMs?: number): Promise<KafkaClusterInfo>;
  /** Disconnects every client it opened. Idempotent; never rejects. */
  close(): Promise<void>;
}

/**
 * Internal to @kronos/transport (not exported from the package): the admin client a connection keeps for topic
 * administration (src/admin), separate from the health-check client so a failed check does not drop it. kafkajs
 * stays behind the package's interface: apps call the functions of src/admin, never this.
 */
export interface KafkaAdminAccess {
  /** The connected admin client (connects on first use); rejects when Kafka cannot be reached. */
  admin(): Promise<Admin>;
  /** Disconnects and forgets the admin client, so the next {@link admin} connects afresh (after a failure). */
  reset(): Promise<void>;
  /**
   * Runs `operation` on an admin client of its own, connected for it and disconnected after: for operations that
   * ask about every topic. kafkajs keeps every topic an admin client ever asked about in its metadata requests, so
   * one deleted meanwhile makes that client's later requests fail (UNKNOWN_TOPIC_OR_PARTITION, or a TypeError
   * reading its partitions); a throwaway client keeps the shared one out of it.
   */
  throwaway<T>(operation: (admin: Admin) => Promise<T>): Promise<T>;
}

const adminAccess = new WeakMap<KafkaConnection, KafkaAdminAccess>();

/**
 * The {@link KafkaAdminAccess} of a connection made by {@link createKafkaConnection}. Throws a TypeError for any
 * other object.
 */
export function kafkaAdminAccess(connection: KafkaConnection): KafkaAdminAccess {
  const access = adminAccess.get(connection);
  if (!access) throw new TypeError("not a KafkaConnection made by createKafkaConnection");
  return access;
}

/**
 * Creates a {@link KafkaConnection}. Connects lazily: nothing is opened until the first call that needs Kafka,
 * so an app starts (and can report itself unready) while Kafka is down. Never throws.
 */
export function createKafkaConnection(options: KafkaConnectionOptions): KafkaConnection {
  const brokers = [...options.brokers];
  const kafka = createKafkaClient({
    ...options,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    // This client serves health checks (and administration, whose admin client sets its own retries): no retries
    // inside kafkajs (its cluster-level retry also governs connecting), so a check answers now and the next check
    // is the retry.
    retry: NO_RETRIES,
  });
  let admin: { client: Admin; connected: Promise<Admin> } | undefined;
  let closed = false;

  const connectedAdmin = (): Promise<Admin> => {
    if (!admin) {
      const client = kafka.admin();
      const connected = client.connect().then(() => client);
      admin = { client, connected };
    }
    return admin.connected;
  };

  const dropAdmin = async (): Promise<void> => {
    const current = admin;
    admin = undefined;
    if (current) await current.client.disconnect().catch(() => {});
  };

  const describe = async (): Promise<KafkaClusterInfo> => {
    const client = await connectedAdmin();
    const cluster = await client.describeCluster();
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, controller: cluster.controller };
  };

  // The administration client retries its requests (a topic's leader takes a moment after creation), unlike the
  // health client; connecting still fails at once when Kafka is down.
  let opsAdmin: Promise<Admin> | undefined;
  const adminRetry = { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 };
  const access: KafkaAdminAccess = {
    async throwaway(operation) {
      if (closed) throw new TransportError("CLOSED", "the Kafka connection is closed");
      const client = kafka.admin({ retry: adminRetry });
      try {
        await client.connect();
        return await operation(client);
      } finally {
        await client.disconnect().catch(() => {});
      }
    },
    admin() {
      if (closed) return Promise.reject(new TransportError("CLOSED", "the Kafka connection is closed"));
      if (!opsAdmin) {
        const client = kafka.admin({ retry: adminRetry });
        const connected = client.connect().then(() => client);
        opsAdmin = connected;
        connected.catch(() => {
          if (opsAdmin === connected) opsAdmin = undefined;
          void client.disconnect().catch(() => {});
        });
      }
      return opsAdmin;
    },
    async reset() {
      const current = opsAdmin;
      opsAdmin = undefined;
      if (current) await current.then((client) => client.disconnect()).catch(() => {});
    },
  };

  const connection: KafkaConnection = {
    brokers,
    async checkHealth(timeoutMs = 2000) {
      if (closed) throw new TransportError("CLOSED", "the Kafka connection is closed");
      const what = `Kafka metadata request to ${brokers.join(",")}`;
      try {
        return await withTimeout(describe(), timeoutMs, what);
      } catch (error) {
        await dropAdmin();
        if (error instanceof TransportError) throw error;
        throw kafkaFailure(error, "admin", what, options.sasl);
      }
    },
    async close() {
      closed = true;
      await Promise.all([dropAdmin(), access.reset()]);
    },
  };
  adminAccess.set(connection, access);
  saslOptions.set(connection, options.sasl);
  rememberKafkaSettings(connection, options);
  return connection;
}

/**
 * Runs `operation` with the connection's admin client (`throwaway`: one of its own, see
 * {@link KafkaAdminAccess.throwaway}), bounded by `timeoutMs` (`TIMEOUT` when it runs out).
 * TransportErrors pass through; anything else becomes `KAFKA_UNAVAILABLE`. After a failure or a hang the admin
 * client is dropped, so the next call connects afresh (kafkajs' reconnects are not trusted: tulios/kafkajs#919,
 * #979).
 */
export async function withKafkaAdmin<T>(
  connection: KafkaConnection,
  what: string,
  timeoutMs: number,
  operation: (admin: Admin) => Promise<T>,
  options: { readonly throwaway?: boolean } = {},
): Promise<T> {
  const access = kafkaAdminAccess(connection);
  try {
    return await withTimeout(
      options.throwaway === true ? access.throwaway(operation) : access.admin().then((admin) => operation(admin)),
      timeoutMs,
      what,
    );
  } catch (error) {
    if (error instanceof TransportError && error.code !== "TIMEOUT" && error.code !== "KAFKA_UNAVAILABLE") throw error;
    if (options.throwaway !== true) await access.reset();
    if (error instanceof TransportError) throw error;
    throw kafkaFailure(error, "admin", what, kafkaSaslOf(connection));
  }
}

const saslOptions = new WeakMap<KafkaConnection, KafkaSaslOptions | undefined>();

/** The SASL settings `connection` was made with (its user names the account in error messages). */
function kafkaSaslOf(connection: KafkaConnection): KafkaSaslOptions | undefined {
  return saslOptions.get(connection);
}
