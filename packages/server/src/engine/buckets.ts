import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { BUCKET_NAMESPACES, paths } from '../paths.js';
import { S3Error } from '../s3-error.js';
import { validateBucketName } from './bucket-names.js';
import type { ObjectAcl } from './object-meta.js';

export type VersioningStatus = 'Unversioned' | 'Enabled' | 'Suspended';
export const CANNED_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read'] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** S3's Block Public Access settings of a bucket (PutPublicAccessBlock). */
export interface PublicAccessBlock {
  /** PUTs that would make a bucket or object public through its ACL are refused. */
  blockPublicAcls: boolean;
  /** Public grants of the bucket's and its objects' ACLs have no effect. */
  ignorePublicAcls: boolean;
  /** Stored as S3 stores them; no bucket here has a policy for these to act on. */
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export interface BucketRecord {
  name: string;
  /** Access key id of the owning user. */
  owner: string;
  created: string;
  versioning: VersioningStatus;
  acl: CannedAcl;
  cors?: CorsRule[];
  tags?: [string, string][];
  publicAccessBlock?: PublicAccessBlock;
  /**
   * Set before the first object whose S3 ETag or Last-Modified differs from the store's (multipart,
   * re-tagged): from then on listings read each object's metadata instead of trusting the store's.
   */
  listingReadsMeta?: boolean;
}

/**
 * The bucket's canned ACL as it takes effect. Every canned ACL but `private` grants to AllUsers or
 * AuthenticatedUsers, which S3 counts as public, so IgnorePublicAcls leaves the owner alone.
 */
export function bucketAclInEffect(bucket: BucketRecord): CannedAcl {
  return bucket.publicAccessBlock?.ignorePublicAcls ? 'private' : bucket.acl;
}

/** An object's canned ACL as it takes effect in `bucket` (every object ACL here is public). */
export function objectAclInEffect(bucket: BucketRecord, acl: ObjectAcl | undefined): ObjectAcl | undefined {
  return bucket.publicAccessBlock?.ignorePublicAcls ? undefined : acl;
}

/** BlockPublicAcls: a request that would set a public ACL (any but `private`) is AccessDenied, as in S3. */
export function refusePublicAcl(bucket: BucketRecord | undefined, acl: CannedAcl | ObjectAcl | undefined): void {
  if (bucket?.publicAccessBlock?.blockPublicAcls && acl !== undefined && acl !== 'private') {
    throw new S3Error('AccessDenied', 'Access Denied');
  }
}

interface Cached {
  record: BucketRecord;
  storeEtag: string;
}

/**
 * Bucket records, cached in memory. The server assumes it is the only writer of its store's
 * bucket records (one server per data directory), so the cache is updated on every write.
 */
export class Buckets {
  readonly #store: ObjectStore;
  readonly #cache = new Map<string, Cached>();

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  async find(name: string): Promise<BucketRecord | undefined> {
    return (await this.#load(name))?.record;
  }

  async get(name: string): Promise<BucketRecord> {
    const record = await this.find(name);
    if (!record) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
    return record;
  }

  async create(name: string, owner: string, acl: CannedAcl): Promise<BucketRecord> {
    validateBucketName(name);
    const record: BucketRecord = { name, owner, created: new Date().toISOString(), versioning: 'Unversioned', acl };
    try {
      const { etag } = await this.#store.put(paths.bucket(name), JSON.stringify(record), {
        ifNoneMatch: '*',
        contentType: 'application/json',
      });
      this.#cache.set(name, { record, storeEtag: etag });
      return record;
    } catch (error) {
      if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'ConflictInFlight')) throw error;
      const existing = await this.get(name);
      if (existing.owner === owner) {
        throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded', {
          BucketName: name,
        });
      }
      throw new S3Error('BucketAlreadyExists', 'The requested bucket name is not available', { BucketName: name });
    }
  }

  /** Applies `change` to the record with compare-and-swap, retrying when another write got in first. */
  async update(name: string, change: (record: BucketRecord) => void): Promise<BucketRecord> {
    for (;;) {
      const cached = await this.#load(name);
      if (!cached) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
      const record: BucketRecord = structuredClone(cached.record);
      change(record);
      try {
        const { etag } = await this.#store.put(paths.bucket(name), JSON.stringify(record), {
          ifMatch: cached.storeEtag,
          contentType: 'application/json',
        });
        this.#cache.set(name, { record, storeEtag: etag });
        return record;
      } catch (error) {
        if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'NotFound')) throw error;
        this.#cache.delete(name);
      }
    }
  }

  /** Listings of this bucket must read object metadata from now on (see `listingReadsMeta`). */
  async markListingReadsMeta(bucket: BucketRecord): Promise<void> {
    if (bucket.listingReadsMeta) return;
    await this.update(bucket.name, (record) => {
      record.listingReadsMeta = true;
    });
  }

  /** Deletes an empty bucket (BucketNotEmpty otherwise) with its incomplete uploads and leftovers. */
  async remove(name: string): Promise<void> {
    for (const prefix of [paths.objectsPrefix(name), paths.historyPrefix(name)]) {
      const page = await this.#store.listPage({ prefix, pageSize: 1 });
      if (page.entries.length > 0) {
        throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
      }
    }
    // The bucket's record goes last, so that a crash half-way can be redone.
    for (const namespace of BUCKET_NAMESPACES) {
      const keys: string[] = [];
      for await (const entry of this.#store.list({ prefix: paths.bucketData(namespace, name) })) {
        if (entry.kind === 'object') keys.push(entry.key);
      }
      if (keys.length > 0) await this.#store.deleteMany(keys);
    }
    this.#cache.delete(name);
    await this.#store.delete(paths.bucket(name));
  }

  async list(): Promise<BucketRecord[]> {
    const records: BucketRecord[] = [];
    for await (const entry of this.#store.list({ prefix: paths.bucketsPrefix })) {
      if (entry.kind !== 'object') continue;
      const record = await this.find(entry.key.slice(paths.bucketsPrefix.length));
      if (record) records.push(record);
    }
    return records;
  }

  async #load(name: string): Promise<Cached | undefined> {
    const cached = this.#cache.get(name);
    if (cached) return cached;
    try {
      const result = await this.#store.get(paths.bucket(name));
      const entry = {
        record: JSON.parse(new TextDecoder().decode(result.body)) as BucketRecord,
        storeEtag: result.etag,
      };
      this.#cache.set(name, entry);
      return entry;
    } catch (error) {
      if (isStoreError(error, 'NotFound') || isStoreError(error, 'InvalidKey')) return undefined;
      throw error;
    }
  }
}
