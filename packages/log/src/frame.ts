import { crc32c } from '@bucketdb/store';
import { LogError } from './errors.js';

/**
 * The envelope of every object the log writes (records, checkpoint manifests, the hint).
 * Little-endian:
 *
 * ```
 * offset size
 *  0     4    magic: what kind of object this is ("BDBR" record, "BDBC" checkpoint, "BDBH" hint)
 *  4     2    format version (1); a reader refuses a newer one instead of guessing
 *  6     2    flags, 0 in version 1
 *  8     4    body length: the bytes after this 16-byte prefix
 * 12     4    CRC32C of the body
 * 16     4    header length
 * 20     n    header: UTF-8 JSON
 * 20+n   ...  payload
 * ```
 *
 * Only the first 8 bytes are fixed forever; a later format version may change everything after
 * them, which is why the version is checked before the length and checksum.
 */
export const FRAME_FORMAT_VERSION = 1;
const PREFIX_BYTES = 16;
const HEADER_LENGTH_BYTES = 4;

export type FrameKind = 'record' | 'checkpoint' | 'hint' | 'floor';
const MAGIC: Record<FrameKind, number> = {
  record: 0x52424442, // "BDBR" read as little-endian u32
  checkpoint: 0x43424442, // "BDBC"
  hint: 0x48424442, // "BDBH"
  floor: 0x46424442, // "BDBF"
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface Frame {
  header: unknown;
  payload: Uint8Array;
}

export function encodeFrame(kind: FrameKind, header: unknown, payload: readonly Uint8Array[] = []): Uint8Array {
  const headerBytes = encoder.encode(JSON.stringify(header));
  const payloadLength = payload.reduce((n, part) => n + part.length, 0);
  const bodyLength = HEADER_LENGTH_BYTES + headerBytes.length + payloadLength;
  if (bodyLength > 0xffffffff) throw new LogError('InvalidArgument', `a ${kind} is limited to 4 GiB`);
  const out = new Uint8Array(PREFIX_BYTES + bodyLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC[kind], true);
  view.setUint16(4, FRAME_FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, bodyLength, true);
  view.setUint32(PREFIX_BYTES, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES + HEADER_LENGTH_BYTES);
  let offset = PREFIX_BYTES + HEADER_LENGTH_BYTES + headerBytes.length;
  for (const part of payload) {
    out.set(part, offset);
    offset += part.length;
  }
  view.setUint32(12, crc32c(out.subarray(PREFIX_BYTES)), true);
  return out;
}

/** Checks the envelope and returns the parsed header and a view of the payload. */
export function decodeFrame(kind: FrameKind, bytes: Uint8Array, key: string): Frame {
  const corrupt = (detail: string) => new LogError('Corrupt', `${kind} ${key} is corrupt: ${detail}`, { key });
  if (bytes.length < 8) throw corrupt(`${bytes.length} bytes is shorter than any ${kind}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC[kind]) throw corrupt(`it does not start with the ${kind} magic number`);
  const format = view.getUint16(4, true);
  const flags = view.getUint16(6, true);
  if (format !== FRAME_FORMAT_VERSION || flags !== 0) {
    throw new LogError(
      'UnsupportedFormat',
      `${kind} ${key} has format version ${format} (flags ${flags}); this reader knows version ${FRAME_FORMAT_VERSION}: upgrade bucketdb`,
      { key },
    );
  }
  if (bytes.length < PREFIX_BYTES) throw corrupt(`truncated to ${bytes.length} bytes`);
  const bodyLength = view.getUint32(8, true);
  const actual = bytes.length - PREFIX_BYTES;
  if (actual < bodyLength) throw corrupt(`truncated: ${actual} of ${bodyLength} body bytes`);
  if (actual > bodyLength) throw corrupt(`${actual - bodyLength} bytes after the end of the body`);
  const body = bytes.subarray(PREFIX_BYTES);
  if (crc32c(body) !== view.getUint32(12, true)) throw corrupt('CRC32C checksum mismatch');
  if (bodyLength < HEADER_LENGTH_BYTES) throw corrupt('no header');
  const headerLength = view.getUint32(PREFIX_BYTES, true);
  if (headerLength > bodyLength - HEADER_LENGTH_BYTES) throw corrupt('header length exceeds the body');
  const headerEnd = HEADER_LENGTH_BYTES + headerLength;
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(body.subarray(HEADER_LENGTH_BYTES, headerEnd)));
  } catch (cause) {
    throw new LogError('Corrupt', `${kind} ${key} is corrupt: its header is not valid JSON`, { key, cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('header is not an object');
  return { header, payload: body.subarray(headerEnd) };
}
