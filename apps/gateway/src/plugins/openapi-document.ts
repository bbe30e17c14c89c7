import { isDeepStrictEqual } from "node:util";
import { ErrorBody } from "@kronos/app-kit";
import { GATEWAY_ERRORS, type GatewayErrorCode } from "../errors.js";
import { UnprocessableBody } from "../publish/schemas.js";

/** An OpenAPI 3 document, as @fastify/swagger builds it (only the parts touched here are typed). */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown>; headers?: Record<string, unknown>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Operation {
  operationId?: string;
  responses: Record<string, Response>;
  [key: string]: unknown;
}

interface Response {
  description: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, unknown>;
}

/** What {@link finishDocument} adds to the generated document. */
export interface FinishOptions {
  /** Per operation id, the gateway error codes it answers with: listed in its error responses' descriptions. */
  readonly errorCodes: Readonly<Record<string, readonly GatewayErrorCode[]>>;
  /** Operation ids of Server-Sent Events streams: their 200 is `text/event-stream`. */
  readonly eventStreams: readonly string[];
  /** Per operation id of a route without a response schema that answers plain text: its 200's description. */
  readonly plainText?: Readonly<Record<string, string>>;
  /** Operation ids whose 503 carries no `Retry-After` (readiness: a probe, not a request to send again). */
  readonly noRetryAfter?: readonly string[];
}

/** Shared error bodies, by component name. */
const ERROR_SCHEMAS: Readonly<Record<string, unknown>> = {
  ErrorBody: strip(ErrorBody),
  UnprocessableBody: strip(UnprocessableBody),
};

/** The JSON of a TypeBox schema as it appears in the document (no `$id`, no TypeBox symbols). */
function strip(schema: object): unknown {
  const { $id: _, ...json } = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return json;
}

const RETRY_AFTER = {
  description: "Seconds to wait before sending the same request again (retriable answers).",
  schema: { type: "integer", minimum: 1 },
};

function describe(status: string, codes: readonly GatewayErrorCode[] | undefined, retryAfter: boolean): string {
  const listed = (codes ?? []).filter((code) => String(GATEWAY_ERRORS[code].status) === status);
  const head = retryAfter ? "Retry later (`Retry-After`): `{ code, message }`" : "Error: `{ code, message }`";
  if (listed.length === 0) return head;
  return `${head}. ${listed.map((code) => `\`${code}\`: ${GATEWAY_ERRORS[code].meaning}`).join("; ")}.`;
}

/**
 * Makes the generated document say what the gateway does: error bodies as shared components (`ErrorBody`,
 * `UnprocessableBody`), error responses described (with the gateway error table's codes where `errorCodes` names
 * them) and every 503 with its `Retry-After` header (`components.headers.RetryAfter`), and the event streams'
 * 200 as `text/event-stream`. Changes `document` in place and returns it.
 */
export function finishDocument(document: OpenApiDocument, options: FinishOptions): OpenApiDocument {
  document.components ??= {};
  const components = document.components;
  components.schemas = { ...components.schemas, ...ERROR_SCHEMAS };
  components.headers = { ...components.headers, RetryAfter: RETRY_AFTER };
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      const id = operation.operationId ?? "";
      const codes = options.errorCodes[id];
      for (const [status, response] of Object.entries(operation.responses)) {
        const retryAfter = status === "503" && !(options.noRetryAfter ?? []).includes(id);
        let errorBody = false;
        for (const media of Object.values(response.content ?? {})) {
          const shared = Object.entries(ERROR_SCHEMAS).find(([, schema]) => isDeepStrictEqual(media.schema, schema));
          if (shared) media.schema = { $ref: `#/components/schemas/${shared[0]}` };
          errorBody ||= shared !== undefined;
        }
        if (response.description === "Default Response") {
          response.description = errorBody ? describe(status, codes, retryAfter) : `HTTP ${status}`;
        }
        if (retryAfter) {
          response.headers = { ...response.headers, "Retry-After": { $ref: "#/components/headers/RetryAfter" } };
        }
      }
      const text = options.plainText?.[id];
      if (text !== undefined) {
        operation.responses["200"] = { description: text, content: { "text/plain": { schema: { type: "string" } } } };
      }
      const stream = operation.responses["200"];
      if (stream && options.eventStreams.includes(id)) {
        const schema = Object.values(stream.content ?? {})[0]?.schema;
        stream.content = { "text/event-stream": { schema: schema ?? { type: "string" } } };
      }
    }
  }
  return document;
}
