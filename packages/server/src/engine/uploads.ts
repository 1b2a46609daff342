import { createHash } from 'node:crypto';
import { isStoreError, type ObjectStore, type PutBody } from '@bucketdb/store';
import type { MultipartChecksum } from '../checksums/index.js';
import { paths } from '../paths.js';
import { S3Error } from '../s3-error.js';
import { newId } from './ids.js';
import { nextSeq, type ObjectMeta } from './object-meta.js';

export interface UploadRecord {
  uploadId: string;
  key: string;
  initiated: string;
  /** The object's owner once completed. */
  owner: string;
  /** Who created the upload (absent in records from before it was kept: the owner). */
  initiator?: string;
  contentType?: string;
  meta: Omit<ObjectMeta, 'versionId' | 'seq'>;
  /** Set when the upload was created with `x-amz-checksum-algorithm`: every part then has one. */
  checksum?: MultipartChecksum;
}

export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: Date;
  /** Base64 checksum of the upload's algorithm, when the upload has one. */
  checksum?: string;
}

/** Ties a part checksum to one upload of the part: a re-uploaded part has another store ETag. */
const checksumTag = (storeEtag: string) => createHash('sha256').update(storeEtag).digest('base64url').slice(0, 16);

const noSuchUpload = (uploadId: string) =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId.slice(0, 100) },
  );

/** Multipart uploads in progress: a record per upload and an object per part (layout in paths.ts). */
export class Uploads {
  readonly #store: ObjectStore;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  async create(bucket: string, record: Omit<UploadRecord, 'uploadId' | 'initiated'>): Promise<UploadRecord> {
    const uploadId = newId(nextSeq());
    const full: UploadRecord = { ...record, uploadId, initiated: new Date().toISOString() };
    await this.#store.put(paths.upload(bucket, uploadId), JSON.stringify(full), {
      ifNoneMatch: '*',
      contentType: 'application/json',
    });
    return full;
  }

  /** The upload, which must be for `key`; NoSuchUpload otherwise. */
  async get(bucket: string, uploadId: string, key: string): Promise<UploadRecord> {
    if (!/^[0-9a-z]{12}[0-9a-f]{16}$/.test(uploadId)) throw noSuchUpload(uploadId);
    try {
      const result = await this.#store.get(paths.upload(bucket, uploadId));
      const record = JSON.parse(new TextDecoder().decode(result.body)) as UploadRecord;
      if (record.key !== key) throw noSuchUpload(uploadId);
      return record;
    } catch (error) {
      if (isStoreError(error, 'NotFound')) throw noSuchUpload(uploadId);
      throw error;
    }
  }

  async putPart(bucket: string, uploadId: string, partNumber: number, body: PutBody, contentLength: number) {
    return this.#store.put(paths.part(bucket, uploadId, partNumber), body, { contentLength });
  }

  /** Records a part's checksum once its bytes are stored (`etag`: the part's store ETag). */
  async putPartChecksum(bucket: string, uploadId: string, partNumber: number, etag: string, checksum: string) {
    await this.#store.put(paths.partChecksum(bucket, uploadId, partNumber, checksumTag(etag), checksum), '');
  }

  /** The parts in order, with their checksums: one LIST, as checksums are kept in key names. */
  async parts(bucket: string, uploadId: string): Promise<StoredPart[]> {
    const prefix = paths.partsPrefix(bucket, uploadId);
    const parts: StoredPart[] = [];
    const checksums = new Map<string, string>();
    for await (const entry of this.#store.list({ prefix })) {
      if (entry.kind !== 'object') continue;
      const [number = '', tag, checksum] = entry.key.slice(prefix.length).split('.');
      if (tag !== undefined && checksum !== undefined) {
        checksums.set(`${number}.${tag}`, Buffer.from(checksum, 'base64url').toString('base64'));
      } else {
        parts.push({
          partNumber: Number(number),
          etag: entry.etag,
          size: entry.size,
          lastModified: entry.lastModified,
        });
      }
    }
    for (const part of parts) {
      const checksum = checksums.get(`${String(part.partNumber).padStart(5, '0')}.${checksumTag(part.etag)}`);
      if (checksum !== undefined) part.checksum = checksum;
    }
    return parts;
  }

  /** The bytes of the given parts, one after another, streamed. */
  async *read(bucket: string, uploadId: string, parts: readonly StoredPart[]): AsyncIterable<Uint8Array> {
    for (const part of parts) {
      const result = await this.#store.getStream(paths.part(bucket, uploadId, part.partNumber), { ifMatch: part.etag });
      yield* result.body;
    }
  }

  /** Deletes the parts and their checksums, then the record (a crash leaves an upload that can be aborted again). */
  async remove(bucket: string, uploadId: string): Promise<void> {
    const keys: string[] = [];
    for await (const entry of this.#store.list({ prefix: paths.partsPrefix(bucket, uploadId) })) {
      if (entry.kind === 'object') keys.push(entry.key);
    }
    if (keys.length > 0) await this.#store.deleteMany(keys);
    await this.#store.delete(paths.upload(bucket, uploadId));
  }

  async list(bucket: string): Promise<UploadRecord[]> {
    const records: UploadRecord[] = [];
    for await (const entry of this.#store.list({ prefix: paths.uploadsPrefix(bucket) })) {
      if (entry.kind !== 'object') continue;
      try {
        const result = await this.#store.get(entry.key);
        records.push(JSON.parse(new TextDecoder().decode(result.body)) as UploadRecord);
      } catch (error) {
        if (!isStoreError(error, 'NotFound')) throw error;
      }
    }
    return records;
  }
}
