/** Deterministic ids: a per-server counter, so two runs of the same test produce the same ids. */
export class IdSequence {
  #next = 1;

  /** `prefix` followed by the next counter value as `width` hex digits. */
  next(prefix: string, width = 24): string {
    return prefix + (this.#next++).toString(16).padStart(width, '0');
  }

  reset(): void {
    this.#next = 1;
  }
}
