import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { ensureLocalTls, loadSettings } from "@kronos/local-stack";
import { testEndpoints } from "./endpoints.js";

/** Options of {@link startAuthProxy}. Set `basic`, `token` or both: a request must carry one of them. */
export interface AuthProxyOptions {
  /** HTTP basic credentials the proxy accepts. */
  readonly basic?: { readonly username: string; readonly password: string };
  /** A bearer token the proxy accepts. */
  readonly token?: string;
  /** The plain-HTTP registry API behind it; default the test stack's (`testEndpoints().registryUrl`). */
  readonly target?: string;
}

/** A running {@link startAuthProxy}. */
export interface AuthProxy {
  /** `https://127.0.0.1:<port><target path>`: the registry API through the proxy. */
  readonly url: string;
  /** The local stack's CA, which signed the proxy's certificate (`SCHEMA_REGISTRY_CA_FILE`). */
  readonly caFile: string;
  /** A CA that signed nothing the proxy presents: for "untrusted certificate" tests. */
  readonly untrustedCaFile: string;
  /** Requests seen, and how many were refused with 401. */
  readonly counts: { readonly requests: number; readonly refused: number };
  close(): Promise<void>;
}

/**
 * An authenticating HTTPS front for the stack's schema registry, for tests: TLS with the local stack's server
 * certificate (`localhost`, `127.0.0.1`), then `Authorization: Basic` or `Bearer` checked against `options`; a
 * request without them gets 401 (Confluent's `{error_code, message}` body), one with them is forwarded, path and
 * body unchanged, to the plain registry. Apicurio's own authentication needs an OIDC server, which this machine
 * cannot run; a registry behind a proxy like this one is also how many deployments secure it.
 */
export async function startAuthProxy(options: AuthProxyOptions): Promise<AuthProxy> {
  const tls = ensureLocalTls(loadSettings());
  const target = new URL(options.target ?? testEndpoints().registryUrl);
  const accepted = new Set<string>();
  if (options.basic) {
    accepted.add(`Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString("base64")}`);
  }
  if (options.token !== undefined) accepted.add(`Bearer ${options.token}`);
  const counts = { requests: 0, refused: 0 };
  const server: Server = createServer(
    { cert: readFileSync(tls.serverCertFile), key: readFileSync(tls.serverKeyFile) },
    (request, response) => {
      counts.requests++;
      const authorization = request.headers.authorization;
      if (authorization === undefined || !accepted.has(authorization)) {
        counts.refused++;
        request.resume();
        response.writeHead(401, {
          "content-type": "application/vnd.schemaregistry.v1+json",
          "www-authenticate": 'Basic realm="registry", Bearer realm="registry"',
        });
        response.end(JSON.stringify({ error_code: 401, message: "Unauthorized" }));
        return;
      }
      const { authorization: _dropped, host: _host, ...headers } = request.headers;
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: request.method, path: request.url, headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on("error", (error) => {
        response.writeHead(502, { "content-type": "application/json" });
        response.end(JSON.stringify({ error_code: 502, message: `registry unreachable: ${error.message}` }));
      });
      request.pipe(upstream);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}${target.pathname.replace(/\/+$/, "")}`,
    caFile: tls.caFile,
    untrustedCaFile: tls.untrustedCaFile,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
