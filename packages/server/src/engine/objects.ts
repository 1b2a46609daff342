import {
  type ByteRange,
  type ComposeSource,
  type Composition,
  compositionOf,
  etagsEqual,
  type GetStreamResult,
  isStoreError,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
} from '@bucketdb/store';
import { paths } from '../paths.js';
import { S3Error } from '../s3-error.js';
import type { BucketRecord } from './buckets.js';
import { checksumsOf, writeChecksumSidecar } from './checksum-sidecar.js';
import { copyVersion } from './copy-object.js';
import { type HistoryRecord, readHistory, visibleHistory, writeHistory } from './history.js';
import { isWellFormedId, newId } from './ids.js';
import { KeyLock } from './key-lock.js';
import { listObjectPage, type ObjectListQuery, type ObjectPage } from './object-listing.js';
import { encodeMeta, nextSeq, type ObjectMeta, type ObjectVersion, toVersion } from './object-meta.js';
import { storeBody } from './small-body.js';
import { type VersionListQuery, type VersionListRow, versionRows } from './version-listing.js';

/** S3 conditions on a write, compared with the S3 ETag of the current version. */
export interface WriteConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface NewObject {
  body: PutBody;
  /**
   * The same bytes as store objects (a multipart upload's parts) and the ETag to give the object:
   * a store that can compose makes the object of them without reading `body`.
   */
  compose?: { sources: ComposeSource[]; etag: string };
  contentLength?: number;
  contentType?: string;
  meta: Omit<ObjectMeta, 'versionId' | 'seq'>;
}

export interface WriteResult {
  etag: string;
  versionId: string;
  seq: number;
}

export interface DeleteResult {
  versionId?: string;
  deleteMarker: boolean;
}

/** The bytes of a version as the store opened them (`bytes` when it had them in memory). */
export type OpenedBytes = GetStreamResult;

/** What a key (and version id) resolves to. */
export type Resolved = { kind: 'object'; version: ObjectVersion } | { kind: 'marker'; record: HistoryRecord };

const noSuchKey = (key: string, headers: Record<string, string> = {}) =>
  new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key }, headers);

/**
 * Objects and their versions on the store (layout in paths.ts). Unversioned buckets write the
 * current object with one conditional store PUT. Versioned buckets first archive the current
 * version and record it in the key's history, then replace the current object with a
 * compare-and-swap; a crash between the steps leaves only traces that `visibleHistory` ignores.
 */
export class ObjectEngine {
  readonly #store: ObjectStore;
  readonly #composition: Composition | undefined;
  readonly #lock = new KeyLock();

  constructor(store: ObjectStore) {
    this.#store = store;
    this.#composition = compositionOf(store);
  }

  /**
   * How the object's bytes will be written: composed from its sources where the store can (no
   * byte read), else put. A small body is read (and verified) here, before anything is written.
   */
  async #writer(object: NewObject): Promise<(storeKey: string, options: PutOptions) => Promise<PutResult>> {
    const { compose } = object;
    const composition = this.#composition;
    if (compose && composition) {
      return (storeKey, options) => composition.compose(storeKey, compose.sources, { ...options, etag: compose.etag });
    }
    const body = await storeBody(object.body, object.contentLength);
    return (storeKey, options) => this.#store.put(storeKey, body, options);
  }

  async current(bucket: string, key: string): Promise<ObjectVersion | undefined> {
    const storeKey = paths.object(bucket, key);
    try {
      return toVersion(storeKey, await this.#store.head(storeKey));
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /**
   * The current version and its bytes (or `range` of them) in one store request: the common GET.
   * Undefined when there is no current object; `bytes` undefined when the range is unsatisfiable.
   */
  async openCurrent(
    bucket: string,
    key: string,
    range: ByteRange | undefined,
  ): Promise<{ version: ObjectVersion; bytes: OpenedBytes | undefined } | undefined> {
    const storeKey = paths.object(bucket, key);
    try {
      const read = await this.#store.getStream(storeKey, range ? { range } : {});
      return { version: toVersion(storeKey, read), bytes: read };
    } catch (error) {
      if (isStoreError(error, 'InvalidRange')) {
        const version = await this.current(bucket, key);
        return version ? { version, bytes: undefined } : undefined;
      }
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** The bytes of `version` (or a range of them), only while it is still that version. */
  async read(version: ObjectVersion, range?: { offset: number; length: number }): Promise<AsyncIterable<Uint8Array>> {
    const whole = range === undefined || (range.offset === 0 && range.length === version.size);
    const read = await this.#store.getStream(version.storeKey, {
      ifMatch: version.storeEtag,
      ...(whole ? {} : { range }),
    });
    return read.body;
  }

  /** The version's verified checksums, trailing ones included. */
  checksums(bucket: string, key: string, version: ObjectVersion): Promise<Record<string, string>> {
    return checksumsOf(this.#store, bucket, key, version);
  }

  /** Records checksums known only after the bytes (aws-chunked trailers, computed while copying). */
  recordChecksums(bucket: string, key: string, seq: number, checksums: Record<string, string>): Promise<void> {
    return writeChecksumSidecar(this.#store, bucket, key, seq, checksums);
  }

  /** One page of the bucket's current objects (ListObjects, ListObjectsV2). */
  list(bucket: BucketRecord, query: ObjectListQuery): Promise<ObjectPage> {
    return listObjectPage(this.#store, bucket, query);
  }

  /** Versions, delete markers and common prefixes in ListObjectVersions' order, read as consumed. */
  versions(bucket: BucketRecord, query: VersionListQuery): AsyncGenerator<VersionListRow> {
    return versionRows(this.#store, (name, key) => this.current(name, key), bucket, query);
  }

  /** The version a GET or HEAD reads; throws NoSuchKey / NoSuchVersion. */
  async resolve(bucket: BucketRecord, key: string, versionId?: string): Promise<Resolved> {
    const current = await this.current(bucket.name, key);
    if (versionId === undefined) {
      if (current) return { kind: 'object', version: current };
      if (bucket.versioning === 'Unversioned') throw noSuchKey(key);
      const latest = visibleHistory((await readHistory(this.#store, bucket.name, key)).records, undefined)[0];
      if (latest?.deleteMarker) {
        throw noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': latest.versionId });
      }
      throw noSuchKey(key);
    }
    checkVersionId(versionId);
    if (current?.meta.versionId === versionId) return { kind: 'object', version: current };
    const record = visibleHistory((await readHistory(this.#store, bucket.name, key)).records, current).find(
      (r) => r.versionId === versionId,
    );
    if (!record) {
      throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
    }
    if (record.deleteMarker) return { kind: 'marker', record };
    return { kind: 'object', version: await this.#archived(bucket.name, record) };
  }

  async put(bucket: BucketRecord, key: string, object: NewObject, conditions: WriteConditions): Promise<WriteResult> {
    if (bucket.versioning === 'Unversioned') return this.#putUnversioned(bucket, key, object, conditions);
    return this.#lock.run(`${bucket.name}/${key}`, async () => {
      const current = await this.current(bucket.name, key);
      checkConditions(key, current, conditions);
      const write = await this.#writer(object);
      const history = await readHistory(this.#store, bucket.name, key);
      const { keep, drop } = await this.#retire(bucket, key, current, history.records);
      const versionId = bucket.versioning === 'Enabled' ? newId(nextSeq()) : 'null';
      const seq = nextSeq();
      await writeHistory(this.#store, bucket.name, key, history, keep);
      const result = await write(paths.object(bucket.name, key), {
        ...storeCondition(current),
        ...putOptions(object, { ...object.meta, versionId, seq }),
      });
      await this.#deleteData(bucket.name, drop);
      return { etag: object.meta.etag ?? result.etag, versionId, seq };
    });
  }

  async delete(
    bucket: BucketRecord,
    key: string,
    options: { versionId?: string; ifMatch?: string },
  ): Promise<DeleteResult> {
    if (options.versionId !== undefined) checkVersionId(options.versionId);
    if (bucket.versioning === 'Unversioned' && (options.versionId ?? 'null') === 'null') {
      const current = options.ifMatch === undefined ? undefined : await this.current(bucket.name, key);
      if (options.ifMatch !== undefined) checkConditions(key, current, { ifMatch: options.ifMatch });
      await this.#store.delete(paths.object(bucket.name, key), current ? { ifMatch: current.storeEtag } : {});
      return { deleteMarker: false };
    }
    return this.#lock.run(`${bucket.name}/${key}`, async () => {
      const current = await this.current(bucket.name, key);
      if (options.ifMatch !== undefined) checkConditions(key, current, { ifMatch: options.ifMatch });
      const history = await readHistory(this.#store, bucket.name, key);
      if (options.versionId === undefined) return this.#addDeleteMarker(bucket, key, current, history.records, history);
      return this.#deleteVersion(bucket, key, options.versionId, current, history);
    });
  }

  /** Rewrites a version's S3 metadata (tags) in place; the version id and Last-Modified stay. */
  async updateMeta(
    bucket: BucketRecord,
    key: string,
    versionId: string | undefined,
    change: (meta: ObjectMeta) => ObjectMeta,
  ): Promise<ObjectVersion> {
    return this.#lock.run(`${bucket.name}/${key}`, async () => {
      const resolved = await this.resolve(bucket, key, versionId);
      if (resolved.kind === 'marker') {
        throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
          Method: 'PUT',
          ResourceType: 'DeleteMarker',
        });
      }
      const { version } = resolved;
      await copyVersion(this.#store, version, version.storeKey, change, { ifMatch: version.storeEtag });
      return version;
    });
  }

  async #putUnversioned(bucket: BucketRecord, key: string, object: NewObject, conditions: WriteConditions) {
    let condition: { ifNoneMatch: '*' } | { ifMatch: string } | undefined;
    if (conditions.ifMatch !== undefined || (conditions.ifNoneMatch ?? '*').trim() !== '*') {
      // Checked against the version read, then written only if it is still the one: a compare-and-swap.
      const current = await this.current(bucket.name, key);
      checkConditions(key, current, conditions);
      condition = storeCondition(current);
    } else if (conditions.ifNoneMatch !== undefined) {
      checkConditions(key, undefined, conditions);
      condition = { ifNoneMatch: '*' };
    }
    const write = await this.#writer(object);
    const seq = nextSeq();
    const result = await write(paths.object(bucket.name, key), {
      ...condition,
      ...putOptions(object, { ...object.meta, versionId: 'null', seq }),
    });
    return { etag: object.meta.etag ?? result.etag, versionId: 'null', seq };
  }

  /**
   * Moves the current version into the history (when versioning keeps it) and, while suspended,
   * drops the `null` version the new write replaces. Returns the new history and the data to delete.
   */
  async #retire(bucket: BucketRecord, key: string, current: ObjectVersion | undefined, records: HistoryRecord[]) {
    let keep = visibleHistory(records, current);
    const drop = records.filter((r) => !keep.includes(r));
    if (bucket.versioning === 'Suspended') {
      drop.push(...keep.filter((r) => r.versionId === 'null'));
      keep = keep.filter((r) => r.versionId !== 'null');
    }
    if (current && (bucket.versioning === 'Enabled' || current.meta.versionId !== 'null')) {
      keep.push(await this.#archive(bucket.name, key, current));
    }
    return { keep, drop };
  }

  async #archive(bucket: string, key: string, current: ObjectVersion): Promise<HistoryRecord> {
    const dataId = newId(nextSeq());
    // The key's checksum sidecar belongs to the current version only: fold it into the copy.
    const checksums = await checksumsOf(this.#store, bucket, key, current);
    await copyVersion(this.#store, current, paths.versionData(bucket, dataId), ({ trailingChecksum: _, ...meta }) => ({
      ...meta,
      checksums,
    }));
    return {
      versionId: current.meta.versionId,
      seq: current.meta.seq,
      lastModified: current.lastModified.toISOString(),
      owner: current.meta.owner,
      dataId,
      etag: current.etag,
      size: current.size,
    };
  }

  async #addDeleteMarker(
    bucket: BucketRecord,
    key: string,
    current: ObjectVersion | undefined,
    records: HistoryRecord[],
    history: Awaited<ReturnType<typeof readHistory>>,
  ): Promise<DeleteResult> {
    const { keep, drop } = await this.#retire(bucket, key, current, records);
    const versionId = bucket.versioning === 'Enabled' ? newId(nextSeq()) : 'null';
    const owner = current?.meta.owner ?? bucket.owner;
    keep.push({ versionId, seq: nextSeq(), lastModified: new Date().toISOString(), owner, deleteMarker: true });
    await writeHistory(this.#store, bucket.name, key, history, keep);
    if (current) await this.#store.delete(current.storeKey, { ifMatch: current.storeEtag });
    await this.#deleteData(bucket.name, drop);
    return { versionId, deleteMarker: true };
  }

  async #deleteVersion(
    bucket: BucketRecord,
    key: string,
    versionId: string,
    current: ObjectVersion | undefined,
    history: Awaited<ReturnType<typeof readHistory>>,
  ): Promise<DeleteResult> {
    const visible = visibleHistory(history.records, current);
    if (current && current.meta.versionId === versionId) {
      // The newest older version becomes current again, as in S3.
      const next = visible[0];
      if (next && !next.deleteMarker) {
        const archived = await this.#archived(bucket.name, next);
        await copyVersion(this.#store, archived, current.storeKey, (meta) => meta, { ifMatch: current.storeEtag });
        await writeHistory(this.#store, bucket.name, key, history, visible.slice(1));
        await this.#deleteData(bucket.name, [next]);
      } else {
        await this.#store.delete(current.storeKey, { ifMatch: current.storeEtag });
      }
      return { versionId, deleteMarker: false };
    }
    const record = visible.find((r) => r.versionId === versionId);
    if (!record) return { versionId, deleteMarker: false };
    let rest = visible.filter((r) => r !== record);
    const drop = [record];
    const next = rest[0];
    if (!current && record === visible[0] && next && !next.deleteMarker) {
      // The latest delete marker is gone: the newest older version becomes current again.
      const archived = await this.#archived(bucket.name, next);
      await copyVersion(this.#store, archived, paths.object(bucket.name, key), (meta) => meta, { ifNoneMatch: '*' });
      rest = rest.slice(1);
      drop.push(next);
    }
    await writeHistory(this.#store, bucket.name, key, history, rest);
    await this.#deleteData(bucket.name, drop);
    return { versionId, deleteMarker: record.deleteMarker === true };
  }

  async #archived(bucket: string, record: HistoryRecord): Promise<ObjectVersion> {
    const storeKey = paths.versionData(bucket, record.dataId ?? '');
    return toVersion(storeKey, await this.#store.head(storeKey));
  }

  async #deleteData(bucket: string, records: HistoryRecord[]): Promise<void> {
    const keys = records.flatMap((r) => (r.dataId === undefined ? [] : [paths.versionData(bucket, r.dataId)]));
    if (keys.length > 0) await this.#store.deleteMany(keys);
  }
}

function checkVersionId(versionId: string): void {
  if (versionId !== 'null' && !isWellFormedId(versionId)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', {
      ArgumentName: 'versionId',
      ArgumentValue: versionId.slice(0, 100),
    });
  }
}

/** S3's checks of If-Match / If-None-Match on a write, before any byte is stored. */
export function checkConditions(key: string, current: ObjectVersion | undefined, conditions: WriteConditions): void {
  if (conditions.ifNoneMatch !== undefined && current) {
    // `*` refuses any current object; ETags refuse only a current object with one of them (S3
    // answers 412 on a match and writes otherwise, though its documentation names only `*`).
    const unwanted = conditions.ifNoneMatch.trim();
    if (unwanted === '*' || unwanted.split(',').some((e) => etagsEqual(e, current.etag))) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        Condition: 'If-None-Match',
      });
    }
  }
  if (conditions.ifMatch !== undefined) {
    if (!current) throw noSuchKey(key);
    const wanted = conditions.ifMatch.trim();
    if (wanted !== '*' && !wanted.split(',').some((e) => etagsEqual(e, current.etag))) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        Condition: 'If-Match',
      });
    }
  }
}

function storeCondition(current: ObjectVersion | undefined): { ifNoneMatch: '*' } | { ifMatch: string } {
  return current ? { ifMatch: current.storeEtag } : { ifNoneMatch: '*' };
}

function putOptions(object: NewObject, meta: ObjectMeta) {
  return {
    metadata: encodeMeta(meta),
    ...(object.contentType === undefined ? {} : { contentType: object.contentType }),
    ...(object.contentLength === undefined ? {} : { contentLength: object.contentLength }),
  };
}
