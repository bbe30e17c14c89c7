// Shared setup of the subscribe tests: a listening gateway (SSE needs a real socket, not inject) and its clients.

import { SseClient } from "@kronos/testkit";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { bearer } from "./publish-helpers.js";

/** A gateway listening on a free port, with a principal that may produce to and consume from everything. */
export async function listeningGateway(env: Record<string, string> = {}) {
  const app = await testGateway(tempPrincipalsFile(), {
    GATEWAY_RETRY_TIERS_MS: "300,1000",
    GATEWAY_SUBSCRIBE_HEARTBEAT_MS: "1000",
    ...env,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("the gateway is not listening on TCP");
  const base = `http://127.0.0.1:${address.port}`;
  const auth = await bearer("subscriber", ["produce:*", "consume:*", "admin"]);
  return {
    app,
    base,
    auth,
    /** Opens `GET /subscribe/<source>?<query>` as `auth` (or other headers). */
    subscribe(source: string, query: Record<string, string | number> = {}, headers: Record<string, string> = auth) {
      const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
      const suffix = search.size > 0 ? `?${search}` : "";
      return SseClient.open(`${base}/subscribe/${encodeURIComponent(source)}${suffix}`, headers);
    },
    /** `POST /publish` through the gateway; resolves to the 202 body. */
    async publish(body: Record<string, unknown>): Promise<{ messageId: string }> {
      const response = await app.inject({ method: "POST", url: "/publish", headers: auth, payload: body });
      if (response.statusCode !== 202) throw new Error(`publish: ${response.statusCode} ${response.body}`);
      return response.json();
    },
    /** `POST /<action>/<handle>` (ack, retry, reject) with an optional JSON body. */
    settle(action: "ack" | "retry" | "reject", handle: string, body?: Record<string, unknown>) {
      return app.inject({
        method: "POST",
        url: `/${action}/${encodeURIComponent(handle)}`,
        headers: auth,
        ...(body === undefined ? {} : { payload: body }),
      });
    },
  };
}

/** Waits until `condition` holds, polling every 100 ms; throws with `what` after `timeoutMs`. */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
