import type { RecordedEvent } from './types.js';

/**
 * A running subscription: iterate it for events (`for await`); `close()` ends the iteration after
 * the event being delivered (a poll wait is cut short). Resume later from the last event's
 * position (or revision, for a stream subscription).
 */
export class Subscription implements AsyncIterable<RecordedEvent>, AsyncDisposable {
  readonly #abort = new AbortController();
  readonly #events: AsyncGenerator<RecordedEvent>;
  #markStarted!: () => void;
  /**
   * Settles once iteration has begun and the starting point is fixed (for 'end': the tail then);
   * every event appended after this is delivered.
   */
  readonly started: Promise<void> = new Promise((resolve) => {
    this.#markStarted = resolve;
  });

  constructor(run: (signal: AbortSignal, started: () => void) => AsyncGenerator<RecordedEvent>) {
    this.#events = run(this.#abort.signal, () => this.#markStarted());
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.#events;
  }

  async close(): Promise<void> {
    this.#abort.abort();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
