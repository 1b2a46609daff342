import { Mutex } from './mutex.js';

/**
 * One Mutex per key, created on first use and dropped when nobody holds or waits for it, so a
 * long-lived process that touches many keys keeps only the busy ones.
 */
export class KeyedMutex {
  readonly #locks = new Map<string, { mutex: Mutex; users: number }>();

  /** Waits for `key`'s mutex; call the returned function (once) to release it. */
  async acquire(key: string): Promise<() => void> {
    let entry = this.#locks.get(key);
    if (entry === undefined) {
      entry = { mutex: new Mutex(), users: 0 };
      this.#locks.set(key, entry);
    }
    entry.users++;
    const release = await entry.mutex.acquire();
    const held = entry;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (--held.users === 0 && this.#locks.get(key) === held) this.#locks.delete(key);
    };
  }

  async run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await task();
    } finally {
      release();
    }
  }

  /** Keys held or waited for now. */
  get size(): number {
    return this.#locks.size;
  }
}
