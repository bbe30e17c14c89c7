/**
 * @kronos/events-cache: the cache domain's events, generated from schemas/cache/ by `kronos-schemas generate`.
 * Each `<Name>Event` is a descriptor (name, subject, schema, manifest binding, encode/decode/validate);
 * `<Name>` is what decode returns and `<Name>Input` what encode accepts.
 */
export * from "./generated/cache/index.js";
export type { EventMeta, EventMetaInput } from "./generated/common/EventMeta.js";
