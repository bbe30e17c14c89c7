import type { Env } from "@kronos/app-kit";
import { kafkaTopicNameProblem } from "@kronos/transport";

/** Default `GATEWAY_REPLY_TOPIC`: the Kafka topic the gateway reads replies to its requests from. */
export const DEFAULT_REPLY_TOPIC = "kronos.gateway.replies";

/** What the request routes need beyond the shared configuration. */
export interface RequestConfig {
  /** Kafka topic replies to `POST /request` come back on (`GATEWAY_REPLY_TOPIC`); created at start when missing. */
  readonly replyTopic: string;
}

/**
 * Reads `GATEWAY_REPLY_TOPIC` (a Kafka topic name: 1–249 of `A-Z a-z 0-9 . _ -`, not `.` or `..`; default
 * {@link DEFAULT_REPLY_TOPIC}). An invalid value is added to `problems` (the default is returned).
 */
export function readRequestConfig(env: Env, problems: string[]): RequestConfig {
  const raw = env.GATEWAY_REPLY_TOPIC?.trim();
  if (raw === undefined || raw === "") return { replyTopic: DEFAULT_REPLY_TOPIC };
  if (kafkaTopicNameProblem(raw) !== undefined) {
    problems.push(
      `GATEWAY_REPLY_TOPIC="${raw}" is not a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -, not "." or "..")`,
    );
    return { replyTopic: DEFAULT_REPLY_TOPIC };
  }
  return { replyTopic: raw };
}
