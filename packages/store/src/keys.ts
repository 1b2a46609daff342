import { createHash } from 'node:crypto';
import { InvalidKeyError } from './errors.js';

/** S3's limit: a key is 1 to 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** What the local backends (memory, file) accept: room for a layout's prefix before any S3 key. */
export const LOCAL_MAX_KEY_BYTES = 2048;

const encoder = new TextEncoder();

/** Throws InvalidKeyError unless `key` is a valid S3 object key. */
export function validateKey(key: string, maxBytes: number = MAX_KEY_BYTES): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(String(key), 'a key must be a non-empty string');
  }
  if (!key.isWellFormed()) {
    throw new InvalidKeyError(key, 'a key must be valid Unicode (it contains a lone surrogate)');
  }
  const bytes = encoder.encode(key).length;
  if (bytes > maxBytes) {
    throw new InvalidKeyError(key, `a key is at most ${maxBytes} bytes of UTF-8 here, this one is ${bytes}`);
  }
}

/**
 * Orders keys as S3 lists them: by UTF-8 bytes, which is code-point order. Plain `<` on JS strings
 * compares UTF-16 code units and puts U+E000..U+FFFF after astral characters; this does not.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800) ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
    if (cb >= 0xd800) cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    return ca - cb;
  }
  return a.length - b.length;
}

/** `"abc"`, `abc` and `W/"abc"` all normalize to `abc`. */
export function bareEtag(etag: string): string {
  let e = etag.trim();
  if (e.startsWith('W/')) e = e.slice(2);
  if (e.length >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.slice(1, -1);
  return e;
}

export function quoteEtag(etag: string): string {
  return `"${bareEtag(etag)}"`;
}

export function etagsEqual(a: string, b: string): boolean {
  return bareEtag(a) === bareEtag(b);
}

/** The ETag S3 gives a single-part object: the quoted MD5 of its content. */
export function md5Etag(body: Uint8Array): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}
