import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CorruptError, InvalidArgumentError } from '../errors.js';
import { md5Etag } from '../keys.js';
import type { ObjectInfo, PutBody } from '../object-store.js';

/**
 * One object = one file: `MAGIC`, a 4-byte big-endian header length, a JSON header (padded with
 * spaces), then the content. The header is written last, into space reserved up front, so the
 * content can be streamed and hashed without knowing its size or ETag in advance.
 */
const MAGIC = Buffer.from('BKDBOBJ1');
const PREFIX = MAGIC.length + 4;
const FIRST_READ = 4096;
const encoder = new TextEncoder();

export interface ObjectHeader {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface ObjectFileInfo {
  header: ObjectHeader;
  /** Where the content starts in the file. */
  dataOffset: number;
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
  sync: boolean;
}

/** Writes `body` with its header into the open, empty file `fh`; hashes a stream as it goes. */
export async function writeObjectFile(
  fh: FileHandle,
  body: PutBody,
  options: WriteObjectOptions,
): Promise<ObjectHeader> {
  const header: ObjectHeader = {
    key: options.key,
    size: Number.MAX_SAFE_INTEGER,
    etag: `"${'0'.repeat(32)}"`,
    lastModified: Number.MAX_SAFE_INTEGER,
    metadata: options.metadata,
  };
  if (options.contentType !== undefined) header.contentType = options.contentType;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    // Known bytes: one write of header and content.
    const bytes = typeof body === 'string' ? encoder.encode(body) : body;
    checkLength(bytes.length, options);
    Object.assign(header, { size: bytes.length, etag: md5Etag(bytes), lastModified: Date.now() });
    const head = encodeHead(header, headerJson(header).length);
    const { bytesWritten } = await fh.writev([head, bytes], 0);
    if (bytesWritten < head.length) await writeAll(fh, head.subarray(bytesWritten), bytesWritten);
    await writeAll(fh, bytes.subarray(Math.max(0, bytesWritten - head.length)), Math.max(bytesWritten, head.length));
  } else {
    // A stream: reserve room for the widest header, write the content, then the header.
    const reserved = headerJson(header).length;
    const hash = createHash('md5');
    let position = PREFIX + reserved;
    for await (const chunk of body) {
      options.signal?.throwIfAborted();
      hash.update(chunk);
      await writeAll(fh, chunk, position);
      position += chunk.length;
    }
    const size = position - PREFIX - reserved;
    checkLength(size, options);
    Object.assign(header, { size, etag: `"${hash.digest('hex')}"`, lastModified: Date.now() });
    await writeAll(fh, encodeHead(header, reserved), 0);
  }
  if (options.sync) await fh.sync();
  return header;
}

function checkLength(size: number, options: WriteObjectOptions): void {
  if (options.contentLength !== undefined && options.contentLength !== size) {
    throw new InvalidArgumentError(`the body has ${size} bytes but contentLength says ${options.contentLength}`, {
      key: options.key,
    });
  }
}

/** Magic, header length and the header padded with spaces to `reserved` bytes. */
function encodeHead(header: ObjectHeader, reserved: number): Buffer {
  const head = Buffer.alloc(PREFIX + reserved, 0x20);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(reserved, MAGIC.length);
  headerJson(header).copy(head, PREFIX);
  return head;
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads and checks the header of an object file. Throws CorruptError on a malformed file. */
export async function readObjectHeader(fh: FileHandle, path: string): Promise<ObjectFileInfo> {
  let buffer = Buffer.alloc(FIRST_READ);
  const { bytesRead } = await fh.read(buffer, 0, FIRST_READ, 0);
  if (bytesRead < PREFIX || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CorruptError(`${path} is not a bucketdb object file`);
  }
  const length = buffer.readUInt32BE(MAGIC.length);
  const dataOffset = PREFIX + length;
  if (dataOffset > bytesRead) {
    buffer = Buffer.alloc(length);
    const more = await fh.read(buffer, 0, length, PREFIX);
    if (more.bytesRead < length) throw new CorruptError(`${path} has a truncated header`);
  } else {
    buffer = buffer.subarray(PREFIX, dataOffset);
  }
  let header: ObjectHeader;
  try {
    header = JSON.parse(buffer.toString('utf8')) as ObjectHeader;
  } catch (cause) {
    throw new CorruptError(`${path} has an unreadable header`, { cause });
  }
  if (typeof header.key !== 'string' || typeof header.etag !== 'string' || !Number.isSafeInteger(header.size)) {
    throw new CorruptError(`${path} has an incomplete header`);
  }
  const { size } = await fh.stat();
  if (size !== dataOffset + header.size) {
    throw new CorruptError(`${path} holds ${size - dataOffset} content bytes, its header says ${header.size}`);
  }
  return { header, dataOffset };
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
