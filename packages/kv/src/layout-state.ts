import type { ObjectStore } from '@bucketdb/store';
import { checkLayout, readLayout, recordLayout } from './manifest.js';
import { KvPaths, type Layout } from './paths.js';
import { retrying } from './retrying.js';

/**
 * Which layout a KvStore uses, until and after `kv.json` records one. A store opened before its
 * first write does not know the layout yet: each read looks at `kv.json` again (one GET) until it
 * exists, and a write records ours or, when the caller did not ask for one, follows the recorded
 * one. A layout asked for explicitly that differs from the recorded one is `LayoutMismatch`.
 */
export class LayoutState {
  readonly #store: ObjectStore;
  readonly #explicit: boolean;
  #paths: KvPaths;
  /** Settled once `kv.json` is known to name `#paths.layout`. */
  #recorded: Promise<void> | undefined;

  constructor(store: ObjectStore, paths: KvPaths, explicit: boolean, recorded: boolean) {
    this.#store = store;
    this.#paths = paths;
    this.#explicit = explicit;
    if (recorded) this.#recorded = Promise.resolve();
  }

  get paths(): KvPaths {
    return this.#paths;
  }

  /** Before a read: follow a layout recorded since open. */
  async beforeRead(): Promise<void> {
    if (this.#recorded !== undefined) return this.#recorded;
    const recorded = await readLayout(this.#store, this.#paths.manifest);
    if (recorded !== undefined && this.#recorded === undefined) {
      this.#follow(recorded);
      this.#recorded = Promise.resolve();
    }
  }

  /** Before a write: the layout file exists and names the layout this store writes. */
  beforeWrite(): Promise<void> {
    if (this.#recorded === undefined) {
      const wanted = this.#paths.layout;
      this.#recorded = retrying('writing the layout file', () =>
        recordLayout(this.#store, this.#paths.manifest, wanted),
      ).then((recorded) => this.#follow(recorded));
      this.#recorded.catch(() => {
        this.#recorded = undefined;
      });
    }
    return this.#recorded;
  }

  #follow(recorded: Layout): void {
    if (recorded === this.#paths.layout) return;
    if (this.#explicit) checkLayout(this.#paths.manifest, recorded, this.#paths.layout);
    this.#paths = new KvPaths(this.#paths.prefix, recorded, this.#store.maxKeyBytes);
  }
}
