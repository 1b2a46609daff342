import { createHash } from 'node:crypto';
import { MAX_KEY_BYTES } from '@bucketdb/store';
import { KvError, show } from './errors.js';
import { decodeKey, encodeKey } from './key-codec.js';

export const LAYOUTS = ['ordered', 'hashed'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Expiry times are 13 decimal digits of milliseconds, so marker order is expiry order (until 2286). */
const EXPIRY_DIGITS = 13;
export const MAX_EXPIRY_MS = 10 ** EXPIRY_DIGITS - 1;
const SHARD_COUNT = 256;
/**
 * TTL markers are spread over 16 prefixes `t0/`…`tf/` by the key's hash: S3 scales request rates
 * per prefix, and markers named by expiry all land at the end of one time-ordered range. Sweeps
 * and keys-only scans list each (17 LISTs with the legacy `t/`, each stopping at the first future
 * marker on a sorted store).
 */
const MARKER_SHARDS = 16;
const encoder = new TextEncoder();

/**
 * The object-key layout of one KV store, and its only owner. With the prefix `app/`:
 *
 * ```
 * app/kv.json                          the layout, written by the first write
 * app/d/!users/!alice                  ordered layout: value of "users/alice"
 * app/h/3f/!users/!alice               hashed layout: shard = first byte of MD5(key) in hex
 * app/t3/1767225600000!users/!alice    TTL marker: expires at that ms (empty body); shard `3` = first hex
 *                                      digit of MD5(key), so markers spread over t0/…tf/
 * app/t/1767225600000!users/!alice     TTL marker written before markers were spread (read, swept)
 * app/l/!jobs/!nightly                 lease "jobs/nightly" (JSON, changed only by CAS, never deleted)
 * app/p/<random>/a                     capability probe (written and deleted by the first scan or sweep)
 * ```
 */
export class KvPaths {
  /** Empty, or ending with `/`. */
  readonly prefix: string;
  readonly layout: Layout;
  readonly manifest: string;
  readonly dataDir: string;
  /** Where markers lived before they were spread (still listed, so older markers are swept). */
  readonly legacyTtlDir: string;
  /** Every prefix holding TTL markers: the legacy one first, then the 16 shards. */
  readonly ttlDirs: readonly string[];
  readonly leaseDir: string;
  readonly probeDir: string;
  /** Bytes left for an encoded key: the TTL marker is the longest object written for a key. */
  readonly maxEncodedKeyBytes: number;

  /**
   * `storeMaxKeyBytes`: the longest key the store takes (S3Store: 1024 less its own prefix). KV
   * keys stay within S3's 1024 bytes even on local stores that take more, so that a store's
   * objects can be copied to S3 as they are.
   */
  constructor(prefix: string, layout: Layout, storeMaxKeyBytes = MAX_KEY_BYTES) {
    if (prefix.startsWith('/')) {
      throw new KvError('InvalidArgument', `a KV prefix must not start with "/": ${show(prefix)}`);
    }
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.layout = layout;
    this.manifest = `${this.prefix}kv.json`;
    this.dataDir = `${this.prefix}${layout === 'ordered' ? 'd' : 'h'}/`;
    this.legacyTtlDir = `${this.prefix}t/`;
    this.ttlDirs = [
      this.legacyTtlDir,
      ...Array.from({ length: MARKER_SHARDS }, (_, i) => `${this.prefix}t${i.toString(16)}/`),
    ];
    this.leaseDir = `${this.prefix}l/`;
    this.probeDir = `${this.prefix}p/`;
    const budget = Math.min(MAX_KEY_BYTES, storeMaxKeyBytes);
    this.maxEncodedKeyBytes = budget - encoder.encode(`${this.prefix}t0/`).length - EXPIRY_DIGITS;
    if (this.maxEncodedKeyBytes < 64) {
      throw new KvError('InvalidArgument', `the prefix ${show(prefix)} leaves too little room for keys`);
    }
  }

  /** Encodes `key`, checking that every object written for it fits S3's key limit. */
  encode(key: string): string {
    const encoded = encodeKey(key);
    const bytes = encoder.encode(encoded).length;
    if (bytes > this.maxEncodedKeyBytes) {
      throw new KvError(
        'KeyTooLong',
        `key ${show(key)} is ${bytes} bytes encoded; at most ${this.maxEncodedKeyBytes} fit with prefix ${show(this.prefix)}`,
        { key },
      );
    }
    return encoded;
  }

  /** The object holding `key`'s value, from its encoded form. */
  data(encoded: string): string {
    if (this.layout === 'ordered') return `${this.dataDir}${encoded}`;
    return `${this.dataDir}${keyHash(encoded).slice(0, 2)}/${encoded}`;
  }

  /** The LIST prefixes covering every data object, in key order for the ordered layout. */
  shardDirs(): string[] {
    if (this.layout === 'ordered') return [this.dataDir];
    return Array.from({ length: SHARD_COUNT }, (_, i) => `${this.dataDir}${i.toString(16).padStart(2, '0')}/`);
  }

  /** The encoded key of a listed data object under `dir`, or undefined for a foreign object. */
  keyOf(path: string, dir: string): string | undefined {
    return path.startsWith(dir) ? decodeKey(path.slice(dir.length)) : undefined;
  }

  /** The object of the lease named `name` (a user key, encoded like one). */
  lease(name: string): string {
    return `${this.leaseDir}${this.encode(name)}`;
  }

  ttlMarker(expiresAtMs: number, encoded: string): string {
    const shard = keyHash(encoded).slice(0, 1);
    return `${this.prefix}t${shard}/${String(expiresAtMs).padStart(EXPIRY_DIGITS, '0')}${encoded}`;
  }

  /** Parses a TTL marker listed under one of `ttlDirs`; undefined for a foreign object. */
  parseTtlMarker(path: string): { expiresAtMs: number; encoded: string; key: string } | undefined {
    const dir = this.ttlDirs.find((d) => path.startsWith(d));
    if (dir === undefined) return undefined;
    const rest = path.slice(dir.length);
    const digits = rest.slice(0, EXPIRY_DIGITS);
    if (!/^\d{13}$/.test(digits)) return undefined;
    const encoded = rest.slice(EXPIRY_DIGITS);
    const key = decodeKey(encoded);
    return key === undefined ? undefined : { expiresAtMs: Number(digits), encoded, key };
  }
}

/** MD5 of an encoded key in hex: spreads keys (hashed layout) and TTL markers over prefixes. */
function keyHash(encoded: string): string {
  return createHash('md5').update(encoded).digest('hex');
}
