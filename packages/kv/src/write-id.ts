import { randomBytes } from 'node:crypto';
import { concatBytes } from '@bucketdb/store';

/** Object metadata (x-amz-meta-*) naming the write that produced an object, and the one it replaced. */
export const WRITE_ID_META = 'kv-write';
export const PREV_WRITE_META = 'kv-prev';

/** 12 random bytes in base64url: 16 ASCII characters. */
export const WRITE_ID_CHARS = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A fresh write id. Random, not injected: it must be unique across processes, whatever their seeds. */
export function newWriteId(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * The stored body: the value followed by its write id. S3's ETag is the MD5 of the body, so two
 * writes of the same value would otherwise share a version (the ABA of docs/design/kv.md,
 * "Versions"); with the id inside, every write has its own ETag and a condition names one write.
 */
export function sealBody(value: Uint8Array, writeId: string): Uint8Array {
  return concatBytes([value, encoder.encode(writeId)]);
}

/**
 * The value of a stored body: without its write-id suffix when the metadata names one and the body
 * ends with it (objects from other tools, and format-1 KV objects, are returned as they are).
 */
export function unsealBody(body: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const id = metadata[WRITE_ID_META];
  if (id === undefined || id.length !== WRITE_ID_CHARS || body.length < WRITE_ID_CHARS) return body;
  const tail = decoder.decode(body.subarray(body.length - WRITE_ID_CHARS));
  return tail === id ? body.subarray(0, body.length - WRITE_ID_CHARS) : body;
}
