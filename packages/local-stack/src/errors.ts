/**
 * An error the person running the stack can act on. Its message says what is wrong and what to do;
 * the CLI prints it alone, without a stack trace.
 */
export class StackError extends Error {
  override readonly name = "StackError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
