import type { Type } from "avsc";

/**
 * What the compiled reader and writer generate their JavaScript with: constants the source refers to by name (`k0`,
 * `k1`, ...), one named function per type (named before its body is written, so a recursive type's function calls
 * itself), and the assembly of it all into one function body run with `new Function("k", "h", ...)`, `h` holding
 * the helper functions the source calls.
 */
export abstract class GeneratedSource {
  readonly #constants: unknown[] = [];
  readonly #functions: string[] = [];
  readonly #names = new Map<Type, string>();

  /** A name for `value` in the source. */
  protected constant(value: unknown): string {
    this.#constants.push(value);
    return `k${this.#constants.length - 1}`;
  }

  /** The name of `type`'s function, whose source `define` writes the first time (given the name). */
  protected namedFunction(type: Type, prefix: string, define: (name: string) => string): string {
    let name = this.#names.get(type);
    if (name === undefined) {
      name = `${prefix}${this.#names.size}`;
      this.#names.set(type, name);
      this.#functions.push(define(name));
    }
    return name;
  }

  /**
   * Compiles the functions and constants written so far with `helpers` (each bound to a `const` of its name) and
   * returns what `root`, a function expression using them, evaluates to.
   */
  protected assemble<F>(helpers: Readonly<Record<string, unknown>>, root: string): F {
    const helperLines = Object.keys(helpers)
      .map((name) => `const ${name} = h.${name};`)
      .join("\n");
    const constantLines = this.#constants.map((_, i) => `const k${i} = k[${i}];`).join("\n");
    const source = `"use strict";\n${helperLines}\n${constantLines}\n${this.#functions.join("\n")}\nreturn ${root};`;
    return new Function("k", "h", source)(this.#constants, helpers) as F;
  }
}
