// Assertion helpers the transport's integration tests share.
import { expect } from "vitest";
import { TransportError } from "../src/index.js";

/** Awaits `promise`, expects it to reject with a {@link TransportError}, and returns that error to inspect. */
export async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}
