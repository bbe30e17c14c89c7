import { SchemaError } from "./schema-error.js";

/** A 1-based position in a text. */
export interface Position {
  line: number;
  column: number;
}

/** A parsed JSON document with the position of every value, by JSON pointer. */
export interface ParsedJson {
  value: unknown;
  positions: Map<string, Position>;
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(key: string | number): string {
  return String(key).replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * Parses JSON (RFC 8259) remembering where each value starts, so schema errors can name a line and column.
 * Duplicate keys are refused: JSON.parse would silently keep the last one.
 *
 * @throws SchemaError `SCHEMA_INVALID_JSON` with the line and column of the first syntax error.
 */
export function parseJson(file: string, text: string): ParsedJson {
  const positions = new Map<string, Position>();
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const here = (): Position => ({ line, column: i - lineStart + 1 });
  const fail = (reason: string, at: Position = here()): never => {
    throw new SchemaError("SCHEMA_INVALID_JSON", file, { pointer: "", ...at }, reason);
  };
  const describe = (): string => (i >= text.length ? "end of input" : `${JSON.stringify(text[i])}`);

  const skipWhitespace = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === "\n") {
        line++;
        i++;
        lineStart = i;
      } else if (c === " " || c === "\t" || c === "\r") {
        i++;
      } else {
        break;
      }
    }
  };

  const parseString = (): string => {
    const start = here();
    i++; // opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string", start);
      const c = text[i] as string;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail("invalid escape in string");
        }
      } else if (c < " ") {
        fail("control character in string (escape it)");
      } else {
        out += c;
        i++;
      }
    }
  };

  const parseValue = (pointer: string): unknown => {
    skipWhitespace();
    positions.set(pointer, here());
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      skipWhitespace();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        skipWhitespace();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe()}`);
        const keyAt = here();
        const key = parseString();
        if (Object.hasOwn(obj, key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
        skipWhitespace();
        if (text[i] !== ":") fail(`expected ":" after property name, found ${describe()}`);
        i++;
        // defineProperty, not assignment: a "__proto__" key must stay a plain property.
        Object.defineProperty(obj, key, {
          value: parseValue(`${pointer}/${pointerSegment(key)}`),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skipWhitespace();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail(`expected "," or "}" in object, found ${describe()}`);
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      skipWhitespace();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(`${pointer}/${arr.length}`));
        skipWhitespace();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail(`expected "," or "]" in array, found ${describe()}`);
      }
    }
    if (c === '"') return parseString();
    const literal = /^(?:true|false|null)/.exec(text.slice(i, i + 5));
    if (literal) {
      i += literal[0].length;
      return literal[0] === "null" ? null : literal[0] === "true";
    }
    const num = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (num) {
      i += num[0].length;
      return Number(num[0]);
    }
    return fail(`unexpected ${describe()}`);
  };

  const value = parseValue("");
  skipWhitespace();
  if (i < text.length) fail(`unexpected ${describe()} after the end of the document`);
  return { value, positions };
}
