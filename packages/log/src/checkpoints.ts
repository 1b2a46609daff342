import { isStoreError, type ObjectStore, putIfAbsent } from '@bucketdb/store';
import { isLogError, LogError } from './errors.js';
import { decodeFrame, encodeFrame } from './frame.js';
import type { LogPaths } from './paths.js';

export interface Checkpoint {
  version: number;
  manifest: Uint8Array;
  /** When the manifest was written (ms since the epoch, the writer's clock). */
  timestamp: number;
}

interface ManifestHeader {
  version: number;
  timestamp: number;
}

/**
 * Checkpoint discovery. A checkpoint's objects live under `checkpoints/<v>/`; its manifest
 * (`checkpoints/<v>/_manifest`, immutable, put-if-absent) is its commit point: a folder without a
 * manifest is a checkpoint still being written, or abandoned, and is ignored. `_last_checkpoint`
 * is only a hint: it may lag, be missing, or be corrupt, and readers verify it.
 */
export class Checkpoints {
  readonly #store: ObjectStore;
  readonly #paths: LogPaths;
  readonly #clock: () => number;

  constructor(store: ObjectStore, paths: LogPaths, clock: () => number) {
    this.#store = store;
    this.#paths = paths;
    this.#clock = clock;
  }

  async write(version: number, manifest: Uint8Array): Promise<void> {
    const body = encodeFrame('checkpoint', { version, timestamp: this.#clock() } satisfies ManifestHeader, [manifest]);
    // Any existing manifest at this version describes the same state: first one wins, harmlessly.
    await putIfAbsent(this.#store, this.#paths.manifest(version), body, { isOurs: () => true });
    await this.#advanceHint(version);
  }

  /**
   * `hint`: the hint's version when the caller already read it (`readHint`), saving that GET;
   * `null`: read it here.
   */
  async latest(
    atOrBelow = Number.MAX_SAFE_INTEGER,
    hint: number | undefined | null = null,
  ): Promise<Checkpoint | undefined> {
    if (hint === null) hint = await this.readHint();
    // A hint is a lower bound on the newest checkpoint: list only from there (usually one entry).
    // The hint's own manifest is read alongside the LIST, so a current hint costs one round trip.
    if (hint !== undefined && hint <= atOrBelow) {
      const own = this.read(hint);
      own.catch(() => {});
      const found = await this.#newestListed(hint, atOrBelow, hint, own);
      if (found) return found;
    }
    return this.#newestListed(undefined, atOrBelow);
  }

  async read(version: number): Promise<Checkpoint | undefined> {
    const key = this.#paths.manifest(version);
    let bytes: Uint8Array;
    try {
      bytes = (await this.#store.get(key)).body;
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
    const { header, payload } = decodeFrame('checkpoint', bytes, key);
    const h = header as Partial<ManifestHeader>;
    if (h.version !== version) {
      throw new LogError('Corrupt', `checkpoint ${key} is corrupt: it names another version`, { key });
    }
    return { version, manifest: payload, timestamp: typeof h.timestamp === 'number' ? h.timestamp : 0 };
  }

  /** The newest checkpoint with a manifest in [from, atOrBelow], from one LIST of folders. */
  async #newestListed(
    from: number | undefined,
    atOrBelow: number,
    readVersion?: number,
    read?: Promise<Checkpoint | undefined>,
  ): Promise<Checkpoint | undefined> {
    const versions: number[] = [];
    const options: { prefix: string; delimiter: string; startAfter?: string } = {
      prefix: this.#paths.checkpointsDir,
      delimiter: '/',
    };
    // `checkpoints/<v>` sorts just before the folder `checkpoints/<v>/`, so the folder is included.
    if (from !== undefined) options.startAfter = this.#paths.checkpointDir(from).slice(0, -1);
    for await (const entry of this.#store.list(options)) {
      if (entry.kind !== 'prefix') continue;
      const v = this.#paths.checkpointDirVersion(entry.prefix);
      if (v === undefined) continue;
      if (v > atOrBelow) break;
      versions.push(v);
    }
    for (const v of versions.reverse()) {
      const found = await (v === readVersion && read ? read : this.read(v));
      if (found) return found;
    }
    return undefined;
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.#store.head(key);
      return true;
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return false;
      throw error;
    }
  }

  /** The version `_last_checkpoint` names (a lower bound on the newest checkpoint), or undefined. */
  async readHint(): Promise<number | undefined> {
    const key = this.#paths.lastCheckpoint;
    try {
      const { header } = decodeFrame('hint', (await this.#store.get(key)).body, key);
      const version = (header as { version?: unknown }).version;
      return Number.isSafeInteger(version) && (version as number) >= 0 ? (version as number) : undefined;
    } catch (error) {
      // A missing or unreadable hint only costs a full LIST; a newer format is not ours to judge.
      if (isStoreError(error, 'NotFound') || isLogError(error, 'Corrupt')) return undefined;
      throw error;
    }
  }

  /**
   * Best effort: move the hint forward, never back, with a compare-and-swap so a slow writer of an
   * older checkpoint cannot overwrite a newer hint. Failures are ignored: readers verify the hint.
   */
  async #advanceHint(version: number): Promise<void> {
    const key = this.#paths.lastCheckpoint;
    const body = encodeFrame('hint', { version });
    try {
      let current: { etag: string; version: number | undefined } | undefined;
      try {
        const got = await this.#store.get(key);
        let v: number | undefined;
        try {
          v = (decodeFrame('hint', got.body, key).header as { version?: number }).version;
        } catch {
          v = undefined; // corrupt: overwrite it
        }
        current = { etag: got.etag, version: v };
      } catch (error) {
        if (!isStoreError(error, 'NotFound')) throw error;
      }
      if (current?.version !== undefined && current.version >= version) {
        // A hint ahead of us is kept only if it names a real checkpoint (one may have been removed).
        if (current.version === version || (await this.#exists(this.#paths.manifest(current.version)))) return;
      }
      await this.#store.put(key, body, current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
    } catch (error) {
      if (!isStoreError(error) || error.code === 'Closed') throw error;
    }
  }
}
