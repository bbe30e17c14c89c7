import { HttpError, requireRight } from "@kronos/app-kit";
import type { FastifyPluginAsync } from "fastify";
import { type Static, Type } from "typebox";
import type { Route } from "../relay/route.js";

const Endpoint = Type.Object(
  {
    broker: Type.Union([Type.Literal("kafka"), Type.Literal("rabbitmq")]),
    topic: Type.Optional(Type.String()),
    consumerGroup: Type.Optional(Type.String()),
    queue: Type.Optional(Type.String()),
    exchange: Type.Optional(Type.String()),
    routingKey: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
);

/** One route as `GET /routes` shows it. */
export const RouteBody = Type.Object(
  {
    id: Type.String(),
    from: Endpoint,
    to: Endpoint,
    events: Type.Array(Type.String()),
    state: Type.Union([Type.Literal("running"), Type.Literal("paused"), Type.Literal("degraded")]),
    reason: Type.Optional(Type.String()),
    counters: Type.Object({
      relayed: Type.Number(),
      deduped: Type.Number(),
      looped: Type.Number(),
      deadLettered: Type.Number(),
    }),
    lag: Type.Union([Type.Number(), Type.Null()]),
  },
  { additionalProperties: false },
);
type RouteBody = Static<typeof RouteBody>;

const Params = Type.Object({ id: Type.String() });

/**
 * `GET /routes`, `GET /routes/:id`: each route, its state, counters and current lag (any principal).
 * `POST /routes/:id/pause` and `/resume`: an operator stops and restarts a route (the source keeps the messages
 * meanwhile); they need the `admin` right (403 `FORBIDDEN` without it, checked before the route is looked up).
 */
export const relayRoutes: FastifyPluginAsync = async (app) => {
  const describe = async (route: Route): Promise<RouteBody> => {
    const { from, to } = route.route;
    const reason = route.reason;
    return {
      id: route.route.id,
      from:
        from.broker === "kafka"
          ? { broker: "kafka", topic: from.topic, consumerGroup: from.consumerGroup }
          : { broker: "rabbitmq", queue: from.queue, exchange: from.exchange },
      to:
        to.broker === "kafka"
          ? { broker: "kafka", topic: to.topic }
          : { broker: "rabbitmq", exchange: to.exchange, routingKey: to.routingKey },
      events: route.route.events,
      state: route.state,
      ...(reason === undefined ? {} : { reason }),
      counters: await app.relay.metrics.counts(route.route.id),
      lag: await route.lag(),
    };
  };
  const find = (id: string): Route => {
    const route = app.relay.routes.get(id);
    if (!route) throw new HttpError(404, "ROUTE_NOT_FOUND", `There is no relay route "${id}"`);
    return route;
  };

  app.get("/routes", { schema: { response: { 200: Type.Array(RouteBody) } } }, async () =>
    Promise.all([...app.relay.routes.values()].map(describe)),
  );
  app.get("/routes/:id", { schema: { params: Params, response: { 200: RouteBody } } }, async (request) =>
    describe(find((request.params as { id: string }).id)),
  );
  const admin = requireRight("admin");
  for (const action of ["pause", "resume"] as const) {
    const schema = { params: Params, response: { 200: RouteBody } };
    app.post(`/routes/:id/${action}`, { preHandler: admin, schema }, async (request) => {
      const route = find((request.params as { id: string }).id);
      route[action]();
      return describe(route);
    });
  }
};
