import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object a per-request hash would allocate. */
export function sha256Hex(data: string | Uint8Array): string {
  return typeof data === 'string' ? hash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

const hmac = (key: Uint8Array | string, data: string) => createHmac('sha256', key).update(data).digest();

// Four HMACs per request add up at tens of thousands of requests a second; the key only
// changes with the date, so it is derived once per (secret, date, region, service).
const signingKeys = new Map<string, Uint8Array>();
const MAX_CACHED_KEYS = 1024;

/** SigV4's derived key: HMAC chain over date (YYYYMMDD), region, service and `aws4_request`. */
export function signingKey(secret: string, date: string, region: string, service: string): Uint8Array {
  const id = `${date}\n${region}\n${service}\n${secret}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    if (signingKeys.size >= MAX_CACHED_KEYS) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * Whether `provided` (hex, either case) is the HMAC-SHA256 of `data` under `key`, compared in
 * constant time as bytes: no hex string is made of the computed one, nor a lower-cased copy of
 * the provided one. Anything that is not 64 hex digits decodes short and simply differs.
 */
export function hmacMatches(key: Uint8Array, data: string, provided: string): boolean {
  if (provided.length !== 64) return false;
  const expected = Buffer.from(provided, 'hex');
  return expected.length === 32 && timingSafeEqual(createHmac('sha256', key).update(data).digest(), expected);
}

/**
 * Compares a computed hex signature with a provided one in constant time. Both are compared as
 * 64 ASCII characters (the provided one lower-cased), so no hex parsing is needed: anything that
 * is not the same lower-case hex simply differs.
 */
export function signaturesEqual(computed: string, provided: string): boolean {
  if (provided.length !== computed.length) return false;
  return timingSafeEqual(Buffer.from(computed, 'latin1'), Buffer.from(provided.toLowerCase(), 'latin1'));
}
