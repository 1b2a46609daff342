import type { Clock } from '../../latency-clock.js';
import type { RateLimit } from './latency-profiles.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per prefix and direction: each holds one second's worth of requests and refills
 * continuously, which is how S3 answers a burst above its per-prefix rate with 503 SlowDown.
 */
export class PrefixRateLimiter {
  readonly #limit: RateLimit;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, clock: Clock) {
    this.#limit = limit;
    this.#clock = clock;
  }

  prefixOf(key: string): string {
    return this.#limit.prefixOf ? this.#limit.prefixOf(key) : key.slice(0, key.lastIndexOf('/') + 1);
  }

  /** Takes one request's token; false when the prefix is over its rate. */
  take(direction: 'read' | 'write', key: string): boolean {
    const rate = direction === 'read' ? this.#limit.readsPerSecond : this.#limit.writesPerSecond;
    const id = `${direction}:${this.prefixOf(key)}`;
    const now = this.#clock.now();
    const bucket = this.#buckets.get(id) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    this.#buckets.set(id, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
