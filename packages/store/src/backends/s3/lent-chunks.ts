/**
 * The key of a response body's lent chunks: `body[LENT_CHUNKS]()` iterates the body as views of
 * its connection's one read buffer, each valid only until the next is asked for (lending-get.ts).
 */
export const LENT_CHUNKS = Symbol('bucketdb.lentChunks');

interface Lending {
  [LENT_CHUNKS](): AsyncIterable<Uint8Array>;
}

/** The body's chunks as lent ones, when it can hand them out that way. */
export function lentChunksOf(body: unknown): AsyncIterable<Uint8Array> | undefined {
  return typeof (body as Partial<Lending> | undefined)?.[LENT_CHUNKS] === 'function'
    ? (body as Lending)[LENT_CHUNKS]()
    : undefined;
}
