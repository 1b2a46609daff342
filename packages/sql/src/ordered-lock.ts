/**
 * A lock granted in ticket order: each call on a Database takes a ticket when it is issued and
 * holds it across its retries, so calls are applied in the order issued even when one of them has
 * to run again. A call about to retry `reserve`s its ticket: no later ticket is granted until it
 * has run again (or given up with `unreserve`). Ticket 0 (the publisher) goes before every call.
 */
export class OrderedLock {
  #next = 1;
  #held = false;
  readonly #waiters: { ticket: number; grant: (release: () => void) => void; passReserved: boolean }[] = [];
  readonly #reserved = new Set<number>();

  /** A new ticket, later than every ticket handed out before. */
  ticket(): number {
    return this.#next++;
  }

  /** Keeps every later ticket waiting until `ticket` acquires the lock (or is unreserved). */
  reserve(ticket: number): void {
    this.#reserved.add(ticket);
  }

  /** How many callers are waiting for the lock. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Whether a call issued before `ticket` is reserved to run again (the holder of `ticket` must step back). */
  reservedBefore(ticket: number): boolean {
    for (const r of this.#reserved) if (r < ticket) return true;
    return false;
  }

  unreserve(ticket: number): void {
    if (this.#reserved.delete(ticket)) this.#grant();
  }

  /**
   * Waits for the lock; call the returned function to release it. `passReserved`: not held back
   * by reserved tickets (the publisher, which goes after the calls queued before it but does not
   * wait for calls backing off before they run again).
   */
  acquire(ticket = this.ticket(), passReserved = false, signal?: AbortSignal): Promise<() => void> {
    this.#reserved.delete(ticket);
    return new Promise((grant, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let i = this.#waiters.length;
      while (i > 0 && (this.#waiters[i - 1] as { ticket: number }).ticket > ticket) i--;
      const waiter = { ticket, grant, passReserved };
      this.#waiters.splice(i, 0, waiter);
      if (signal) {
        // An aborted wait leaves the queue; the lock was never held, so nothing is half done.
        const onAbort = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at < 0) return;
          this.#waiters.splice(at, 1);
          reject(signal.reason);
          this.#grant();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.grant = (release) => {
          signal.removeEventListener('abort', onAbort);
          grant(release);
        };
      }
      this.#grant();
    });
  }

  async run<T>(task: () => Promise<T> | T, ticket?: number): Promise<T> {
    const release = await this.acquire(ticket);
    try {
      return await task();
    } finally {
      release();
    }
  }

  #grant(): void {
    const first = this.#waiters[0];
    if (this.#held || !first) return;
    if (!first.passReserved) for (const r of this.#reserved) if (r < first.ticket) return;
    this.#waiters.shift();
    this.#held = true;
    let released = false;
    first.grant(() => {
      if (released) return;
      released = true;
      this.#held = false;
      this.#grant();
    });
  }
}
