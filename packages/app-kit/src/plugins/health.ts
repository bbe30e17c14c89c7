import type { FastifyPluginAsync } from "fastify";
import { Type } from "typebox";

/** `GET /healthz` body. */
export const LivenessBody = Type.Object({ status: Type.Literal("ok") }, { additionalProperties: false });

const CheckResultSchema = Type.Object(
  {
    ok: Type.Boolean(),
    error: Type.Optional(Type.String({ description: "Why the check failed." })),
    durationMs: Type.Number(),
  },
  { additionalProperties: false },
);

/** `GET /readyz` body, both for 200 and 503. */
export const ReadinessBody = Type.Object(
  {
    status: Type.Union([Type.Literal("ok"), Type.Literal("unavailable")]),
    checks: Type.Record(Type.String(), CheckResultSchema),
  },
  { additionalProperties: false },
);

/**
 * `GET /healthz` (liveness: the process serves HTTP; always 200 `{status:"ok"}`) and `GET /readyz` (readiness:
 * 200 when every check registered in `app.readiness` passes, else 503 with `status: "unavailable"` and each
 * check's result, so the failing dependency is named). Neither is logged per request below `warn`.
 */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get("/healthz", { logLevel: "warn", schema: { response: { 200: LivenessBody } } }, async () => ({
    status: "ok" as const,
  }));

  app.get(
    "/readyz",
    { logLevel: "warn", schema: { response: { 200: ReadinessBody, 503: ReadinessBody } } },
    async (request, reply) => {
      const report = await app.readiness.run();
      if (!report.ready) {
        const failed = Object.entries(report.checks).filter(([, r]) => !r.ok);
        request.log.warn({ failed: Object.fromEntries(failed) }, "not ready");
      }
      reply.code(report.ready ? 200 : 503);
      return { status: report.ready ? ("ok" as const) : ("unavailable" as const), checks: report.checks };
    },
  );
};
