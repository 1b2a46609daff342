import type { PutBody } from './object-store.js';

const encoder = new TextEncoder();

/** Reads a whole body into one buffer. Use only where the size is known to be small. */
export async function collectBody(body: PutBody): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
  }
  return concatBytes(chunks, size);
}

export function concatBytes(chunks: Uint8Array[], size = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Yields a buffer as a stream of chunks, for callers of `getStream` on in-memory data. */
export async function* bytesToStream(bytes: Uint8Array, chunkSize = 1 << 20): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    yield bytes.subarray(offset, offset + chunkSize);
  }
}

export function bodyText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
