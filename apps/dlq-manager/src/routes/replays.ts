import { requireRight, typeBoxValidatorCompiler } from "@kronos/app-kit";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { dlqError, parseId } from "../errors.js";
import {
  createJob,
  getJob,
  listJobs,
  MAX_SELECTION,
  type ReplayRequest,
  type ReplayTarget,
  targetName,
  transitionJob,
} from "../replay/jobs.js";
import { DeadLetterFilter, type Filter } from "../store/filter.js";
import { actorOf } from "./dead-letters.js";

const Target = Type.Union([
  Type.Object(
    { broker: Type.Literal("kafka"), topic: Type.String({ pattern: "^[a-zA-Z0-9._-]{1,249}$" }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      broker: Type.Literal("rabbitmq"),
      exchange: Type.String({ maxLength: 255 }),
      routingKey: Type.String({ maxLength: 255 }),
    },
    { additionalProperties: false },
  ),
]);

const CreateBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { minItems: 1, maxItems: MAX_SELECTION })),
    filter: Type.Optional(DeadLetterFilter),
    group: Type.Optional(
      Type.Object(
        {
          source: Type.String({ minLength: 1 }),
          errorFingerprint: Type.String({ pattern: "^[0-9a-f]{16}$" }),
          eventType: Type.Optional(Type.String({ minLength: 1 })),
          reason: DeadLetterFilter.properties.reason,
        },
        { additionalProperties: false, description: "A row of GET /dead-letters/groups: replay every one like it." },
      ),
    ),
    target: Type.Optional(Target),
    ratePerSecond: Type.Optional(Type.Number()),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) });
const ActionParams = Type.Object({
  id: Type.String({ maxLength: 40 }),
  action: Type.Union([Type.Literal("pause"), Type.Literal("resume"), Type.Literal("cancel")]),
});

/** Options of {@link replayRoutes}. */
export interface ReplayRoutesOptions {
  /** Highest `ratePerSecond` (`DLQ_REPLAY_MAX_RATE`). */
  readonly maxRate: number;
}

/**
 * Replay as a job: `POST /replays` (`ids`, `filter` or `group`: a row of `GET /dead-letters/groups`, optional `target`, `ratePerSecond` default 10, `dryRun`) →
 * 201 `{ id }`; `GET /replays`, `GET /replays/:id` with progress; `POST /replays/:id/pause|resume|cancel`.
 * Rights: `dlq:read` to look, `dlq:replay` to start or steer a job, and a job also needs `produce` on where it
 * sends: its `target`, else each original destination of the selection (a 403 naming the first one refused;
 * nothing is stored). The audit names the principal.
 */
export const replayRoutes: FastifyPluginAsync<ReplayRoutesOptions> = async (app, options) => {
  app.setValidatorCompiler(typeBoxValidatorCompiler);
  const read = requireRight("dlq:read");
  const replay = requireRight("dlq:replay");
  const mayProduceTo = (request: FastifyRequest) => (target: ReplayTarget) => {
    app.authorize(request, "produce", targetName(target));
  };

  app.post("/replays", { preHandler: replay, schema: { body: CreateBody } }, async (request, reply) => {
    const body = request.body as {
      ids?: string[];
      filter?: Record<string, string>;
      group?: { source: string; errorFingerprint: string; eventType?: string; reason?: string };
      target?: ReplayRequest["target"];
      ratePerSecond?: number;
      dryRun?: boolean;
    };
    const rate = body.ratePerSecond ?? 10;
    if (!Number.isInteger(rate) || rate < 1 || rate > options.maxRate) {
      throw dlqError("INVALID_RATE", `ratePerSecond must be an integer from 1 to ${options.maxRate}, got ${rate}`);
    }
    const ids = body.ids?.map((id) => parseId(id));
    if (body.group !== undefined && body.filter !== undefined) {
      throw dlqError("EMPTY_SELECTION", "give one of ids, filter or group");
    }
    let filter: Filter | undefined = body.filter;
    if (body.group !== undefined) {
      const { errorFingerprint, ...group } = body.group;
      filter = { ...group, fingerprint: errorFingerprint };
    }
    if (body.target !== undefined) mayProduceTo(request)(body.target);
    const id = await createJob(
      app.db,
      {
        ids,
        filter,
        target: body.target,
        ratePerSecond: rate,
        dryRun: body.dryRun ?? false,
        checkOriginal: mayProduceTo(request),
      },
      actorOf(request),
    );
    void app.replays.wake();
    reply.code(201);
    return { id };
  });

  app.get("/replays", { preHandler: read }, async () => ({ jobs: await listJobs(app.db) }));

  app.get("/replays/:id", { preHandler: read, schema: { params: IdParams } }, async (request) =>
    getJob(app.db, parseId((request.params as { id: string }).id)),
  );

  app.post("/replays/:id/:action", { preHandler: replay, schema: { params: ActionParams } }, async (request) => {
    const { id, action } = request.params as { id: string; action: "pause" | "resume" | "cancel" };
    const state = await transitionJob(app.db, parseId(id), action, actorOf(request));
    if (state === "running") void app.replays.wake();
    return { id, state };
  });
};
