import { type Static, Type } from "typebox";
import { PublishMessage, UnprocessableBody } from "../publish/schemas.js";
import { errorResponses } from "../routes/error-responses.js";

/** Default `timeoutMs` of a request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** Highest `timeoutMs`: an HTTP request held open longer ties up a connection and is better made asynchronous. */
export const MAX_REQUEST_TIMEOUT_MS = 60_000;

/** A request: a publish message (same fields, same validation) plus how long to wait for the reply. */
export const RequestMessage = Type.Object(
  {
    ...PublishMessage.properties,
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_REQUEST_TIMEOUT_MS,
        default: DEFAULT_REQUEST_TIMEOUT_MS,
        description:
          `How long to wait for the reply, in ms (encoding and sending included): 1 to ${MAX_REQUEST_TIMEOUT_MS} ` +
          `(capped so an HTTP request is not held open longer), default ${DEFAULT_REQUEST_TIMEOUT_MS}. ` +
          "On RabbitMQ the request also expires in its queue after this time.",
      }),
    ),
  },
  { additionalProperties: false },
);
/** {@link RequestMessage}'s type. */
export type RequestMessage = Static<typeof RequestMessage>;

/** The reply as the client gets it. */
export const ReplyBody = Type.Object(
  {
    event: Type.String({ description: "Full name of the reply's event (its `event-type`, else its writer schema)." }),
    headers: Type.Record(Type.String(), Type.String(), {
      description: "The reply's headers as text (`message-id`, `correlation-id`, `event-type`, `content-type`, ...).",
    }),
    payload: Type.Unknown({
      description:
        "The reply decoded with its registered schema, as JSON: timestamps as ISO-8601 strings, bytes as base64, " +
        "timestamp-micros as numbers (strings beyond 2^53).",
    }),
  },
  { additionalProperties: false },
);

/** The 200 body: the request's ids and its reply. */
export const RequestAnswered = Type.Object(
  {
    messageId: Type.String(),
    correlationId: Type.String({ description: "Pairs the request with its reply (the request's `correlation-id`)." }),
    reply: ReplyBody,
  },
  { additionalProperties: false },
);

/** Response schemas of `POST /request`. */
export const REQUEST_RESPONSES = {
  200: RequestAnswered,
  ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503, 504),
  422: UnprocessableBody,
};
