/** Stable codes of the errors that stop a review from running (exit code 2). */
export type ReviewErrorCode =
  | "REVIEW_NOT_A_GIT_REPOSITORY"
  | "REVIEW_BAD_REF"
  | "REVIEW_SCHEMA_UNPARSABLE"
  | "REVIEW_MANIFEST_UNPARSABLE"
  | "REVIEW_REGISTRY_UNREACHABLE"
  | "REVIEW_REGISTRY_ERROR";

// Which failures a retry can cure is data, not scattered ifs.
const RETRIABLE: Readonly<Record<ReviewErrorCode, boolean>> = {
  REVIEW_NOT_A_GIT_REPOSITORY: false,
  REVIEW_BAD_REF: false,
  REVIEW_SCHEMA_UNPARSABLE: false,
  REVIEW_MANIFEST_UNPARSABLE: false,
  REVIEW_REGISTRY_UNREACHABLE: true,
  REVIEW_REGISTRY_ERROR: true,
};

/**
 * The review could not run: a bad base ref, a schema that does not parse at the base or at the head, an
 * unreachable registry. `message` says what and where; the CLI prints it and exits with code 2.
 */
export class ReviewError extends Error {
  readonly code: ReviewErrorCode;
  /** True when running again later may succeed (the registry was down). */
  readonly retriable: boolean;

  constructor(code: ReviewErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReviewError";
    this.code = code;
    this.retriable = RETRIABLE[code];
  }
}
