import { randomUUID } from 'node:crypto';
import { isStoreError, type ObjectStore } from '@bucketdb/store';

/**
 * The commit protocol of s3db, written here as the baseline: read the manifest (GET, keeping its
 * ETag), upload the changeset (PUT), then swap the manifest with If-Match (PUT). A 412 means
 * another writer won: start over. Only write-write conflicts on the manifest are detected.
 */
export class ManifestSwapLog {
  readonly #store: ObjectStore;
  attempts = 0;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  async commit(changeset: Uint8Array): Promise<number> {
    for (;;) {
      this.attempts++;
      let version = 0;
      let etag: string | undefined;
      try {
        const got = await this.#store.get('manifest');
        version = (JSON.parse(new TextDecoder().decode(got.body)) as { version: number }).version;
        etag = got.etag;
      } catch (error) {
        if (!isStoreError(error, 'NotFound')) throw error;
      }
      const key = `changesets/${randomUUID()}`;
      await this.#store.put(key, changeset);
      const manifest = JSON.stringify({ version: version + 1, last: key });
      try {
        await this.#store.put('manifest', manifest, etag ? { ifMatch: etag } : { ifNoneMatch: '*' });
        return version + 1;
      } catch (error) {
        if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'ConflictInFlight')) throw error;
      }
    }
  }
}
