// Test helpers that act on the real RabbitMQ through its management API.
import { testEndpoints } from "@kronos/testkit";
import { expect } from "vitest";

/** The management API's origin and the Basic authorization header for its URL's credentials. */
export function managementAuth(): { origin: string; authorization: string } {
  const api = new URL(testEndpoints().rabbitmqManagementUrl);
  const user = `${decodeURIComponent(api.username)}:${decodeURIComponent(api.password)}`;
  return { origin: api.origin, authorization: `Basic ${Buffer.from(user).toString("base64")}` };
}

/** Closes a client connection from the broker's side (a simulated connection loss). */
export async function closeOnBroker(connection: string): Promise<void> {
  const { origin, authorization } = managementAuth();
  const response = await fetch(`${origin}/api/connections/${encodeURIComponent(connection)}`, {
    method: "DELETE",
    headers: { authorization, "x-reason": "test: simulated connection loss" },
  });
  expect(response.status).toBe(204);
}

/**
 * Retries `assertion` every 200 ms until it passes or `timeoutMs` runs out (then its last error is thrown); resolves
 * with what the passing call returned.
 */
export async function eventually<T>(assertion: () => Promise<T> | T, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The broker-side names of the connections whose client-provided name is `name`. */
export async function brokerConnections(name: string): Promise<string[]> {
  const { origin, authorization } = managementAuth();
  const response = await fetch(`${origin}/api/connections`, { headers: { authorization } });
  const all = (await response.json()) as { name: string; client_properties?: { connection_name?: string } }[];
  return all.filter((c) => c.client_properties?.connection_name === name).map((c) => c.name);
}
