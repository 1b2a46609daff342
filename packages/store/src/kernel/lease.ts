import { randomBytes } from 'node:crypto';
import { bodyText } from '../body.js';
import { InvalidArgumentError, isStoreError } from '../errors.js';
import type { GetResult, ObjectStore } from '../object-store.js';
import { CodedError } from './coded-error.js';
import { compareAndSwap } from './compare-and-swap.js';
import { retry } from './retry.js';

/**
 * - `LeaseHeld`: another holder's lease is live (or within the clock-skew margin after its expiry).
 * - `LeaseLost`: the lease being renewed or released is no longer this grant's: it expired by the
 *   holder's own clock, or another holder took it over. Stop using the protected resource.
 * - `LeaseCorrupt`: the lease object is not a lease this module wrote.
 */
export type LeaseErrorCode = 'LeaseHeld' | 'LeaseLost' | 'LeaseCorrupt';

export class LeaseError extends CodedError<LeaseErrorCode> {
  /** The lease's name. */
  readonly lease: string;
  /** When the current holder's lease ends (for `LeaseHeld`), in ms since the epoch. */
  readonly expiresAt: number | undefined;

  constructor(
    code: LeaseErrorCode,
    name: string,
    message: string,
    options: { expiresAt?: number; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.lease = name;
    this.expiresAt = options.expiresAt;
  }
}

export function isLeaseError(error: unknown, code?: LeaseErrorCode): error is LeaseError {
  return error instanceof LeaseError && (code === undefined || error.code === code);
}

/** A held lease, as `acquire` or `renew` returned it. */
export interface LeaseGrant {
  /** The lease's name (its object key is `prefix + name`). */
  readonly name: string;
  /** Unique to this acquisition; renew and release name it. */
  readonly token: string;
  /**
   * Strictly greater than every fencing token handed out before for this lease name. Pass it to
   * the protected resource, which rejects writes carrying a smaller one than it has seen.
   */
  readonly fencingToken: number;
  /** The holder may act until this instant by its own clock (ms since the epoch), not after. */
  readonly validUntil: number;
  /** The lease object's version this grant wrote (internal: the condition of the next renew). */
  readonly version: string;
}

export interface LeaseOptions {
  /** Where lease objects live in the store (default `leases/`). */
  prefix?: string;
  /** The object key of a lease name (default `prefix + name`); e.g. KV encodes names as its keys. */
  keyOf?: (name: string) => string;
  /** Wall-clock milliseconds since the epoch (default `Date.now`); decides expiry. */
  clock?: () => number;
  /**
   * The most two participants' clocks may disagree, in ms (default 1000). A contender takes an
   * expired lease only once its clock is this far past the expiry, so a holder whose clock runs
   * up to this much slower still sees its own lease end first.
   */
  maxClockSkewMs?: number;
}

interface LeaseState {
  format: 'bucketdb-lease';
  token: string;
  fencingToken: number;
  expiresAt: number;
  released: boolean;
  holder?: string;
  /** Fresh on every write, so every write has its own ETag even at an unchanged clock (no ABA). */
  writeId: string;
}

const newId = () => randomBytes(12).toString('base64url');

/**
 * Leases on an object store: one JSON object per lease name, changed only by compare-and-swap on
 * its ETag. Guarantees (docs/design/kv.md, "Leases"), assuming participants' wall clocks differ by
 * at most `maxClockSkewMs` and a holder stops acting at `validUntil`:
 *
 * - Mutual exclusion: no two grants' validity intervals overlap. A lease passes to a new holder only
 *   by a CAS on the exact object the old holder last wrote, and only when it was released or its
 *   expiry plus the skew margin has passed by the contender's clock; every write has a fresh write
 *   id, so a version never repeats and a stale condition never matches a newer object.
 * - Fencing tokens only increase: each acquisition writes the previous object's token plus one,
 *   under the same CAS. A holder paused past `validUntil` (GC, a stopped VM) can still act late;
 *   fencing tokens are what lets the resource refuse it. Lease objects must never be deleted (that
 *   would restart the tokens at 1).
 * - Unknown outcomes (a timeout, a 5xx) are resolved by the kernel's compareAndSwap reading back
 *   the write id; one it cannot decide is reported as not acquired / lost, which is always safe.
 */
export class Leases {
  readonly #store: ObjectStore;
  readonly #keyOf: (name: string) => string;
  readonly #clock: () => number;
  readonly #skew: number;

  constructor(store: ObjectStore, options: LeaseOptions = {}) {
    this.#store = store;
    const prefix = options.prefix ?? 'leases/';
    this.#keyOf = options.keyOf ?? ((name) => `${prefix}${name}`);
    this.#clock = options.clock ?? Date.now;
    this.#skew = options.maxClockSkewMs ?? 1000;
    if (!(Number.isFinite(this.#skew) && this.#skew >= 0)) {
      throw new InvalidArgumentError(`maxClockSkewMs must be a non-negative number, got ${String(this.#skew)}`);
    }
  }

  /** The object key of a lease. */
  keyOf(name: string): string {
    if (typeof name !== 'string' || name === '')
      throw new InvalidArgumentError('a lease name must be a non-empty string');
    return this.#keyOf(name);
  }

  /**
   * Takes the lease for `ttlMs` if it is free (never taken, released, or expired past the skew
   * margin). Throws `LeaseHeld` when another holder has it. Two requests: a GET and a conditional PUT.
   */
  async acquire(name: string, options: { ttlMs: number; holder?: string; signal?: AbortSignal }): Promise<LeaseGrant> {
    const key = this.keyOf(name);
    checkTtl(options.ttlMs);
    // Bounded: each lap means another client changed the lease between our read and our write.
    for (let lap = 0; lap < 8; lap++) {
      const start = this.#clock();
      const current = await this.#read(key, name, options.signal);
      const state = current?.state;
      if (state !== undefined && !state.released && start < state.expiresAt + this.#skew) {
        throw new LeaseError(
          'LeaseHeld',
          name,
          `lease ${JSON.stringify(name)} is held until ${new Date(state.expiresAt).toISOString()}`,
          {
            expiresAt: state.expiresAt,
          },
        );
      }
      const next: LeaseState = {
        format: 'bucketdb-lease',
        token: newId(),
        fencingToken: (state?.fencingToken ?? 0) + 1,
        expiresAt: start + options.ttlMs,
        released: false,
        ...(options.holder === undefined ? {} : { holder: options.holder }),
        writeId: newId(),
      };
      const version = await this.#swap(key, current?.etag ?? null, next, options.signal);
      if (version !== undefined) return grant(name, next, version);
    }
    throw new LeaseError('LeaseHeld', name, `lease ${JSON.stringify(name)} kept changing while acquiring it`);
  }

  /**
   * Extends a held lease to `ttlMs` from now (never shortens it). Throws `LeaseLost` if the grant has expired by this
   * clock or the lease is no longer this grant's. Two requests.
   */
  async renew(held: LeaseGrant, options: { ttlMs: number; signal?: AbortSignal }): Promise<LeaseGrant> {
    const key = this.keyOf(held.name);
    checkTtl(options.ttlMs);
    const start = this.#clock();
    if (start >= held.validUntil) throw lost(held, 'it expired before the renewal');
    const current = await this.#read(key, held.name, options.signal);
    const state = current?.state;
    if (current === undefined || state === undefined || state.token !== held.token || state.released) {
      throw lost(held, 'another holder took it over');
    }
    // Never shortens: until the renewal returns, the holder still acts on its old validUntil.
    const next: LeaseState = {
      ...state,
      expiresAt: Math.max(state.expiresAt, start + options.ttlMs),
      writeId: newId(),
    };
    const version = await this.#swap(key, current.etag, next, options.signal);
    if (version === undefined) throw lost(held, 'another holder took it over');
    return grant(held.name, next, version);
  }

  /**
   * Gives the lease up at once (the next acquire need not wait for expiry). Stop acting first.
   * Returns false when it was no longer this grant's (expired and taken over): nothing to release.
   */
  async release(held: LeaseGrant, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const key = this.keyOf(held.name);
    for (let lap = 0; lap < 8; lap++) {
      const current = await this.#read(key, held.name, options.signal);
      const state = current?.state;
      if (current === undefined || state === undefined || state.token !== held.token || state.released) return false;
      const next: LeaseState = { ...state, released: true, writeId: newId() };
      if ((await this.#swap(key, current.etag, next, options.signal)) !== undefined) return true;
    }
    throw lost(held, 'the lease kept changing while releasing it');
  }

  /** The lease as stored: holder, fencing token, expiry; undefined if it was never taken. */
  async inspect(name: string): Promise<Omit<LeaseState, 'format' | 'writeId'> | undefined> {
    const current = await this.#read(this.keyOf(name), name);
    if (current?.state === undefined) return undefined;
    const { format: _format, writeId: _writeId, ...visible } = current.state;
    return visible;
  }

  async #read(
    key: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<{ etag: string; state: LeaseState } | undefined> {
    // A read changes nothing: retried after throttling and transient failures.
    const result = await retry(
      async (): Promise<GetResult | undefined> => {
        try {
          return await this.#store.get(key, signal ? { signal } : {});
        } catch (error) {
          if (isStoreError(error, 'NotFound')) return undefined;
          throw error;
        }
      },
      signal ? { signal } : {},
    );
    return result === undefined ? undefined : { etag: result.etag, state: parseState(name, result.body) };
  }

  /** CAS of the lease object; the new version, or undefined if we did not (or may not) win. */
  async #swap(
    key: string,
    expected: string | null,
    next: LeaseState,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    try {
      const outcome = await compareAndSwap(this.#store, key, JSON.stringify(next), {
        expected,
        contentType: 'application/json',
        isOurs: (current) => {
          try {
            return parseState('', current.body).writeId === next.writeId;
          } catch {
            return false;
          }
        },
        ...(signal ? { signal } : {}),
      });
      return outcome.swapped ? outcome.etag : undefined;
    } catch (error) {
      // Ours may have landed and been replaced: either way it is not ours now.
      if (isStoreError(error, 'AmbiguousWrite')) return undefined;
      throw error;
    }
  }
}

function grant(name: string, state: LeaseState, version: string): LeaseGrant {
  return { name, token: state.token, fencingToken: state.fencingToken, validUntil: state.expiresAt, version };
}

function lost(held: LeaseGrant, why: string): LeaseError {
  return new LeaseError('LeaseLost', held.name, `lease ${JSON.stringify(held.name)} is lost: ${why}`);
}

function checkTtl(ttlMs: number): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new InvalidArgumentError(`ttlMs must be a positive number, got ${String(ttlMs)}`);
  }
}

function parseState(name: string, body: Uint8Array): LeaseState {
  let state: Partial<LeaseState>;
  try {
    state = JSON.parse(bodyText(body)) as Partial<LeaseState>;
  } catch (cause) {
    throw new LeaseError('LeaseCorrupt', name, `lease ${JSON.stringify(name)} is not JSON`, { cause });
  }
  if (
    state.format !== 'bucketdb-lease' ||
    typeof state.token !== 'string' ||
    !Number.isSafeInteger(state.fencingToken) ||
    typeof state.expiresAt !== 'number' ||
    typeof state.released !== 'boolean' ||
    typeof state.writeId !== 'string'
  ) {
    throw new LeaseError('LeaseCorrupt', name, `lease ${JSON.stringify(name)} is not a bucketdb lease object`);
  }
  return state as LeaseState;
}
