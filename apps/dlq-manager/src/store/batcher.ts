import type { Pool } from "../db/database.js";
import { type IncomingDeadLetter, storeDeadLetters } from "./ingest.js";

interface Waiting {
  readonly letter: IncomingDeadLetter;
  readonly payload: unknown;
  readonly resolve: (stored: { id: string; inserted: boolean }) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Stores the dead letters handed to {@link store} within one turn of the event loop together: one
 * {@link storeDeadLetters} call (one INSERT, one commit) for up to `maxBatch` of them, instead of one each. Each
 * caller's promise settles with its own letter's result, or with the statement's error (then none of the batch may
 * be acked). Batches run concurrently, up to the pool's size.
 */
export class DeadLetterBatcher {
  readonly #pool: Pool;
  readonly #maxBatch: number;
  #waiting: Waiting[] = [];
  #scheduled = false;

  constructor(pool: Pool, maxBatch = 64) {
    this.#pool = pool;
    this.#maxBatch = maxBatch;
  }

  /** Stores `letter` durably with the others of this turn; see {@link storeDeadLetters}. */
  store(letter: IncomingDeadLetter, payload?: unknown): Promise<{ id: string; inserted: boolean }> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ letter, payload, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxBatch);
      storeDeadLetters(this.#pool, batch).then(
        (results) => {
          for (const [i, waiting] of batch.entries()) waiting.resolve(results[i] as { id: string; inserted: boolean });
        },
        (error: unknown) => {
          for (const waiting of batch) waiting.reject(error);
        },
      );
    }
  }
}
