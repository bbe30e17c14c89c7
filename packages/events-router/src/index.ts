/**
 * @kronos/events-router: the router domain's events, generated from schemas/router/ by `kronos-schemas generate`.
 * Each `<Name>Event` is a descriptor (name, subject, schema, manifest binding, encode/decode/validate);
 * `<Name>` is what decode returns and `<Name>Input` what encode accepts.
 */

export type { EventMeta, EventMetaInput } from "./generated/common/EventMeta.js";
export * from "./generated/router/index.js";
