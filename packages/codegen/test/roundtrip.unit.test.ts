import { createAvroType } from "@kronos/contracts";
import { describe, expect, expectTypeOf, it } from "vitest";
import { generate } from "../src/index.js";
import * as main from "./generated/main/index.js";
// test/generated is written by the global setup (test/global-setup.ts) from test/fixtures before this file loads.
import {
  type AllLogical,
  AllLogicalEvent,
  type AllPrimitives,
  AllPrimitivesEvent,
  type Circle,
  type Collections,
  CollectionsEvent,
  type FixturesClashAUser,
  type FixturesClashBUser,
  type Header,
  type Keywords,
  KeywordsEvent,
  type LinkedList,
  LinkedListEvent,
  type OrderPlaced,
  OrderPlacedEvent,
  type Priority,
  PrioritySymbols,
  type Square,
  type Tree,
  TreeEvent,
  type Unions,
  UnionsEvent,
  type WithDefaults,
  WithDefaultsEvent,
  type WithDefaultsInput,
} from "./generated/main/index.js";
import { type AccountOpened as AccountOpenedV1, AccountOpenedEvent as V1 } from "./generated/v1/index.js";
import {
  type AccountOpened as AccountOpenedV2,
  type AccountOpenedInput as AccountOpenedV2Input,
  AccountOpenedEvent as V2,
} from "./generated/v2/index.js";

interface Descriptor<T> {
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
  validate(value: unknown): unknown[];
}

/** Encodes, checks the value is valid, decodes, and returns the decoded value. */
function roundTrip<T>(event: Descriptor<T>, value: T): T {
  expect(event.validate(value)).toEqual([]);
  return event.decode(event.encode(value));
}

const header: Header = {
  eventId: "0b5e3c1e-6f39-4a57-9d1a-3c2f6f1b2a10",
  occurredAt: new Date("2024-05-01T12:34:56.789Z"),
  source: "codegen-test",
};

describe("generated descriptors round-trip real records", () => {
  it("every primitive", () => {
    const value: AllPrimitives = {
      aNull: null,
      aBoolean: true,
      anInt: -5,
      aLong: 2 ** 40,
      aFloat: 1.5,
      aDouble: Math.PI,
      someBytes: Buffer.from([0, 1, 254, 255]),
      aString: "héllo",
    };
    expect(roundTrip(AllPrimitivesEvent, value)).toEqual(value);
  });

  it("every logical type, in the representation of the conventions", () => {
    const value: AllLogical = {
      tsMillis: new Date("2024-05-01T12:34:56.789Z"),
      localTsMillis: new Date("2024-05-01T00:00:00.000Z"),
      tsMicros: 1_714_567_890_123_456n,
      localTsMicros: 1n,
      day: "2024-02-29",
      timeMillis: 3_600_000,
      timeMicros: 3_600_000_000,
      id: "0b5e3c1e-6f39-4a57-9d1a-3c2f6f1b2a10",
      price: "-12.30",
      total: "1234.50",
      unknownLogical: "red",
      maybeAt: null,
    };
    expect(roundTrip(AllLogicalEvent, value)).toEqual(value);
    expect(roundTrip(AllLogicalEvent, { ...value, maybeAt: new Date(0) }).maybeAt).toEqual(new Date(0));
  });

  it("arrays, maps and nested records", () => {
    const home = { street: "1 Main St", city: "Lyon", zip: null };
    const value: Collections = {
      tags: ["a", "b"],
      counts: { x: 1, y: 2 ** 35 },
      matrix: [[1, 2.5], [], [3]],
      maybeNames: ["x", null],
      home,
      others: { work: [{ ...home, zip: "69001" }], none: [] },
    };
    expect(roundTrip(CollectionsEvent, value)).toEqual(value);
  });

  it("recursive records: a linked list and a tree", () => {
    const list: LinkedList = { value: 1, next: { value: 2, next: { value: 3, next: null } } };
    expect(roundTrip(LinkedListEvent, list)).toEqual(list);
    const tree: Tree = { label: "root", children: [{ label: "a", children: [{ label: "a1", children: [] }] }] };
    expect(roundTrip(TreeEvent, tree)).toEqual(tree);
  });

  it("unions: plain values where avsc unwraps, { branch: value } where it wraps", () => {
    const first: Unions = {
      nullableString: "x",
      stringOrNull: null,
      multi: "s",
      shape: { "fixtures.unions.Circle": { radius: 2 } },
      number: { long: 2 ** 40 },
      maybeNumber: { double: 1.5 },
      label: { "fixtures.unions.Kind": "B" },
      blob: { "fixtures.common.Md5": Buffer.alloc(16, 7) },
      objectish: { map: { a: 1 } },
      mixed: { side: 3 },
      whenOrWhat: new Date("2024-01-01T00:00:00Z"),
      priority: "HIGH",
    };
    expect(roundTrip(UnionsEvent, first)).toEqual(first);
    const second: Unions = {
      nullableString: null,
      stringOrNull: "y",
      multi: 7,
      shape: { "fixtures.unions.Square": { side: 1 } },
      number: { int: 3 },
      maybeNumber: null,
      label: { string: "free text" },
      blob: { bytes: Buffer.from("abc") },
      objectish: { "fixtures.unions.Circle": { radius: 1 } },
      mixed: [1, 2, 3],
      whenOrWhat: "soon",
      priority: null,
    };
    expect(roundTrip(UnionsEvent, second)).toEqual(second);
    for (const mixed of [null, true, 2.5, "s", Buffer.from([1])] as const) {
      expect(roundTrip(UnionsEvent, { ...second, mixed }).mixed).toEqual(mixed);
    }
  });

  it("a value of a wrapped union that is not wrapped is invalid", () => {
    const valid: Unions = {
      nullableString: null,
      stringOrNull: null,
      multi: null,
      shape: { "fixtures.unions.Square": { side: 1 } },
      number: { int: 3 },
      maybeNumber: null,
      label: { string: "x" },
      blob: { bytes: Buffer.from("abc") },
      objectish: null,
      mixed: null,
      whenOrWhat: "x",
      priority: null,
    };
    expect(UnionsEvent.validate(valid)).toEqual([]);
    expect(UnionsEvent.validate({ ...valid, number: 3 })).not.toEqual([]);
    expect(UnionsEvent.validate({ ...valid, shape: { side: 1 } })).not.toEqual([]);
  });

  it("defaults: the input may leave defaulted fields out, decode fills them in", () => {
    const input: WithDefaultsInput = { id: "w1", moreOptions: [{ level: 2 }] };
    const decoded = WithDefaultsEvent.decode(WithDefaultsEvent.encode(input as WithDefaults));
    expect(decoded).toEqual({
      id: "w1",
      retries: 3,
      ratio: 0.5,
      enabled: true,
      note: null,
      label: "none",
      mode: "FAST",
      tags: ["a", "b"],
      limits: { max: 10 },
      raw: Buffer.from([0xff, 0]),
      options: { verbose: false, level: 1 },
      moreOptions: [{ verbose: false, level: 2 }],
    } satisfies WithDefaults);
  });

  it("cross-file and cross-namespace references, the enum symbols and the binding", () => {
    const value: OrderPlaced = {
      header,
      priority: "NORMAL",
      total: "99.90",
      shipTo: { street: "2 Rue", city: "Paris", zip: "75001" },
      billTo: null,
      digest: Buffer.alloc(16, 1),
      lines: [{ sku: "A-1", quantity: 2, unitPrice: "49.95" }],
    };
    expect(roundTrip(OrderPlacedEvent, value)).toEqual(value);
    expect(OrderPlacedEvent.name).toBe("fixtures.orders.OrderPlaced");
    expect(OrderPlacedEvent.subject).toBe("fixtures.orders.OrderPlaced");
    expect(OrderPlacedEvent.source).toBe("packages/codegen/test/fixtures/main/orders/OrderPlaced.avsc");
    expect(OrderPlacedEvent.binding).toEqual({ kafka: { topic: "fixtures.orders" } });
    expect(UnionsEvent.binding).toBeUndefined();
    expect(PrioritySymbols).toEqual(["LOW", "NORMAL", "HIGH", "UNKNOWN"]);
  });

  it("the schema is self-contained: avsc builds it alone, with no registry of other types", () => {
    for (const event of [OrderPlacedEvent, KeywordsEvent, UnionsEvent]) {
      expect(createAvroType(event.schema).name).toBe(event.name);
    }
    expect(JSON.stringify(OrderPlacedEvent.schema)).toContain('"name":"Header","namespace":"fixtures.common"');
  });

  it("only records the isEvent option accepts get a descriptor", () => {
    expect(
      Object.keys(main)
        .filter((k) => k.endsWith("Event"))
        .sort(),
    ).toEqual([
      "AllLogicalEvent",
      "AllPrimitivesEvent",
      "CollectionsEvent",
      "FixturesClashAUserEvent",
      "FixturesClashBUserEvent",
      "KeywordsEvent",
      "LinkedListEvent",
      "OrderPlacedEvent",
      "TreeEvent",
      "UnionsEvent",
      "WithDefaultsEvent",
    ]);
  });

  it("name clashes: reserved words and a short name in two namespaces", () => {
    const value: Keywords = {
      class: "c",
      default: 1,
      when: { iso: "2024-01-01" },
      at: new Date(5),
      kind: "Y",
      a: { id: "a" },
      b: { id: 2 },
      either: { "fixtures.clash.b.User": { id: 3 } },
    };
    expect(roundTrip(KeywordsEvent, value)).toEqual(value);
  });

  it("v1 → v2: v2 reads what v1 wrote, filling the new fields with their defaults", () => {
    const v1: AccountOpenedV1 = { accountId: "acc-1", owner: "ada" };
    const bytes = V1.encode(v1);
    const read = V2.type.fromBuffer(bytes, V2.type.createResolver(V1.type)) as AccountOpenedV2;
    expect(read).toEqual({ accountId: "acc-1", owner: "ada", currency: "EUR", referrer: null });
    const v2: AccountOpenedV2Input = { accountId: "acc-2", owner: "bob", referrer: "ada" };
    expect(V2.decode(V2.encode(v2 as AccountOpenedV2))).toEqual({ ...v2, currency: "EUR" });
  });
});

describe("generated types", () => {
  it("map Avro types to the conventions' TypeScript types", () => {
    expectTypeOf<AllPrimitives["aNull"]>().toEqualTypeOf<null>();
    expectTypeOf<AllPrimitives["aLong"]>().toEqualTypeOf<number>();
    expectTypeOf<AllPrimitives["someBytes"]>().toEqualTypeOf<Buffer>();
    expectTypeOf<AllLogical["tsMillis"]>().toEqualTypeOf<Date>();
    expectTypeOf<AllLogical["localTsMillis"]>().toEqualTypeOf<Date>();
    expectTypeOf<AllLogical["tsMicros"]>().toEqualTypeOf<bigint>();
    expectTypeOf<AllLogical["day"]>().toEqualTypeOf<string>();
    expectTypeOf<AllLogical["timeMicros"]>().toEqualTypeOf<number>();
    expectTypeOf<AllLogical["price"]>().toEqualTypeOf<string>();
    expectTypeOf<AllLogical["total"]>().toEqualTypeOf<string>();
    expectTypeOf<AllLogical["maybeAt"]>().toEqualTypeOf<Date | null>();
    expectTypeOf<Collections["counts"]>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<Collections["maybeNames"]>().toEqualTypeOf<(string | null)[]>();
    expectTypeOf<LinkedList["next"]>().toEqualTypeOf<LinkedList | null>();
    expectTypeOf<OrderPlaced["priority"]>().toEqualTypeOf<Priority>();
    expectTypeOf<Priority>().toEqualTypeOf<"LOW" | "NORMAL" | "HIGH" | "UNKNOWN">();
  });

  it("type unions as avsc gives them", () => {
    expectTypeOf<Unions["nullableString"]>().toEqualTypeOf<string | null>();
    expectTypeOf<Unions["multi"]>().toEqualTypeOf<string | number | null>();
    expectTypeOf<Unions["shape"]>().toEqualTypeOf<
      { "fixtures.unions.Circle": Circle } | { "fixtures.unions.Square": Square }
    >();
    expectTypeOf<Unions["number"]>().toEqualTypeOf<{ int: number } | { long: number }>();
    expectTypeOf<Unions["whenOrWhat"]>().toEqualTypeOf<Date | string>();
    expectTypeOf<Keywords["either"]>().toEqualTypeOf<
      { "fixtures.clash.a.User": FixturesClashAUser } | { "fixtures.clash.b.User": FixturesClashBUser }
    >();
    expectTypeOf<FixturesClashAUser["id"]>().toEqualTypeOf<string>();
    expectTypeOf<FixturesClashBUser["id"]>().toEqualTypeOf<number>();
  });

  it("make defaulted fields optional on the input type only", () => {
    expectTypeOf<Pick<WithDefaultsInput, "id" | "retries">>().toEqualTypeOf<{ id: string; retries?: number }>();
    expectTypeOf<Pick<WithDefaults, "id" | "retries">>().toEqualTypeOf<{ id: string; retries: number }>();
    expectTypeOf<WithDefaultsInput["options"]>().toEqualTypeOf<{ verbose?: boolean; level: number } | undefined>();
    expectTypeOf<AccountOpenedV2Input>().toEqualTypeOf<{
      accountId: string;
      owner: string;
      currency?: string;
      referrer?: string | null;
    }>();
  });

  it("type the descriptors by the generated record", () => {
    expectTypeOf(OrderPlacedEvent.decode).returns.toEqualTypeOf<OrderPlaced>();
    expectTypeOf(OrderPlacedEvent.encode).parameter(0).toEqualTypeOf<OrderPlaced>();
  });
});

describe("the union rule matches avsc at run time", () => {
  const unions: unknown[] = [
    ["null", "string"],
    ["string", "null"],
    ["null", "string", "int"],
    ["int", "long"],
    ["float", "double"],
    ["null", "boolean", "int", "string", "bytes", { type: "array", items: "int" }, { type: "map", values: "int" }],
    ["string", { type: "enum", name: "E", symbols: ["A"] }],
    ["bytes", { type: "fixed", name: "F", size: 2 }],
    [
      { type: "map", values: "int" },
      { type: "record", name: "R", fields: [] },
    ],
    [
      { type: "record", name: "R1", fields: [] },
      { type: "record", name: "R2", fields: [] },
    ],
    [{ type: "long", logicalType: "timestamp-millis" }, "string"],
    [{ type: "long", logicalType: "timestamp-millis" }, "int"],
    [{ type: "int", logicalType: "date" }, "long"],
    [{ type: "string", logicalType: "uuid" }, "int"],
    [
      { type: "bytes", logicalType: "decimal", precision: 4, scale: 1 },
      { type: "fixed", name: "G", size: 2 },
    ],
    [
      { type: "bytes", logicalType: "decimal", precision: 0 },
      { type: "fixed", name: "H", size: 2 },
    ],
    [
      { type: "string", logicalType: "x-unknown" },
      { type: "enum", name: "E2", symbols: ["A"] },
    ],
    [{ type: "int", logicalType: "timestamp-millis" }, "long"],
  ];

  it.each(unions.map((u) => [JSON.stringify(u), u]))("%s", (_label, union) => {
    const schema = { type: "record", name: "U", namespace: "t", fields: [{ name: "u", type: union }] };
    const avscType = createAvroType(schema) as unknown as { fields: Array<{ type: { typeName: string } }> };
    const avscWrapped = avscType.fields[0]?.type.typeName === "union:wrapped";
    const out = generate({ files: [{ path: "U.avsc", content: JSON.stringify(schema) }] });
    const line = out.files
      .find((f) => f.path === "U.ts")
      ?.content.split("\n")
      .find((l) => l.startsWith("  u: "));
    expect(line).toBeDefined();
    expect(/\{ "/.test(line ?? "")).toBe(avscWrapped);
  });
});
