/**
 * The requests a responder is handling, so that closing it can let them finish (their replies sent, their
 * requests settled) before its subscription goes, for at most a bounded time.
 */
export class RequestsInHand {
  readonly #running = new Set<Promise<void>>();

  /** Counts `task` as in hand until it settles. */
  add(task: Promise<void>): void {
    this.#running.add(task);
    const done = () => this.#running.delete(task);
    task.then(done, done);
  }

  /** Resolves once every request in hand now has finished, or after `timeoutMs`. Never rejects. */
  async finished(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}
