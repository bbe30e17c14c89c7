import { HttpError } from "@kronos/app-kit";
import type { FastifyRequest } from "fastify";

const CODE_BY_PART: Readonly<Record<string, string>> = {
  body: "INVALID_REQUEST",
  params: "INVALID_HANDLE",
  querystring: "INVALID_QUERY",
};

/** Throws the route's validation error (attached with `attachValidation`) as a 400 naming the part at fault. */
export function rejectInvalid(request: FastifyRequest): void {
  const error = request.validationError;
  if (!error) return;
  const part = (error as { validationContext?: string }).validationContext ?? "body";
  throw new HttpError(400, CODE_BY_PART[part] ?? "INVALID_REQUEST", error.message);
}

/** The caller's identity (by identity, not id: a JWT whose sub equals an API key's principal id is someone else). */
export function identityOf(request: FastifyRequest): string {
  return request.principal?.identity ?? "";
}
