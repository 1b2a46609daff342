import { setTimeout as delay } from 'node:timers/promises';

/** Time as the latency and chaos wrappers see it; injected so tests run on virtual time. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => (ms <= 0 ? Promise.resolve() : delay(ms, undefined, signal ? { signal } : undefined)),
};

/**
 * Discrete-event time: a sleep resolves as soon as the program has nothing else to do, and the
 * clock jumps to its wake-up time. Sleepers wake in time order (ties in call order), so concurrent
 * requests interleave as they would in real time, without waiting for it, and deterministically.
 */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  #pending = false;
  readonly #timers: { at: number; seq: number; wake: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((wake) => {
      this.#timers.push({ at: this.#now + ms, seq: this.#seq++, wake });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    // setImmediate runs after every pending promise reaction: nothing else can happen before this wake-up.
    setImmediate(() => {
      this.#pending = false;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const first = this.#timers.shift();
      if (!first) return;
      this.#now = first.at;
      first.wake();
      if (this.#timers.length > 0) this.#schedule();
    });
  }
}
