/** Why a release stopped; each code is one thing the user can act on. */
export type ReleaseErrorCode =
  | "BAD_USAGE"
  | "REGISTRY_UNREACHABLE"
  | "REGISTRY_REFUSED"
  | "NOT_MAJOR"
  | "BAD_CONTENTS"
  | "PACK_FAILED"
  | "BUILD_FAILED"
  | "PUBLISH_FAILED"
  | "SCHEMAS_REFUSED";

/** A release that cannot go on; the message says what is wrong and what to do. */
export class ReleaseError extends Error {
  readonly code: ReleaseErrorCode;

  constructor(code: ReleaseErrorCode, message: string) {
    super(message);
    this.name = "ReleaseError";
    this.code = code;
  }
}
