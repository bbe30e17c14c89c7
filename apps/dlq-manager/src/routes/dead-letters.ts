import { requireRight, typeBoxValidatorCompiler } from "@kronos/app-kit";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { decodePayload } from "../decode.js";
import { parseId } from "../errors.js";
import { repairDeadLetter } from "../repair.js";
import { DeadLetterFilter } from "../store/filter.js";
import {
  discardDeadLetter,
  getDeadLetter,
  groupDeadLetters,
  listAudit,
  listDeadLetters,
  purgeDiscarded,
} from "../store/queries.js";

const ListQuery = Type.Object(
  {
    ...DeadLetterFilter.properties,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) });
const DiscardBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
const PurgeBody = Type.Object(
  { olderThanDays: Type.Integer({ minimum: 0, maximum: 36500 }) },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  {
    deadLetterId: Type.Optional(Type.String({ maxLength: 40 })),
    jobId: Type.Optional(Type.String({ maxLength: 40 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

/** The id of the request's principal, for the audit (the routes all need one: app-kit's auth). */
export function actorOf(request: FastifyRequest): string {
  if (request.principal === null) throw new Error("no principal on a protected route");
  return request.principal.id;
}

/**
 * Browse and explain: `GET /dead-letters` (filters, cursor pagination), `GET /dead-letters/groups` ("how many like
 * it"), `GET /dead-letters/:id` (decoded by the writer schema, else hex and why), `GET /audit`, `GET /sources`
 * (custody per source): `dlq:read`. `POST /dead-letters/:id/discard`, `POST /dead-letters/purge` (discarded ones
 * older than N days): `dlq:discard`. `POST /dead-letters/:id/repair`: `dlq:replay`. The audit names the principal.
 */
export const deadLetterRoutes: FastifyPluginAsync = async (app) => {
  app.setValidatorCompiler(typeBoxValidatorCompiler);
  const read = requireRight("dlq:read");
  const discard = requireRight("dlq:discard");
  const replay = requireRight("dlq:replay");

  app.get("/dead-letters", { preHandler: read, schema: { querystring: ListQuery } }, async (request) => {
    const { limit, cursor, ...filter } = request.query as Record<string, string> & { limit?: number };
    return listDeadLetters(app.db, filter, { limit: Number(limit ?? 50), cursor });
  });

  app.get("/dead-letters/groups", { preHandler: read, schema: { querystring: DeadLetterFilter } }, async (request) => ({
    groups: await groupDeadLetters(app.db, request.query as Record<string, string>),
  }));

  app.get("/dead-letters/:id", { preHandler: read, schema: { params: IdParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const letter = await getDeadLetter(app.db, parseId(id));
    const { body, headers, repairedBody, ...rest } = letter;
    const history = await listAudit(app.db, { deadLetterId: letter.id, limit: 100 });
    return {
      ...rest,
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          { text: value.toString("utf8"), base64: value.toString("base64") },
        ]),
      ),
      payload: { bytes: body.length, ...(await decodePayload(app.serde, body)) },
      repaired:
        repairedBody === null
          ? null
          : { bytes: repairedBody.length, ...(await decodePayload(app.serde, repairedBody)) },
      history,
    };
  });

  app.post(
    "/dead-letters/:id/discard",
    { preHandler: discard, schema: { params: IdParams, body: DiscardBody } },
    async (request) => {
      const id = parseId((request.params as { id: string }).id);
      await discardDeadLetter(app.db, id, (request.body as { reason: string }).reason, actorOf(request));
      return { id, state: "discarded" };
    },
  );

  app.post(
    "/dead-letters/:id/repair",
    {
      preHandler: replay,
      schema: { params: IdParams, body: Type.Object({ payload: Type.Unknown() }, { additionalProperties: false }) },
    },
    async (request) => {
      const id = parseId((request.params as { id: string }).id);
      const { payload } = request.body as { payload: unknown };
      return { id, ...(await repairDeadLetter(app.db, app.serde, id, payload, actorOf(request))) };
    },
  );

  app.post("/dead-letters/purge", { preHandler: discard, schema: { body: PurgeBody } }, async (request) => {
    const { olderThanDays } = request.body as { olderThanDays: number };
    return { deleted: await purgeDiscarded(app.db, olderThanDays, actorOf(request)) };
  });

  app.get("/sources", { preHandler: read }, async () => ({ sources: app.custody.states() }));

  app.get("/audit", { preHandler: read, schema: { querystring: AuditQuery } }, async (request) => {
    const query = request.query as { deadLetterId?: string; jobId?: string; limit?: number };
    return {
      entries: await listAudit(app.db, {
        deadLetterId: query.deadLetterId === undefined ? undefined : parseId(query.deadLetterId, "deadLetterId"),
        jobId: query.jobId === undefined ? undefined : parseId(query.jobId, "jobId"),
        limit: Number(query.limit ?? 100),
      }),
    };
  });
};
