// Counts what a scenario sent, what the product acknowledged and what was read back, by message id.

/** One scenario's messages by id: lost, duplicated and unexpected follow from the three sets. */
export class Ledger {
  readonly #sent = new Set<string>();
  readonly #acknowledged = new Set<string>();
  readonly #readBack = new Map<string, number>();
  #foreign = 0;

  sent(id: string): void {
    this.#sent.add(id);
  }

  acknowledged(id: string): void {
    this.#acknowledged.add(id);
  }

  /** A message of this run found at the destination (ids of this run start with the run's prefix). */
  readBack(id: string): void {
    this.#readBack.set(id, (this.#readBack.get(id) ?? 0) + 1);
  }

  /** A message found at the destination that carries no id of this run (another client's): not counted. */
  foreign(): void {
    this.#foreign++;
  }

  /** Acknowledged ids not read back (yet). */
  missing(): string[] {
    return [...this.#acknowledged].filter((id) => !this.#readBack.has(id));
  }

  counts() {
    let duplicated = 0;
    let unexpected = 0;
    for (const [id, times] of this.#readBack) {
      if (times > 1) duplicated++;
      if (!this.#sent.has(id)) unexpected++;
    }
    return {
      sent: this.#sent.size,
      acknowledged: this.#acknowledged.size,
      readBack: this.#readBack.size,
      lost: this.missing().length,
      duplicated,
      unexpected,
      foreign: this.#foreign,
    };
  }
}
