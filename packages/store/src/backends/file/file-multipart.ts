import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { CorruptError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import { bareEtag } from '../../keys.js';
import type { MultipartCreateOptions, MultipartUploads, UploadedPart } from '../../multipart.js';
import type { ComposeOptions } from '../../compose.js';
import type { PutResult } from '../../object-store.js';
import { syncDir } from './file-io.js';
import type { Piece } from './object-file.js';

/** Links a composed object's files into its blob directory `dir` as `<i>`, pushing each piece. */
export type LinkPieces = (dir: string, pieces: Piece[]) => Promise<void>;

/** Commits, like a put, an object made of the files `link` links (FileStore's composition). */
export type ComposeLinked = (key: string, options: ComposeOptions, link: LinkPieces) => Promise<PutResult>;

interface UploadMeta {
  key: string;
  contentType?: string;
  metadata: Record<string, string>;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** A part file: the MD5 of its bytes (16 bytes), then the bytes. */
const MD5_BYTES = 16;

/**
 * Multipart uploads on a FileStore, so that an interrupted upload of a large file resumes here
 * as it does on S3: each upload is a directory `uploads/<id>/` with its key and metadata in
 * `meta.json` and one file per part, written to a temporary name, synced and renamed, so a part
 * is there whole or not at all. Completion links the part files, in order, as the pieces of a
 * composed object (no byte copied) and commits it like a put, so readers see the old object or
 * the new one; the directory goes afterwards. The ETag is S3's multipart form, `"md5(md5s)-N"`. An upload not
 * touched for `staleMs` is removed when a store is opened on the directory (S3's lifecycle rule
 * for incomplete uploads), as is any upload on `abort`.
 */
export function fileMultipart(root: string, sync: boolean, compose: ComposeLinked): MultipartUploads {
  const dirOf = (uploadId: string) => {
    if (!UPLOAD_ID.test(uploadId)) throw new InvalidArgumentError(`${JSON.stringify(uploadId)} is not an upload id`);
    return `${root}/${uploadId}`;
  };
  const readMeta = async (key: string, uploadId: string): Promise<UploadMeta> => {
    let meta: UploadMeta;
    try {
      meta = JSON.parse(await readFile(`${dirOf(uploadId)}/meta.json`, 'utf8')) as UploadMeta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(key, { cause: error });
      throw error;
    }
    if (meta.key !== key) throw new NotFoundError(key);
    return meta;
  };
  return {
    checksums: [],
    async create(key: string, options: MultipartCreateOptions = {}) {
      const uploadId = randomBytes(16).toString('hex');
      const dir = dirOf(uploadId);
      await mkdir(dir, { recursive: true });
      const meta: UploadMeta = { key, metadata: { ...(options.metadata ?? {}) } };
      if (options.contentType !== undefined) meta.contentType = options.contentType;
      await writeDurably(dir, 'meta.json', [Buffer.from(JSON.stringify(meta))], sync);
      if (sync) await syncDir(root);
      return uploadId;
    },
    async uploadPart(key, uploadId, partNumber, body, options = {}) {
      options.signal?.throwIfAborted();
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
        throw new InvalidArgumentError(`part number ${partNumber} is not in 1..10000`, { key });
      }
      await readMeta(key, uploadId);
      const digest = createHash('md5').update(body).digest();
      if (options.md5 !== undefined && digest.toString('base64') !== options.md5) {
        throw new CorruptError(`part ${partNumber} of ${JSON.stringify(key)} does not match its Content-MD5`);
      }
      await writeDurably(dirOf(uploadId), String(partNumber), [digest, body], sync);
      return { partNumber, etag: `"${digest.toString('hex')}"`, size: body.length };
    },
    async listParts(key, uploadId) {
      await readMeta(key, uploadId);
      const dir = dirOf(uploadId);
      const parts: UploadedPart[] = [];
      for (const name of await readdir(dir)) {
        if (!/^[1-9]\d*$/.test(name)) continue;
        const handle = await open(`${dir}/${name}`, 'r');
        try {
          const digest = Buffer.alloc(MD5_BYTES);
          await handle.read(digest, 0, MD5_BYTES, 0);
          const size = (await handle.stat()).size - MD5_BYTES;
          parts.push({ partNumber: Number(name), etag: `"${digest.toString('hex')}"`, size });
        } finally {
          await handle.close();
        }
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },
    async complete(key, uploadId, parts, options = {}) {
      options.signal?.throwIfAborted();
      const meta = await readMeta(key, uploadId);
      const stored = new Map((await this.listParts(key, uploadId)).map((p) => [p.partNumber, p]));
      const hash = createHash('md5');
      let previous = 0;
      for (const part of parts) {
        const found = stored.get(part.partNumber);
        if (part.partNumber <= previous)
          throw new InvalidArgumentError('parts must be listed in ascending order', { key });
        if (!found || bareEtag(found.etag) !== bareEtag(part.etag)) {
          throw new InvalidArgumentError(`part ${part.partNumber} of ${JSON.stringify(key)} was not uploaded`, { key });
        }
        hash.update(Buffer.from(bareEtag(found.etag), 'hex'));
        previous = part.partNumber;
      }
      if (parts.length === 0) throw new InvalidArgumentError('a multipart upload needs at least one part', { key });
      const dir = dirOf(uploadId);
      const composeOptions: ComposeOptions = {
        metadata: meta.metadata,
        etag: `"${hash.digest('hex')}-${parts.length}"`,
      };
      if (meta.contentType !== undefined) composeOptions.contentType = meta.contentType;
      const result = await compose(key, composeOptions, async (blobs, pieces) => {
        for (const part of parts) {
          const to = `${blobs}/${pieces.length}`;
          await link(`${dir}/${part.partNumber}`, to);
          // A part sent again since it was listed: the linked file must hold the MD5 checked above.
          const handle = await open(to, 'r');
          try {
            const digest = Buffer.alloc(MD5_BYTES);
            await handle.read(digest, 0, MD5_BYTES, 0);
            if (digest.toString('hex') !== bareEtag(stored.get(part.partNumber)?.etag ?? '')) {
              throw new InvalidArgumentError(
                `part ${part.partNumber} of ${JSON.stringify(key)} changed while completing`,
              );
            }
            pieces.push({ offset: MD5_BYTES, size: (await handle.stat()).size - MD5_BYTES });
          } finally {
            await handle.close();
          }
        }
      });
      await rm(dir, { recursive: true, force: true });
      return result;
    },
    async abort(_key, uploadId) {
      await rm(dirOf(uploadId), { recursive: true, force: true });
    },
    async checksumOf() {
      return undefined;
    },
  };
}

/** Removes the uploads not touched (no part added) for `staleMs`; what an interrupted run left. */
export async function removeStaleUploads(root: string, staleMs: number, now: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    const info = await stat(`${root}/${name}`).catch(() => undefined);
    if (info && now - info.mtimeMs >= staleMs) await rm(`${root}/${name}`, { recursive: true, force: true });
  }
}

/** Writes a file whole under a temporary name, syncs it and renames it into place. */
async function writeDurably(dir: string, name: string, buffers: Uint8Array[], sync: boolean): Promise<void> {
  const temp = `${dir}/.${name}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w');
    try {
      let position = 0;
      for (const buffer of buffers) {
        for (let done = 0; done < buffer.length;) {
          const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position);
          done += bytesWritten;
          position += bytesWritten;
        }
      }
      if (sync) await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, `${dir}/${name}`);
    if (sync) await syncDir(dir);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
