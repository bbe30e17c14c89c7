import { ErrorBody } from "@kronos/app-kit";

/**
 * The error answers of a route for its OpenAPI document and reply typing: every status in `statuses` answers with
 * {@link ErrorBody} (`{ statusCode, code, message }`). Spread it into a route's response map beside the success
 * statuses; a status whose body is richer (e.g. 422 with violations) is given on its own instead.
 */
export function errorResponses<const Statuses extends readonly number[]>(
  ...statuses: Statuses
): { readonly [Status in Statuses[number]]: typeof ErrorBody } {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBody])) as {
    [Status in Statuses[number]]: typeof ErrorBody;
  };
}
