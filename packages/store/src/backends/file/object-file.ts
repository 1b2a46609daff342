import { createHash } from 'node:crypto';
import fs, { constants, writeFileSync } from 'node:fs';
import { CorruptError, InvalidArgumentError } from '../../errors.js';
import { md5Etag } from '../../keys.js';
import type { ObjectInfo, PutBody } from '../../object-store.js';
import { fsClose, fsFdatasync, fsOpen, fsWritev } from './fast-fs.js';

/**
 * One object = one file: `MAGIC`, a 4-byte big-endian header length, a JSON header (padded with
 * spaces), then the content. The header is written last, into space reserved up front, so the
 * content can be streamed and hashed without knowing its size or ETag in advance.
 */
const MAGIC = Buffer.from('BKDBOBJ1');
const PREFIX = MAGIC.length + 4;
const FIRST_READ = 4096;
const encoder = new TextEncoder();
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

export interface ObjectHeader {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  contentType?: string;
  metadata: Record<string, string>;
  /**
   * A composed object (FileStore `composition()`): the file holds no content; the content is the
   * files `blobs/<blobs>/<i>` in order, piece i at `offset` in its file for `size` bytes.
   */
  blobs?: string;
  pieces?: Piece[];
}

/** Where a composed object's piece lies in its file. */
export interface Piece {
  offset: number;
  size: number;
}

export interface ObjectFileInfo {
  header: ObjectHeader;
  /** Where the content starts in the file. */
  dataOffset: number;
  /** The first content bytes, when the read of the header brought them in. */
  prefetched?: Buffer;
}

function headerJson(header: ObjectHeader): Buffer {
  return Buffer.from(JSON.stringify(header), 'utf8');
}

export interface WriteObjectOptions {
  key: string;
  contentType?: string | undefined;
  metadata: Record<string, string>;
  contentLength?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Make the content durable before returning (fdatasync semantics). */
  sync: boolean;
}

/** A streamed body is written in batches of about this size, one batch in flight at a time. */
const WRITE_BATCH = 1 << 20;

/**
 * Creates the file `path` (which must not exist) holding `body` with its header; hashes a stream
 * as it goes. Known bytes take one write: the file is opened O_DSYNC when `sync`, so the write
 * returns once the bytes are durable and no separate fsync call is needed.
 */
export async function writeObjectFile(path: string, body: PutBody, options: WriteObjectOptions): Promise<ObjectHeader> {
  const header: ObjectHeader = {
    key: options.key,
    size: Number.MAX_SAFE_INTEGER,
    etag: `"${'0'.repeat(32)}"`,
    lastModified: Number.MAX_SAFE_INTEGER,
    metadata: options.metadata,
  };
  if (options.contentType !== undefined) header.contentType = options.contentType;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? encoder.encode(body) : body;
    checkLength(bytes.length, options);
    Object.assign(header, { size: bytes.length, etag: md5Etag(bytes), lastModified: Date.now() });
    const json = headerJson(header);
    const buffers = [encodeHead(json, json.length), bytes];
    if (!options.sync) {
      // Nothing to wait for but the page cache: blocking calls cost less than thread-pool hand-offs.
      writeFileSync(path, Buffer.concat(buffers), { flag: 'wx', mode: 0o666 });
      return header;
    }
    const fd = await fsOpen(path, CREATE | constants.O_DSYNC, 0o666);
    try {
      await writeAll(fd, buffers, 0);
    } finally {
      await fsClose(fd);
    }
    return header;
  }
  const fd = await fsOpen(path, CREATE, 0o666);
  try {
    await writeStream(fd, body, header, options);
    if (options.sync) await fsFdatasync(fd);
  } finally {
    await fsClose(fd);
  }
  return header;
}

/** Reserves room for the widest header, writes the content, then the header into the room. */
async function writeStream(
  fd: number,
  body: AsyncIterable<Uint8Array>,
  header: ObjectHeader,
  options: WriteObjectOptions,
): Promise<void> {
  const reserved = headerJson(header).length;
  const hash = createHash('md5');
  let position = PREFIX + reserved;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  // The file write of one batch overlaps reading and hashing the next.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    await writing;
    writing = writeAll(fd, batch, position);
    writing.catch(() => {}); // awaited by the next flush or the end; never left unhandled
    position += batchBytes;
    batch = [];
    batchBytes = 0;
  };
  try {
    for await (const chunk of body) {
      options.signal?.throwIfAborted();
      hash.update(chunk);
      // Kept until written: producers must not reuse a chunk's memory (Node streams never do).
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
    }
    if (batchBytes > 0) await flush();
  } finally {
    // Never close the file under a write still running, even when the body failed.
    await writing.catch(() => {});
  }
  await writing;
  const size = position - PREFIX - reserved;
  checkLength(size, options);
  const etag = `"${hash.digest('hex')}"`;
  Object.assign(header, { size, etag, lastModified: Date.now() });
  await writeAll(fd, [encodeHead(headerJson(header), reserved)], 0);
}

/** Creates the file `path` (which must not exist) holding a composed object's header alone. */
export async function writeComposedObjectFile(path: string, header: ObjectHeader, sync: boolean): Promise<void> {
  const json = headerJson(header);
  const fd = await fsOpen(path, CREATE | (sync ? constants.O_DSYNC : 0), 0o666);
  try {
    await writeAll(fd, [encodeHead(json, json.length)], 0);
  } finally {
    await fsClose(fd);
  }
}

function checkLength(size: number, options: WriteObjectOptions): void {
  if (options.contentLength !== undefined && options.contentLength !== size) {
    throw new InvalidArgumentError(`the body has ${size} bytes but contentLength says ${options.contentLength}`, {
      key: options.key,
    });
  }
}

/** Magic, header length and the header's JSON padded with spaces to `reserved` bytes. */
function encodeHead(json: Buffer, reserved: number): Buffer {
  const head = Buffer.alloc(PREFIX + reserved, 0x20);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(reserved, MAGIC.length);
  json.copy(head, PREFIX);
  return head;
}

/** Writes the buffers one after another from `position`, resuming after short writes. */
async function writeAll(fd: number, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers;
  for (;;) {
    pending = pending.filter((b) => b.length > 0);
    if (pending.length === 0) return;
    const { bytesWritten } = await fsWritev(fd, pending, position);
    position += bytesWritten;
    // Drop what was written: whole buffers, then the written start of the next one.
    let skip = bytesWritten;
    pending = pending.map((b) => {
      const cut = Math.min(skip, b.length);
      skip -= cut;
      return b.subarray(cut);
    });
  }
}

/**
 * Reads and checks the header of an object file. Throws CorruptError on a malformed file. The
 * first read asks for `firstRead` bytes; content bytes it happened to get are returned as
 * `prefetched`, so a small object costs one read. A short read means the read reached the end of
 * the file (object files are never changed once in place), so no fstat is needed then.
 *
 * The calls block the event loop, as nginx reads files unless told to use threads: a header is
 * one small read that the page cache nearly always answers, and on Linux a blocking open + read +
 * close costs a fraction of the CPU of the same three calls through libuv's thread pool, where
 * each call is a hand-off to a thread and back (docs/design/file-store.md, "Blocking reads").
 */
export function readObjectHeader(fd: number, path: string, firstRead = FIRST_READ): ObjectFileInfo {
  const first = Buffer.allocUnsafe(firstRead);
  const bytesRead = fs.readSync(fd, first, 0, firstRead, 0);
  if (bytesRead < PREFIX || !first.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CorruptError(`${path} is not a bucketdb object file`);
  }
  const length = first.readUInt32BE(MAGIC.length);
  const dataOffset = PREFIX + length;
  let json: Buffer;
  if (dataOffset > bytesRead) {
    json = Buffer.allocUnsafe(length);
    if (fs.readSync(fd, json, 0, length, PREFIX) < length) throw new CorruptError(`${path} has a truncated header`);
  } else {
    json = first.subarray(PREFIX, dataOffset);
  }
  let header: ObjectHeader;
  try {
    header = JSON.parse(json.toString('utf8')) as ObjectHeader;
  } catch (cause) {
    throw new CorruptError(`${path} has an unreadable header`, { cause });
  }
  if (typeof header.key !== 'string' || typeof header.etag !== 'string' || !Number.isSafeInteger(header.size)) {
    throw new CorruptError(`${path} has an incomplete header`);
  }
  if (header.blobs !== undefined && header.pieces?.reduce((n, p) => n + p.size, 0) !== header.size) {
    throw new CorruptError(`${path} lists pieces that do not add up to its size`);
  }
  const size = bytesRead < firstRead ? bytesRead : fs.fstatSync(fd).size;
  // A composed object's file is its header alone.
  const inFile = header.blobs === undefined ? header.size : 0;
  if (size !== dataOffset + inFile) {
    throw new CorruptError(`${path} holds ${size - dataOffset} content bytes, its header says ${inFile}`);
  }
  const prefetched = dataOffset < bytesRead ? first.subarray(dataOffset, bytesRead) : undefined;
  return prefetched ? { header, dataOffset, prefetched } : { header, dataOffset };
}

/** Opens an object file and reads its header (blocking, see readObjectHeader); the caller closes `fd`. */
export function openObjectFile(path: string, firstRead?: number): { fd: number; file: ObjectFileInfo } {
  const fd = fs.openSync(path, 'r');
  try {
    return { fd, file: readObjectHeader(fd, path, firstRead) };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** An object file's header alone: opens, reads, closes (blocking). */
export function readObjectFileHeader(path: string): ObjectHeader {
  const { fd, file } = openObjectFile(path);
  fs.closeSync(fd);
  return file.header;
}

export function objectInfo(header: ObjectHeader): ObjectInfo {
  const info: ObjectInfo = {
    key: header.key,
    size: header.size,
    etag: header.etag,
    lastModified: new Date(header.lastModified),
    metadata: { ...header.metadata },
  };
  if (header.contentType !== undefined) info.contentType = header.contentType;
  return info;
}
