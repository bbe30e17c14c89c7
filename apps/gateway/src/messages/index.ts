/**
 * The message core: what `POST /publish`, `/publish/batch` and `/request` share (check, encode, send, count, map
 * the failure), and decoding for subscriptions and replies. See {@link MessageCore}.
 */
export {
  type Clock,
  clockOf,
  type DecodedReply,
  MessageCore,
  type MessageCoreOptions,
  type MessageRecorder,
  messageCoreOf,
  type SendRequest,
  type Sent,
} from "./core.js";
export { type DecodedBody, decodeBody } from "./decode.js";
export {
  decodeFailure,
  type MessageFailure,
  type MessageOutcome,
  PUBLISH_ERROR_CODES,
  REQUEST_ERROR_CODES,
  requestFailure,
  sendFailure,
} from "./failures.js";
export {
  amqpMessageOf,
  type CheckedMessage,
  type CheckResult,
  CONTENT_TYPE,
  checkMessage,
  kafkaRecordOf,
  kafkaRequestOf,
  type MessageContext,
  type MessageInput,
  type PublishAck,
  RESERVED_HEADERS,
  whereOf,
} from "./message.js";
export { MAX_LISTED_VIOLATIONS, type ValidationFailedBody, validationFailed } from "./violations.js";
