import { AmbiguousWriteError, InvalidArgumentError, TransientError } from '../../errors.js';
import { type Clock, realClock } from '../../latency-clock.js';
import type { ObjectStore } from '../../object-store.js';
import { type Random, seededRandom } from '../../random.js';
import { type StoreCall, type StoreOp, WrappedStore } from '../wrapped-store.js';

/** Probabilities in [0, 1] of each fault, per request. */
export interface FaultRates {
  /** Fail before the request reaches the store: nothing happened (TransientError). */
  before?: number;
  /** Fail after the store did the request: it happened, the caller sees an error. */
  after?: number;
  /** Add a delay drawn from `delayMs`. */
  delay?: number;
  /** Hold the completion and release it in a shuffled order with the others that complete at the same time. */
  reorder?: number;
}

export interface ChaosOptions {
  seed?: number | string;
  /** Rates for every request... */
  faults?: FaultRates;
  /** ...overridden per operation, e.g. `{ put: { after: 0.2 } }`. */
  ops?: Partial<Record<StoreOp, FaultRates>>;
  /** Range of added delays (default 1 to 50 ms). */
  delayMs?: { min: number; max: number };
  clock?: Clock;
  /** Keep a log of every injected fault in `events` (off by default: it grows without bound). */
  record?: boolean;
}

export type Fault = 'before' | 'after' | 'delay' | 'reorder';

export interface ChaosEvent {
  /** Index of the request among all requests this store received. */
  seq: number;
  op: StoreOp;
  key: string;
  fault: Fault;
}

/**
 * Seeded fault injection. Each request draws the same number of random values whatever happens
 * to it, so the faults of request N depend only on the seed and N: a run replays from its seed.
 */
export class ChaosStore extends WrappedStore {
  readonly counts: Record<Fault, number> = { before: 0, after: 0, delay: 0, reorder: 0 };
  readonly events: ChaosEvent[] = [];
  readonly #options: ChaosOptions;
  readonly #random: Random;
  readonly #shuffle: Random;
  readonly #clock: Clock;
  #seq = 0;
  #held: (() => void)[] = [];

  constructor(inner: ObjectStore, options: ChaosOptions = {}) {
    super(inner);
    for (const rates of [options.faults, ...Object.values(options.ops ?? {})]) {
      for (const [name, p] of Object.entries(rates ?? {})) {
        if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`chaos rate ${name} must lie in [0, 1], got ${p}`);
      }
    }
    this.#options = options;
    this.#random = seededRandom(options.seed ?? 0);
    // Shuffles draw from their own stream: how many completions coincide may vary, request faults must not.
    this.#shuffle = this.#random.fork('reorder');
    this.#clock = options.clock ?? realClock;
  }

  protected async around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    const seq = this.#seq++;
    const rates = { ...this.#options.faults, ...this.#options.ops?.[call.op] };
    const [b, a, d, r, amount] = [1, 2, 3, 4, 5].map(() => this.#random.next()) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const fault = (kind: Fault) => {
      this.counts[kind]++;
      if (this.#options.record) this.events.push({ seq, op: call.op, key: call.key, fault: kind });
    };
    if (b < (rates.before ?? 0)) {
      fault('before');
      throw new TransientError(`chaos: ${call.op} ${JSON.stringify(call.key)} failed before reaching the store`, {
        key: call.key,
      });
    }
    if (d < (rates.delay ?? 0)) {
      fault('delay');
      const { min, max } = this.#options.delayMs ?? { min: 1, max: 50 };
      await this.#clock.sleep(min + amount * (max - min));
    }
    const outcome = await settle(run);
    if (outcome.ok && a < (rates.after ?? 0)) {
      fault('after');
      await discard(outcome.value);
      const injected = new TransientError(`chaos: ${call.op} ${JSON.stringify(call.key)} happened, then failed`, {
        key: call.key,
      });
      throw call.conditional ? new AmbiguousWriteError(call.key, { cause: injected }) : injected;
    }
    if (r < (rates.reorder ?? 0)) {
      fault('reorder');
      await this.#hold();
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Waits until the completions of this turn of the event loop are released, in a seeded order. */
  #hold(): Promise<void> {
    return new Promise((release) => {
      this.#held.push(release);
      if (this.#held.length > 1) return;
      setImmediate(() => {
        const held = this.#held;
        this.#held = [];
        for (let i = held.length - 1; i > 0; i--) {
          const j = this.#shuffle.int(i + 1);
          [held[i], held[j]] = [held[j] as () => void, held[i] as () => void];
        }
        for (const next of held) next();
      });
    });
  }
}

export function chaos(store: ObjectStore, options?: ChaosOptions): ChaosStore {
  return new ChaosStore(store, options);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function settle<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Reads and drops the body of a result the caller will never see, so its file or socket is released. */
async function discard(value: unknown): Promise<void> {
  const body = (value as { body?: unknown } | undefined)?.body;
  if (body && typeof body === 'object' && Symbol.asyncIterator in body) {
    for await (const _ of body as AsyncIterable<Uint8Array>);
  }
}
