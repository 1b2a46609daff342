import type { ObjectStore, PutOptions, PutResult } from './object-store.js';

/**
 * Making an object of other objects' bytes, in order, without moving the bytes through the
 * caller: an optional capability beside the `ObjectStore` contract, for stores that can do it
 * cheaper than a streamed put (FileStore: the sources' files become the object's data, no byte
 * is copied or hashed again). A server completing a multipart upload uses it where offered and
 * streams the parts into a put elsewhere. `compositionOf` finds it through wrappers.
 *
 * Each source must still have its ETag (PreconditionFailed otherwise, NotFound when missing).
 * The sources stay as they are and may be deleted afterwards; the object keeps its bytes. The
 * object's ETag is `options.etag` (the caller's, e.g. a multipart ETag), and `options` are a
 * put's: conditions, metadata, content type. Atomic like a put: readers see the old object or
 * the whole new one.
 */
export interface Composition {
  compose(key: string, sources: readonly ComposeSource[], options: ComposeOptions): Promise<PutResult>;
}

export interface ComposeSource {
  key: string;
  etag: string;
}

export interface ComposeOptions extends PutOptions {
  etag: string;
}

export interface CompositionCapable {
  composition(): Composition | undefined;
}

/** The store's composition capability, or undefined when it has none. */
export function compositionOf(store: ObjectStore): Composition | undefined {
  const capable = store as Partial<CompositionCapable>;
  return typeof capable.composition === 'function' ? capable.composition() : undefined;
}
