import type { ObjectStore } from '../object-store.js';
import { type StoreCall, WrappedStore } from './wrapped-store.js';

/**
 * Counts dependent round trips: each request's depth is one more than the deepest request that
 * had finished when it started, so requests issued together share a depth and a request that
 * waited for another's answer is one deeper. `depth` is the longest such chain since `reset()`:
 * the number of round trips an operation cannot overlap, whatever the latency.
 */
export class RoundTripStore extends WrappedStore {
  /** The deepest request finished so far. */
  #finished = 0;
  #deepest = 0;
  requests = 0;

  constructor(inner: ObjectStore) {
    super(inner);
  }

  /** Dependent round trips since the last reset. */
  get depth(): number {
    return this.#deepest;
  }

  reset(): void {
    this.#finished = 0;
    this.#deepest = 0;
    this.requests = 0;
  }

  protected async around<T>(_call: StoreCall, run: () => Promise<T>): Promise<T> {
    const depth = this.#finished + 1;
    this.requests++;
    this.#deepest = Math.max(this.#deepest, depth);
    try {
      return await run();
    } finally {
      this.#finished = Math.max(this.#finished, depth);
    }
  }
}
