import { InvalidArgumentError, ThrottledError } from '../../errors.js';
import { type Clock, realClock } from '../../latency-clock.js';
import { LATENCY_PROFILES, type LatencyProfile, requestClassOf, sampleLatencyMs } from './latency-profiles.js';
import { PrefixRateLimiter } from './latency-throttle.js';
import type { ObjectStore, PutBody } from '../../object-store.js';
import { type Random, seededRandom } from '../../random.js';
import { type StoreCall, WrappedStore } from '../wrapped-store.js';

export interface LatencyOptions {
  /** Seed of the latency samples (default 0): the same seed and requests give the same delays. */
  seed?: number | string;
  clock?: Clock;
  /** Answer requests above the profile's per-prefix rate with ThrottledError, as S3 does with 503. */
  throttle?: boolean;
}

/**
 * Makes a store as slow as a remote one: each request waits a first-byte latency drawn from the
 * profile, half before it reaches the inner store and half after (so a write takes effect inside
 * its interval, as on a real server), and bodies flow at the profile's throughput.
 */
export class LatencyStore extends WrappedStore {
  readonly profile: LatencyProfile;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #limiter: PrefixRateLimiter | undefined;

  constructor(inner: ObjectStore, profile: LatencyProfile, options: LatencyOptions = {}) {
    super(inner);
    this.profile = profile;
    this.#clock = options.clock ?? realClock;
    this.#random = seededRandom(options.seed ?? 0);
    if (options.throttle && profile.rateLimit) this.#limiter = new PrefixRateLimiter(profile.rateLimit, this.#clock);
  }

  protected async around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    const cls = requestClassOf(call.op);
    if (this.#limiter && !this.#limiter.take(cls === 'write' ? 'write' : 'read', call.key)) {
      const prefix = this.#limiter.prefixOf(call.key);
      throw new ThrottledError(`request rate above ${this.profile.name}'s limit for prefix ${JSON.stringify(prefix)}`, {
        key: call.key,
      });
    }
    const transferMs = call.bytes === undefined ? 0 : this.#transferMs(call.bytes);
    const half = (sampleLatencyMs(this.profile.firstByte[cls], this.#random) + transferMs) / 2;
    await this.#clock.sleep(half);
    try {
      return await run();
    } finally {
      await this.#clock.sleep(half);
    }
  }

  protected override requestBody(call: StoreCall, body: PutBody): PutBody {
    // A body of known size was paid for up front in `around`.
    return call.bytes === undefined ? this.#pace(body as AsyncIterable<Uint8Array>) : body;
  }

  protected override responseBody(_call: StoreCall, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return this.#pace(body);
  }

  async *#pace(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      await this.#clock.sleep(this.#transferMs(chunk.length));
      yield chunk;
    }
  }

  #transferMs(bytes: number): number {
    return (bytes / this.profile.bytesPerSecond) * 1000;
  }
}

export function latency(
  store: ObjectStore,
  profile: LatencyProfile | keyof typeof LATENCY_PROFILES,
  options: LatencyOptions = {},
): LatencyStore {
  const resolved = typeof profile === 'string' ? LATENCY_PROFILES[profile] : profile;
  if (!resolved) {
    const known = Object.keys(LATENCY_PROFILES).join(', ');
    throw new InvalidArgumentError(`unknown latency profile ${JSON.stringify(profile)} (known: ${known})`);
  }
  return new LatencyStore(store, resolved, options);
}
