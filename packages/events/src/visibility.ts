import type { LogRecord } from '@bucketdb/log';
import { recordEvents, type StoredEvent } from './record-events.js';
import { isVisible, metadataOf, metadataTarget, type StreamMetadata } from './stream-metadata.js';

/** What a reader knows of every stream at log version `version`: its metadata and revision. */
export interface MetadataBase {
  readonly version: number;
  meta(stream: string): StreamMetadata | undefined;
  revision(stream: string): number;
}

/**
 * Decides, as reads do, whether an event is visible under its stream's newest metadata, for
 * readers that move past their base (subscriptions and consumer groups going live): records after
 * the base's version are observed in order, and the metadata and revisions they carry win over
 * the base's. The base may itself move forward (the writer index): whatever it has reached, it
 * knows best.
 */
export class Visibility {
  readonly #base: MetadataBase;
  readonly #now: () => number;
  readonly #meta = new Map<string, { version: number; meta: StreamMetadata }>();
  readonly #revisions = new Map<string, number>();
  #observed = 0;

  constructor(base: MetadataBase, now: () => number) {
    this.#base = base;
    this.#now = now;
  }

  /** Takes in a record's metadata and revisions (records already seen, or below the base, change nothing). */
  observe(record: LogRecord): void {
    if (record.version <= Math.max(this.#observed, this.#base.version)) return;
    this.#observed = record.version;
    for (const s of recordEvents(record)) {
      this.#revisions.set(s.stream, s.revision);
      const target = metadataTarget(s.stream);
      const meta = target === undefined ? undefined : metadataOf(s);
      if (target !== undefined && meta) this.#meta.set(target, { version: record.version, meta });
    }
  }

  /** Whether record `version` follows what this knows without a gap (else the base must catch up first). */
  covers(version: number): boolean {
    return version <= Math.max(this.#observed, this.#base.version) + 1;
  }

  visible(s: StoredEvent): boolean {
    const own = this.#meta.get(s.stream);
    const meta = own && own.version > this.#base.version ? own.meta : this.#base.meta(s.stream);
    const last = Math.max(this.#base.revision(s.stream), this.#revisions.get(s.stream) ?? -1);
    return isVisible(meta, s.revision, s.timestamp, last, this.#now());
  }
}
