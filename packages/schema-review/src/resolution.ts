import { type AvroNode, type AvroSchema, deref, describe, type Primitive, shortName } from "./avro.js";

/*
 * The Avro schema resolution rules (Avro 1.11 specification, "Schema Resolution"), in one place: can a reader
 * using one schema read data written with another? Everything else in this package (verdicts, diff
 * classification, version bumps) asks this module.
 */

/** Why a reader cannot read what a writer wrote, at one place in the schema. */
export type Incompatibility =
  | {
      /** The reader has a field the writer lacks, and no default to fill it with. */
      kind: "reader-field-without-default";
      path: string;
      /** The reader field's type. */
      type: string;
    }
  | {
      /** The writer's type cannot be resolved to the reader's (neither the same nor a legal promotion). */
      kind: "type-mismatch";
      path: string;
      writer: string;
      reader: string;
    }
  | {
      /** The writer may write enum symbols the reader does not know, and the reader's enum has no default. */
      kind: "enum-symbols-missing";
      path: string;
      enumName: string;
      symbols: string[];
    }
  | {
      /** The writer's union has branches the reader's type cannot read. */
      kind: "union-branches-missing";
      path: string;
      branches: string[];
    }
  | {
      /** Named types whose names differ and no reader alias maps them. */
      kind: "name-mismatch";
      path: string;
      writer: string;
      reader: string;
    }
  | {
      kind: "fixed-size-mismatch";
      path: string;
      writer: number;
      reader: number;
    };

const PROMOTIONS: Readonly<Record<Primitive, readonly Primitive[]>> = {
  null: [],
  boolean: [],
  int: ["long", "float", "double"],
  long: ["float", "double"],
  float: ["double"],
  double: [],
  bytes: ["string"],
  string: ["bytes"],
};

/** True when data written as primitive `writer` can be read as `reader` (equal, or an Avro promotion). */
export function promotes(writer: Primitive, reader: Primitive): boolean {
  return writer === reader || PROMOTIONS[writer].includes(reader);
}

/** True when two named types match for resolution: same unqualified name (namespaces are ignored), or an alias. */
function namesMatch(writerName: string, reader: { fullName: string; aliases: string[] }): boolean {
  return (
    shortName(writerName) === shortName(reader.fullName) ||
    reader.aliases.includes(writerName) ||
    reader.aliases.some((alias) => shortName(alias) === shortName(writerName))
  );
}

function join(path: string, segment: string): string {
  return path === "" ? segment : `${path}.${segment}`;
}

/**
 * Every reason a reader with schema `reader` cannot read data written with schema `writer` (empty when it can).
 * Logical types do not take part (as in the registries: the underlying types decide).
 */
export function checkResolution(writer: AvroSchema, reader: AvroSchema): Incompatibility[] {
  const problems: Incompatibility[] = [];
  // Record pairs being compared further up: a recursive reference is assumed readable (it is checked up there).
  const inProgress = new Set<string>();

  const compatible = (w: AvroNode, r: AvroNode): boolean => {
    const sink: Incompatibility[] = [];
    check(w, r, "", sink);
    return sink.length === 0;
  };

  const check = (wt: AvroNode, rt: AvroNode, path: string, out: Incompatibility[]): void => {
    const w = deref(writer, wt);
    const r = deref(reader, rt);
    if (w.kind === "union") {
      // Every branch the writer may choose must be readable.
      const missing = w.branches.filter((branch) =>
        r.kind === "union" ? !r.branches.some((rb) => compatible(branch, rb)) : !compatible(branch, r),
      );
      if (missing.length === 0) return;
      if (r.kind !== "union" && missing.length === w.branches.length) {
        out.push({ kind: "type-mismatch", path, writer: describe(writer, w), reader: describe(reader, r) });
        return;
      }
      out.push({ kind: "union-branches-missing", path, branches: missing.map((b) => describe(writer, b)) });
      return;
    }
    if (r.kind === "union") {
      // The first reader branch that matches the writer's type is used.
      if (r.branches.some((rb) => compatible(w, rb))) return;
      const sameKind = r.branches.find((rb) => deref(reader, rb).kind === w.kind && w.kind !== "primitive");
      if (sameKind !== undefined) {
        check(w, sameKind, path, out);
        return;
      }
      out.push({ kind: "type-mismatch", path, writer: describe(writer, w), reader: describe(reader, r) });
      return;
    }
    if (w.kind === "primitive" && r.kind === "primitive") {
      if (!promotes(w.type, r.type)) {
        out.push({ kind: "type-mismatch", path, writer: describe(writer, w), reader: describe(reader, r) });
      }
      return;
    }
    if (w.kind === "array" && r.kind === "array") {
      check(w.items, r.items, join(path, "[]"), out);
      return;
    }
    if (w.kind === "map" && r.kind === "map") {
      check(w.values, r.values, join(path, "{}"), out);
      return;
    }
    if (w.kind === "record" && r.kind === "record") {
      if (!namesMatch(w.fullName, r)) {
        out.push({ kind: "name-mismatch", path, writer: w.fullName, reader: r.fullName });
        return;
      }
      const key = `${w.fullName}|${r.fullName}`;
      if (inProgress.has(key)) return;
      inProgress.add(key);
      for (const field of r.fields) {
        const written =
          w.fields.find((f) => f.name === field.name) ?? w.fields.find((f) => field.aliases.includes(f.name));
        const at = join(path, field.name);
        if (written === undefined) {
          if (!field.hasDefault) {
            out.push({ kind: "reader-field-without-default", path: at, type: describe(reader, field.type) });
          }
          continue;
        }
        check(written.type, field.type, at, out);
      }
      inProgress.delete(key);
      return;
    }
    if (w.kind === "enum" && r.kind === "enum") {
      if (!namesMatch(w.fullName, r)) {
        out.push({ kind: "name-mismatch", path, writer: w.fullName, reader: r.fullName });
        return;
      }
      const missing = w.symbols.filter((s) => !r.symbols.includes(s));
      if (missing.length > 0 && r.enumDefault === undefined) {
        out.push({ kind: "enum-symbols-missing", path, enumName: r.fullName, symbols: missing });
      }
      return;
    }
    if (w.kind === "fixed" && r.kind === "fixed") {
      if (!namesMatch(w.fullName, r)) out.push({ kind: "name-mismatch", path, writer: w.fullName, reader: r.fullName });
      else if (w.size !== r.size) out.push({ kind: "fixed-size-mismatch", path, writer: w.size, reader: r.size });
      return;
    }
    out.push({ kind: "type-mismatch", path, writer: describe(writer, w), reader: describe(reader, r) });
  };

  check(writer.root, reader.root, "", problems);
  return problems;
}

/** Which way a check reads: BACKWARD = the new schema reads old data; FORWARD = the old schema reads new data. */
export type Direction = "BACKWARD" | "FORWARD";

function quote(path: string): string {
  return path === "" ? "the record" : `\`${path}\``;
}

/**
 * A sentence a reviewer understands for one incompatibility found when checking `direction` between the version
 * labelled `older` and the one labelled `newer`, e.g. "`severity` was removed without a default: consumers on v3
 * cannot read messages written with v4 (FORWARD)".
 */
export function explain(problem: Incompatibility, direction: Direction, older: string, newer: string): string {
  return `${sentence(problem, direction, older, newer)} (${direction})`;
}

function sentence(problem: Incompatibility, direction: Direction, older: string, newer: string): string {
  const backward = direction === "BACKWARD";
  const reader = backward ? newer : older;
  const writer = backward ? older : newer;
  const consequence = `consumers on ${reader} cannot read messages written with ${writer}`;
  const at = quote(problem.path);
  switch (problem.kind) {
    case "reader-field-without-default":
      return backward
        ? `${at} was added without a default: ${consequence}, which have no ${at}`
        : `${at} was removed without a default: ${consequence}`;
    case "type-mismatch": {
      const [from, to] = backward ? [problem.writer, problem.reader] : [problem.reader, problem.writer];
      const why = backward
        ? `${problem.writer} cannot be promoted to ${problem.reader}`
        : `${problem.writer} cannot be read as ${problem.reader}`;
      return `${at} changed from ${from} to ${to} (${why}): ${consequence}`;
    }
    case "enum-symbols-missing": {
      const list = problem.symbols.map((s) => `\`${s}\``).join(", ");
      const enumName = shortName(problem.enumName);
      return backward
        ? `enum ${enumName} at ${at} lost ${list} and has no default symbol: ${consequence} that carry ${list}`
        : `enum ${enumName} at ${at} gained ${list}, and ${reader}'s enum has no default symbol: ${consequence} that carry ${list}`;
    }
    case "union-branches-missing": {
      const list = problem.branches.map((b) => `\`${b}\``).join(", ");
      return backward
        ? `${at} lost union branch ${list}: ${consequence} whose ${at} is a ${list}`
        : `${at} gained union branch ${list}, which ${reader} does not have: ${consequence} whose ${at} is a ${list}`;
    }
    case "name-mismatch": {
      const [from, to] = backward ? [problem.writer, problem.reader] : [problem.reader, problem.writer];
      return `${at} was renamed from ${from} to ${to} without an alias: ${consequence}`;
    }
    case "fixed-size-mismatch": {
      const [from, to] = backward ? [problem.writer, problem.reader] : [problem.reader, problem.writer];
      return `${at} changed size from ${from} to ${to} bytes: ${consequence}`;
    }
  }
}
