import type { FastifyPluginAsync } from "fastify";
import { Type } from "typebox";

const WhoAmIBody = Type.Object(
  {
    id: Type.String({ description: "The JWT's sub, or the API key's principal id." }),
    kind: Type.Union([Type.Literal("jwt"), Type.Literal("api-key")]),
    identity: Type.String({
      description:
        "Who the principal is across sources: key:<id> or jwt:<iss>:<sub>; what deliveries and limits are scoped by.",
    }),
    acl: Type.Array(Type.String(), {
      description: "The principal's rights: admin, produce:<glob>, consume:<glob>, dlq:read, dlq:replay, dlq:discard.",
    }),
  },
  { additionalProperties: false },
);

/** `GET /whoami`: the calling principal (id, kind, rights), to check a key or token. Needs a principal. */
export const authRoutes: FastifyPluginAsync = async (app) => {
  app.get("/whoami", { schema: { operationId: "whoAmI", response: { 200: WhoAmIBody } } }, async (request) => {
    const principal = request.principal;
    // The auth hook answered 401 already when there is none; this keeps the type honest.
    if (principal === null) throw new Error("no principal on a protected route");
    return { id: principal.id, kind: principal.kind, identity: principal.identity, acl: [...principal.acl] };
  });
};
