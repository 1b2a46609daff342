import type { ChecksumAlgorithm } from './algorithms.js';
import { createHasher } from './hasher.js';

/**
 * Passes a body through while computing its checksum, for bodies that arrive without the one a
 * multipart upload needs (a part sent without it, a copied part). `digest` after the body ends.
 */
export function hashingBody(body: AsyncIterable<Uint8Array>, algorithm: ChecksumAlgorithm) {
  const hasher = createHasher(algorithm);
  async function* pass() {
    for await (const chunk of body) {
      hasher.update(chunk);
      yield chunk;
    }
  }
  return { body: pass(), digest: async () => Buffer.from(await hasher.digest()).toString('base64') };
}
