/**
 * A map whose entries expire and whose size is capped: the fake server's state never grows
 * without bound however many logins it serves.
 */
export class ExpiringTable<K, V> {
  readonly #entries = new Map<K, { readonly value: V; readonly expiresAtMs: number }>();
  readonly #max: number;

  /** @param max - The most entries kept; the oldest goes first when a new one would exceed it. */
  constructor(max: number) {
    this.#max = max;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value under `key`, if it was neither swept, evicted nor deleted. */
  get(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Whether `key` is held. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /**
   * Stores `value` (as the newest entry) until `expiresAtMs` (`Infinity`: until evicted), then
   * evicts the oldest entries beyond the cap.
   */
  set(key: K, value: V, expiresAtMs: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) {
        break;
      }
      this.#entries.delete(oldest);
    }
  }

  /** Removes `key`. */
  delete(key: K): void {
    this.#entries.delete(key);
  }

  /**
   * Drops the entries expired at `nowMs`, oldest first, stopping at the first one still live
   * (entries of a table are stored in the order they expire).
   */
  sweep(nowMs: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAtMs > nowMs) {
        break;
      }
      this.#entries.delete(key);
    }
  }
}
