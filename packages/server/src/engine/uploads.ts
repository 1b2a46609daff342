import { createHash } from 'node:crypto';
import {
  bareEtag,
  type ComposeSource,
  isStoreError,
  mapConcurrent,
  type ObjectStore,
  type PutBody,
} from '@bucketdb/store';
import type { MultipartChecksum } from '../checksums/index.js';
import { paths, UPLOAD_ID_SEPARATOR } from '../paths.js';
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

/** S3's smallest part, except the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** A part as a CompleteMultipartUpload request names it. */
export interface PartReference {
  partNumber: number;
  etag: string;
}

export const invalidPart = (uploadId: string, part: PartReference) =>
  new S3Error(
    'InvalidPart',
    "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    { UploadId: uploadId, PartNumber: String(part.partNumber), ETag: part.etag.slice(0, 100) },
  );

/**
 * The stored parts a CompleteMultipartUpload names, after S3's checks (ascending part numbers,
 * each part stored with that ETag, every part but the last at least 5 MiB), with the object's
 * ETag (`"md5-of-md5s-N"`) and size.
 */
export function assembleParts(uploadId: string, requested: readonly PartReference[], stored: readonly StoredPart[]) {
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  requested.forEach(({ partNumber }, i) => {
    if (i > 0 && partNumber <= (requested[i - 1]?.partNumber ?? 0)) {
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
  });
  const parts = requested.map((request) => {
    const part = byNumber.get(request.partNumber);
    if (!part || bareEtag(part.etag) !== bareEtag(request.etag)) throw invalidPart(uploadId, request);
    return part;
  });
  parts.slice(0, -1).forEach((part) => {
    if (part.size < MIN_PART_BYTES) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: String(part.size),
        MinSizeAllowed: String(MIN_PART_BYTES),
        PartNumber: String(part.partNumber),
        ETag: part.etag,
      });
    }
  });
  const md5s = Buffer.concat(parts.map((p) => Buffer.from(bareEtag(p.etag), 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
  return { parts, etag, size: parts.reduce((n, p) => n + p.size, 0) };
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
    await this.#store.put(paths.upload(bucket, record.key, uploadId), JSON.stringify(full), {
      ifNoneMatch: '*',
      contentType: 'application/json',
    });
    return full;
  }

  /** The upload, which must be for `key`; NoSuchUpload otherwise. */
  async get(bucket: string, uploadId: string, key: string): Promise<UploadRecord> {
    if (!/^[0-9a-z]{12}[0-9a-f]{16}$/.test(uploadId)) throw noSuchUpload(uploadId);
    const record =
      (await this.#read(paths.upload(bucket, key, uploadId))) ??
      (await this.#read(paths.legacyUpload(bucket, uploadId)));
    if (record?.key !== key) throw noSuchUpload(uploadId);
    return record;
  }

  async #read(storeKey: string): Promise<UploadRecord | undefined> {
    try {
      const result = await this.#store.get(storeKey);
      return JSON.parse(new TextDecoder().decode(result.body)) as UploadRecord;
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /**
   * Stores a part, then the checksum `checksum` gives once its bytes are through (named after the
   * part's store ETag, so a re-uploaded part's old checksum no longer counts). Uploads of one part
   * number race as S3's do: the last to complete is the part. A part that lands after its upload was
   * completed or aborted is taken out again (no Complete will) and answered NoSuchUpload.
   */
  async putPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: PutBody,
    contentLength: number,
    checksum?: () => Promise<string | undefined>,
  ): Promise<{ etag: string; checksum?: string }> {
    const { etag } = await this.#store.put(paths.part(bucket, uploadId, partNumber), body, { contentLength });
    const value = await checksum?.();
    if (value !== undefined) {
      await this.#store.put(paths.partChecksum(bucket, uploadId, partNumber, checksumTag(etag), value), '');
    }
    if (!(await this.#exists(bucket, key, uploadId))) {
      await this.#deleteUnder(paths.part(bucket, uploadId, partNumber));
      throw noSuchUpload(uploadId);
    }
    return value === undefined ? { etag } : { etag, checksum: value };
  }

  async #exists(bucket: string, key: string, uploadId: string): Promise<boolean> {
    for (const storeKey of [paths.upload(bucket, key, uploadId), paths.legacyUpload(bucket, uploadId)]) {
      try {
        await this.#store.head(storeKey);
        return true;
      } catch (error) {
        if (!isStoreError(error, 'NotFound')) throw error;
      }
    }
    return false;
  }

  /** Deletes every store object whose key starts with `prefix`. */
  async #deleteUnder(prefix: string): Promise<void> {
    const keys: string[] = [];
    for await (const entry of this.#store.list({ prefix })) {
      if (entry.kind === 'object') keys.push(entry.key);
    }
    if (keys.length > 0) await this.#store.deleteMany(keys);
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

  /** The given parts as store objects, for a store that composes an object of them. */
  sources(bucket: string, uploadId: string, parts: readonly StoredPart[]): ComposeSource[] {
    return parts.map((part) => ({ key: paths.part(bucket, uploadId, part.partNumber), etag: part.etag }));
  }

  /** The bytes of the given parts, one after another, streamed. */
  async *read(bucket: string, uploadId: string, parts: readonly StoredPart[]): AsyncIterable<Uint8Array> {
    for (const part of parts) {
      const result = await this.#store.getStream(paths.part(bucket, uploadId, part.partNumber), { ifMatch: part.etag });
      yield* result.body;
    }
  }

  /** Deletes the parts and their checksums, then the record (a crash leaves an upload that can be aborted again). */
  async remove(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#deleteUnder(paths.partsPrefix(bucket, uploadId));
    await this.#store.deleteMany([paths.upload(bucket, key, uploadId), paths.legacyUpload(bucket, uploadId)]);
  }

  /**
   * One page of ListMultipartUploads, read from the records' names in key then upload-id order:
   * only the page's records are fetched, and a common prefix is skipped with one new LIST.
   */
  async listPage(bucket: string, query: UploadListQuery): Promise<UploadPage> {
    const base = paths.uploadsPrefix(bucket);
    let startAfter: string | undefined;
    const { delimiter } = query;
    if (delimiter !== undefined && query.keyMarker.endsWith(delimiter) && query.keyMarker.startsWith(query.prefix)) {
      // The marker is a common prefix the last page ended with: past every key under it.
      startAfter = base + query.keyMarker + '\u{10ffff}';
    } else if (query.keyMarker !== '') {
      // After every upload of the marker's key, or after the marker's upload of it.
      startAfter =
        query.uploadIdMarker === ''
          ? base + query.keyMarker + '\u0002'
          : base + query.keyMarker + UPLOAD_ID_SEPARATOR + query.uploadIdMarker;
    }
    const rows: ({ prefix: string } | { key: string; uploadId: string; storeKey: string })[] = [];
    let truncated = false;
    scan: for (;;) {
      for await (const entry of this.#store.list({
        prefix: paths.uploadsPrefix(bucket, query.prefix),
        ...(startAfter === undefined ? {} : { startAfter }),
      })) {
        if (entry.kind !== 'object') continue;
        const name = entry.key.slice(base.length);
        const cut = name.lastIndexOf(UPLOAD_ID_SEPARATOR);
        if (cut < 0) continue; // a legacy record (named by upload id only): not listed
        if (rows.length >= query.max) {
          truncated = true;
          break scan;
        }
        const key = name.slice(0, cut);
        const at = query.delimiter === undefined ? -1 : key.indexOf(query.delimiter, query.prefix.length);
        if (at < 0) {
          rows.push({ key, uploadId: name.slice(cut + 1), storeKey: entry.key });
          continue;
        }
        const prefix = key.slice(0, at + (query.delimiter?.length ?? 0));
        rows.push({ prefix });
        // Past every key under this common prefix.
        startAfter = base + prefix + '\u{10ffff}';
        continue scan;
      }
      break;
    }
    // A record removed since it was listed (completed, aborted) is left out.
    const read = await mapConcurrent(rows, 16, async (row) => ('prefix' in row ? row : await this.#read(row.storeKey)));
    const uploads = read.filter((r): r is UploadRecord | { prefix: string } => r !== undefined);
    const last = rows.at(-1);
    return {
      rows: uploads,
      truncated,
      ...(truncated && last ? { nextKeyMarker: 'prefix' in last ? last.prefix : last.key } : {}),
      ...(truncated && last && !('prefix' in last) ? { nextUploadIdMarker: last.uploadId } : {}),
    };
  }
}

export interface UploadListQuery {
  prefix: string;
  delimiter: string | undefined;
  keyMarker: string;
  uploadIdMarker: string;
  max: number;
}

export interface UploadPage {
  /** Uploads and common prefixes, in key order. */
  rows: (UploadRecord | { prefix: string })[];
  truncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}
