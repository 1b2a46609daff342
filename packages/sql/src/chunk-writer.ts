import { concatBytes, type ObjectStore } from '@bucketdb/store';
import type { ChunkRef } from './checkpoint-format.js';
import { type PackedPage, packPage } from './page-codec.js';

/**
 * Packs page images, in the order given, into chunk objects of about `chunkBytes` compressed
 * bytes, uploading each as it fills (a few uploads in flight). Returns where each page went.
 */
export class ChunkWriter {
  readonly #store: ObjectStore;
  readonly #keyOf: (n: number) => string;
  readonly #chunkBytes: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #parts: Uint8Array[] = [];
  #size = 0;
  #n = 0;
  #failed: unknown;

  constructor(store: ObjectStore, keyOf: (n: number) => string, chunkBytes: number) {
    this.#store = store;
    this.#keyOf = keyOf;
    this.#chunkBytes = chunkBytes;
  }

  add(image: Uint8Array): Promise<ChunkRef> {
    return this.addPacked(packPage(image));
  }

  /** A page already compressed (restore copies stored pages as they are). */
  async addPacked(packed: PackedPage): Promise<ChunkRef> {
    if (this.#failed) throw this.#failed;
    const ref = { key: this.#keyOf(this.#n), offset: this.#size, length: packed.bytes.length, crc: packed.crc };
    this.#parts.push(packed.bytes);
    this.#size += packed.bytes.length;
    if (this.#size >= this.#chunkBytes) await this.#flush();
    return ref;
  }

  /** Uploads the last chunk and waits for every upload. */
  async finish(): Promise<void> {
    await this.#flush();
    await Promise.all(this.#inFlight);
    if (this.#failed) throw this.#failed;
  }

  async #flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const body = concatBytes(this.#parts, this.#size);
    const put = this.#store.put(this.#keyOf(this.#n++), body).catch((error: unknown) => {
      this.#failed ??= error;
    });
    this.#parts = [];
    this.#size = 0;
    this.#inFlight.add(put);
    void put.finally(() => this.#inFlight.delete(put));
    if (this.#inFlight.size >= 4) await Promise.race(this.#inFlight);
  }
}
