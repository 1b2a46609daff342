import { KvError } from './errors.js';
import { MAX_EXPIRY_MS } from './paths.js';

/** Object metadata (x-amz-meta-*) holding an entry's expiry (write ids: write-id.ts). */
export const EXPIRES_META = 'kv-expires';

/** Milliseconds since the epoch; injected so tests move time instead of sleeping. */
export type Clock = () => number;

/** The absolute expiry of a write with `ttlSeconds`, validated. */
export function expiryFromTtl(now: number, ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new KvError('InvalidArgument', `ttlSeconds must be a positive number, got ${String(ttlSeconds)}`);
  }
  const expiresAt = Math.ceil(now + ttlSeconds * 1000);
  if (expiresAt > MAX_EXPIRY_MS) throw new KvError('InvalidArgument', `ttlSeconds ${ttlSeconds} is too far out`);
  return expiresAt;
}

/** The expiry recorded in an object's metadata, if any (a malformed one counts as none). */
export function expiryOf(metadata: Record<string, string>): number | undefined {
  const raw = metadata[EXPIRES_META];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** An entry is expired from its expiry instant on. */
export function isExpired(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt <= now;
}
