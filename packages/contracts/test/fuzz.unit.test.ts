import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContractError, defineEvent, frame, RegistrySerde } from "../src/index.js";
import { arbitraryForType, InMemorySchemaRegistry } from "../src/testing/index.js";
import { EVERYTHING, LOG_EVENT } from "./fixtures.js";

const event = defineEvent<unknown>({ name: "kronos.fixtures.Everything", schema: EVERYTHING, source: "fixtures" });
const log = defineEvent<unknown>({ name: "kronos.log.LogWritten", schema: LOG_EVENT, source: "fixtures" });
const MAX_MS = 10;

/**
 * Runs `decode` on every input, asserting only ContractErrors escape, and measures each call. The limit is checked
 * against the CPU time of the call (`process.cpuUsage`): the machines running this suite are shared, and wall time
 * also counts time the process was not running at all. A call over the limit is measured again up to ten times,
 * 50 ms apart, and counts with its fastest time, so a garbage-collection pause is not blamed on the decoder while an
 * input that is slow every time still fails. `wallMax` is the slowest single wall-clock measurement, for the log.
 */
async function fuzz(
  inputs: Iterable<Buffer>,
  decode: (bytes: Buffer) => Promise<unknown>,
): Promise<{ max: number; wallMax: number; count: number; failures: number }> {
  const all = [...inputs];
  // Warm-up (JIT, caches) so the measured maximum is the decoder's, not the first call's compilation.
  for (const input of all.slice(0, 300)) await decode(input).catch(() => undefined);
  let wallMax = 0;
  let failures = 0;
  const measure = async (input: Buffer, first: boolean): Promise<number> => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    try {
      await decode(input);
    } catch (error) {
      if (first) failures++;
      if (!(error instanceof ContractError)) {
        throw new Error(`non-ContractError for ${input.toString("hex")}: ${String(error)}`);
      }
    }
    const used = process.cpuUsage(cpu);
    wallMax = Math.max(wallMax, performance.now() - wall);
    return (used.user + used.system) / 1000;
  };
  let max = 0;
  let slowest: Buffer | undefined;
  for (const input of all) {
    let elapsed = await measure(input, true);
    for (let retry = 0; retry < 10 && elapsed >= MAX_MS; retry++) {
      // Spaced out, so one long pause cannot cover every retry.
      await new Promise((resolve) => setTimeout(resolve, 50));
      elapsed = Math.min(elapsed, await measure(input, false));
    }
    if (elapsed > max) {
      max = elapsed;
      slowest = input;
    }
  }
  console.info(`slowest input (${max.toFixed(2)} ms CPU): ${slowest?.toString("hex").slice(0, 80)}`);
  return { max, wallMax, count: all.length, failures };
}

async function setup() {
  const client = new InMemorySchemaRegistry();
  const serde = new RegistrySerde({ client });
  const id = await serde.register(event);
  const logId = await serde.register(log);
  // Warm the writer cache so the fuzz is not measuring the first schema build.
  const samples = fc.sample(arbitraryForType(event.type), { numRuns: 50, seed: 42 });
  const frames = await Promise.all(samples.map((value) => serde.encode(event, value)));
  await serde.decode(event, frames[0] as Buffer);
  await serde.decodeAny(await serde.encode(log, fc.sample(arbitraryForType(log.type), { numRuns: 1, seed: 1 })[0]));
  return { serde, id, logId, frames };
}

function mutations(frames: Buffer[], ids: number[], total: number): Buffer[] {
  return [...allMutations(frames, ids, total)].slice(0, total);
}

function* allMutations(frames: Buffer[], ids: number[], total: number): Generator<Buffer> {
  const random = fc.sample(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { numRuns: total * 2, seed: 7 });
  let r = 0;
  const next = () => random[r++ % random.length] as number;
  let produced = 0;
  const emit = function* (buf: Buffer) {
    produced++;
    yield buf;
  };
  while (produced < total) {
    for (const original of frames) {
      if (produced >= total) return;
      // Every truncation of the frame.
      for (let length = 0; length < original.length && produced < total; length++)
        yield* emit(original.subarray(0, length));
      // Every magic byte.
      for (let magic = 1; magic < 256 && produced < total; magic += 17) {
        const copy = Buffer.from(original);
        copy[0] = magic;
        yield* emit(copy);
      }
      // Known other ids (another writer schema) and unknown ids.
      for (const schemaId of [...ids, 999, 0, 2 ** 31 - 1]) {
        const copy = Buffer.from(original);
        copy.writeUInt32BE(schemaId, 1);
        yield* emit(copy);
      }
      // Bit flips in the payload.
      for (let i = 0; i < 40 && produced < total; i++) {
        const copy = Buffer.from(original);
        const bit = 40 + (next() % Math.max(1, (copy.length - 5) * 8));
        copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
        yield* emit(copy);
      }
      // Huge declared lengths spliced in at random positions.
      for (const huge of [
        [0x80, 0x80, 0x80, 0x80, 0x10],
        [0xfe, 0xff, 0xff, 0xff, 0x0f],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      ]) {
        const at = 5 + (next() % Math.max(1, original.length - 5));
        yield* emit(Buffer.concat([original.subarray(0, at), Buffer.from(huge), original.subarray(at)]));
      }
    }
  }
}

describe("decoder fuzz", () => {
  it("10,000 random buffers: only ContractErrors, each call under 10 ms", async () => {
    const { serde, id } = await setup();
    const buffers = fc.sample(fc.uint8Array({ maxLength: 200 }), { numRuns: 10_000, seed: 3 }).map((bytes, i) => {
      const buf = Buffer.from(bytes);
      // Half of them get a valid header, so the payload reaches the Avro decoder.
      if (i % 2 === 0 && buf.length >= 5) {
        buf[0] = 0;
        buf.writeUInt32BE(id, 1);
      }
      return buf;
    });
    const started = performance.now();
    const result = await fuzz(buffers, (bytes) => serde.decode(event, bytes));
    console.info(
      `fuzz random: ${result.count} calls, ${result.failures} failures, max ${result.max.toFixed(2)} ms CPU (wall ${result.wallMax.toFixed(2)}), total ${Math.round(performance.now() - started)} ms`,
    );
    expect(result.count).toBe(10_000);
    expect(result.max).toBeLessThan(MAX_MS);
  });

  it("10,000 mutations of valid frames: only ContractErrors, each call under 10 ms", async () => {
    const { serde, id, logId, frames } = await setup();
    const started = performance.now();
    const viaEvent = await fuzz(mutations(frames, [id, logId], 5_000), (bytes) => serde.decode(event, bytes));
    const viaAny = await fuzz(mutations(frames.slice().reverse(), [id, logId], 5_000), (bytes) =>
      serde.decodeAny(bytes),
    );
    console.info(
      `fuzz mutations: ${viaEvent.count + viaAny.count} calls, ${viaEvent.failures + viaAny.failures} failures, ` +
        `max ${Math.max(viaEvent.max, viaAny.max).toFixed(2)} ms CPU (wall ${Math.max(viaEvent.wallMax, viaAny.wallMax).toFixed(2)}), total ${Math.round(performance.now() - started)} ms`,
    );
    expect(viaEvent.count + viaAny.count).toBe(10_000);
    expect(Math.max(viaEvent.max, viaAny.max)).toBeLessThan(MAX_MS);
    // Sanity: the unmutated frames still decode.
    for (const original of frames) await expect(serde.decode(event, original)).resolves.toBeDefined();
  });

  it("frames from a fuzzed id the registry does not know fail with SCHEMA_ID_NOT_FOUND", async () => {
    const { serde } = await setup();
    await expect(serde.decode(event, frame(12345, Buffer.alloc(1)))).rejects.toMatchObject({
      code: "SCHEMA_ID_NOT_FOUND",
    });
  });
});
