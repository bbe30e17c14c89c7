// Generated codecs vs JSON on the catalog's events, side by side in one run; prints ratios, not times.
//   npm run bench            (from the repository root: set-up, stack up, build, then this)
// Targets from issue #3: decode ≥ 3× JSON.parse, encode ≥ 2× JSON.stringify, size ≤ 0.35× JSON,
// registry serde with warm caches ≥ 0.9× raw avsc.
import { type EventDescriptor, frame, RegistrySerde } from "@kronos/contracts";
import { arbitraryForType } from "@kronos/contracts/testing";
import * as auth from "@kronos/events-auth";
import * as cache from "@kronos/events-cache";
import * as gaia from "@kronos/events-gaia";
import * as log from "@kronos/events-log";
import * as messaging from "@kronos/events-messaging";
import * as router from "@kronos/events-router";
import * as user from "@kronos/events-user";
import { endpoints, loadSettings } from "@kronos/local-stack";
import fc from "fast-check";
import { ratio } from "./measure.js";

const SAMPLES = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
// Each round runs every sample BENCH_PASSES times (10,000 calls by default, ~10-50 ms). Rounds of 2,000 calls (a few
// ms) measured both sides low and unevenly: a garbage collection or a timer tick weighs on a short round.
const OPTIONS = { iterations: SAMPLES * Number(process.env.BENCH_PASSES ?? 20), rounds: ROUNDS };

const events = [auth, cache, gaia, log, messaging, router, user]
  .flatMap((module) => Object.values(module) as unknown[])
  .filter(
    (value): value is EventDescriptor<unknown> => typeof value === "object" && value !== null && "subject" in value,
  )
  .sort((a, b) => a.name.localeCompare(b.name));

// Both sides go between values and the bytes a broker carries: the JSON baseline encodes to UTF-8 bytes and decodes
// from them (`Buffer.from(JSON.stringify(v))`, `JSON.parse(bytes.toString())`), as the Avro side does. JSON has no
// bigint (the catalog has none today): only events whose values hold one pay for the replacer, since any replacer
// function takes JSON.stringify off its fast path.
const bigintReplacer = (_key: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
function jsonStringifier(values: unknown[]): (value: unknown) => string {
  let bigint = false;
  for (const value of values) {
    JSON.stringify(value, (key, v) => {
      bigint ||= typeof v === "bigint";
      return bigintReplacer(key, v);
    });
  }
  return bigint ? (value) => JSON.stringify(value, bigintReplacer) : (value) => JSON.stringify(value);
}

const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? endpoints(loadSettings()).registryUrl;
const serde = new RegistrySerde({ url: registryUrl, autoRegister: true });

interface Row {
  event: string;
  encode: number;
  decode: number;
  size: number;
  serde: number;
}

interface DataSet {
  label: string;
  data: "realistic" | "adversarial";
  description: string;
}

const DATA_SETS: DataSet[] = [
  {
    label: "REALISTIC",
    data: "realistic",
    description:
      "printable ASCII strings of 1-32 chars, ASCII identifier map keys, ints 0-100,000, longs 0-2^40, " +
      "bytes up to 64, timestamps in 2020-2030 (what Kronos services send)",
  },
  {
    label: "ADVERSARIAL",
    data: "adversarial",
    description:
      "full-unicode strings (any code point) up to 16 code points, any safe long, any double, " +
      "timestamps from year -140,000 to +275,000 (fast-check edge cases)",
  },
];

async function measure(dataSet: DataSet): Promise<Row[]> {
  const rows: Row[] = [];
  for (const event of events) {
    const arbitrary = arbitraryForType(event.type, { maxItems: 3, data: dataSet.data });
    const values = fc.sample(arbitrary, { numRuns: SAMPLES, seed: 7 });
    const avro = values.map((value) => event.encode(value));
    const toJson = jsonStringifier(values);
    const json = values.map((value) => Buffer.from(toJson(value)));
    const at = (i: number) => i % SAMPLES;
    const schemaId = await serde.schemaId(event);

    const encode = await ratio(
      (i) => event.encode(values[at(i)]),
      (i) => Buffer.from(toJson(values[at(i)])),
      OPTIONS,
    );
    const decode = await ratio(
      (i) => event.decode(avro[at(i)] as Buffer),
      (i) => JSON.parse((json[at(i)] as Buffer).toString()),
      OPTIONS,
    );
    const avroBytes = avro.reduce((sum, buffer) => sum + buffer.length + 5, 0);
    const jsonBytes = json.reduce((sum, bytes) => sum + bytes.length, 0);
    const serdeRatio = await ratio(
      (i) => serde.encode(event, values[at(i)]),
      (i) => frame(schemaId, event.type.toBuffer(values[at(i)])),
      { ...OPTIONS, awaitCandidate: true },
    );
    rows.push({ event: event.name, encode, decode, size: avroBytes / jsonBytes, serde: serdeRatio });
  }
  return rows;
}

const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const fmt = (x: number) => `${x.toFixed(2)}×`;
const line = (label: string, cells: string[]) => `${label.padEnd(40)} ${cells.map((c) => c.padStart(8)).join(" ")}`;

console.log(
  `Codec benchmark: ${events.length} catalog events, ${SAMPLES} generated records each per data set, ` +
    `median of ${ROUNDS} alternating rounds`,
);
console.log(
  "ratios: encode = avro ops/s ÷ JSON.stringify to UTF-8 bytes ops/s, decode = avro ÷ JSON.parse of UTF-8 bytes,",
);
console.log("        size = framed avro bytes ÷ JSON bytes,");
console.log("        serde = RegistrySerde.encode (warm caches, validating) ops/s ÷ raw avsc toBuffer + frame ops/s");
for (const dataSet of DATA_SETS) {
  const rows = await measure(dataSet);
  console.log(`\n== ${dataSet.label} data: ${dataSet.description}`);
  console.log(line("event", ["encode", "decode", "size", "serde"]));
  for (const row of rows) console.log(line(row.event, [row.encode, row.decode, row.size, row.serde].map(fmt)));
  const summary = (["encode", "decode", "size", "serde"] as const).map((key) => geomean(rows.map((r) => r[key])));
  console.log(line(`geometric mean (${dataSet.data})`, summary.map(fmt)));
  console.log(line("target", ["≥ 2×", "≥ 3×", "≤ 0.35×", "≥ 0.9×"]));
}
