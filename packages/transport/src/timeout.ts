import { TransportError } from "./errors.js";

/**
 * Resolves or rejects as `promise` does, unless `timeoutMs` passes first: then it rejects with a
 * {@link TransportError} `TIMEOUT` whose message names `what`. The timer never keeps the process alive. The
 * operation itself is not cancelled; callers clean it up (e.g. drop the connection) when the limit is hit.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransportError("TIMEOUT", `${what} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
