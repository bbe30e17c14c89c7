// The HTTP ceiling of the publish benchmark: a plain Fastify 5 app, defaults, no logger, one POST route that
// parses the JSON body and sends it back with 202. Started as a child process by publish.bench.ts; prints
// `{"port": n}` once listening; stops on SIGTERM.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post("/echo", async (request, reply) => reply.code(202).send(request.body));
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
console.log(JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 }));
process.on("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
