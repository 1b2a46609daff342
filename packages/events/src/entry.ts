import { randomUUID } from 'node:crypto';
import { EventsError } from './errors.js';
import type { ContentType, EventData } from './types.js';

/**
 * One append is one entry of a log record: a format byte, a u32 (LE) header length, a JSON header,
 * then every event's data back to back. The log frames and checksums the record around it.
 *
 * Each part names its stream and `base`, the revision the stream must have just before it (-1:
 * no events). Event i of the part has revision base + 1 + i, so a reader of any one record knows
 * every revision in it without the rest of the log.
 */
const ENTRY_FORMAT = 1;

export interface EncodedEvent {
  id: string;
  type: string;
  contentType: ContentType;
  metadata: Record<string, unknown>;
  data: Uint8Array;
}

export interface EntryPart {
  stream: string;
  base: number;
  events: EncodedEvent[];
}

interface HeaderEvent {
  i: string;
  t: string;
  c: 'j' | 'b';
  n: number;
  m?: Record<string, unknown>;
}

interface Header {
  p: { s: string; b: number; e: HeaderEvent[] }[];
}

export interface Limits {
  maxEventBytes: number;
  maxAppendBytes: number;
}

const MAX_NAME_BYTES = 256;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 length of `text` (lone surrogates count as U+FFFD, as TextEncoder writes them), without encoding it. */
function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function checkStreamName(stream: unknown): asserts stream is string {
  const bad = (why: string) =>
    new EventsError('InvalidStreamName', `invalid stream name ${JSON.stringify(stream)}: ${why}`);
  if (typeof stream !== 'string' || stream === '') throw bad('it must be a non-empty string');
  if (stream.startsWith('$')) throw bad('names starting with "$" are reserved');
  if (!stream.isWellFormed()) throw bad('it is not well-formed Unicode');
  if (/[\u0000-\u001f\u007f]/.test(stream)) throw bad('it contains a control character');
  if (utf8Length(stream) > MAX_NAME_BYTES) throw bad(`it is longer than ${MAX_NAME_BYTES} UTF-8 bytes`);
}

/** Validates and encodes the events of one append part; throws before anything is written. */
export function encodeEvents(events: unknown, limits: Limits, seenIds: Set<string>): EncodedEvent[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw new EventsError('InvalidArgument', 'events must be a non-empty array');
  }
  return events.map((event: unknown, n) => encodeEvent(event, n, limits, seenIds));
}

function encodeEvent(event: unknown, n: number, limits: Limits, seenIds: Set<string>): EncodedEvent {
  const bad = (why: string) => new EventsError('InvalidEvent', `event ${n}: ${why}`);
  if (typeof event !== 'object' || event === null) throw bad('it must be an object {type, data, metadata?, id?}');
  const e = event as EventData;
  if (typeof e.type !== 'string' || e.type === '' || utf8Length(e.type) > MAX_NAME_BYTES) {
    throw bad(`type must be a non-empty string of at most ${MAX_NAME_BYTES} bytes`);
  }
  const id = e.id ?? randomUUID();
  if (typeof id !== 'string' || id === '' || id.length > 128)
    throw bad('id must be a non-empty string of at most 128 characters');
  if (seenIds.has(id)) throw bad(`id ${id} appears twice in one append`);
  seenIds.add(id);
  const contentType = e.contentType ?? (e.data instanceof Uint8Array ? 'bytes' : 'json');
  if (contentType !== 'json' && contentType !== 'bytes') throw bad(`contentType must be "json" or "bytes"`);
  let data: Uint8Array;
  if (e.data instanceof Uint8Array) {
    data = new Uint8Array(e.data);
    if (contentType === 'json') {
      try {
        JSON.parse(decoder.decode(data));
      } catch {
        throw bad('data is not UTF-8 JSON text, but its contentType is "json"');
      }
    }
  } else {
    if (contentType === 'bytes') throw bad('data must be a Uint8Array when contentType is "bytes"');
    data = encoder.encode(jsonText(e.data ?? null, bad, 'data'));
  }
  let metadata: Record<string, unknown> = {};
  let size = data.length;
  if (e.metadata !== undefined) {
    if (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata)) {
      throw bad('metadata must be a JSON object');
    }
    const text = jsonText(e.metadata, bad, 'metadata');
    metadata = JSON.parse(text) as Record<string, unknown>;
    size += utf8Length(text);
  }
  if (size > limits.maxEventBytes) {
    throw new EventsError(
      'EventTooLarge',
      `event ${n}: ${size} bytes of data and metadata, more than ${limits.maxEventBytes}`,
    );
  }
  return { id, type: e.type, contentType, metadata, data };
}

/** JSON.stringify that refuses what would not round-trip (undefined, functions, BigInt, cycles, NaN). */
function jsonText(value: unknown, bad: (why: string) => EventsError, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${v} is not JSON`);
      if (typeof v === 'function' || typeof v === 'symbol') throw new Error(`a ${typeof v} is not JSON`);
      return v;
    });
  } catch (error) {
    throw bad(`${what} is not JSON-serializable: ${(error as Error).message}`);
  }
  if (text === undefined) throw bad(`${what} is not JSON-serializable`);
  return text;
}

export function checkAppendSize(parts: EntryPart[], limits: Limits): void {
  let total = 0;
  for (const part of parts) for (const e of part.events) total += e.data.length + 256;
  if (total > limits.maxAppendBytes) {
    throw new EventsError(
      'AppendTooLarge',
      `the append holds about ${total} bytes, more than ${limits.maxAppendBytes}`,
    );
  }
}

export function encodeEntry(parts: EntryPart[]): Uint8Array {
  const header: Header = {
    p: parts.map((part) => ({
      s: part.stream,
      b: part.base,
      e: part.events.map((e) => {
        const h: HeaderEvent = { i: e.id, t: e.type, c: e.contentType === 'json' ? 'j' : 'b', n: e.data.length };
        if (Object.keys(e.metadata).length > 0) h.m = e.metadata;
        return h;
      }),
    })),
  };
  const headerText = JSON.stringify(header);
  const headerLength = utf8Length(headerText);
  const dataBytes = parts.reduce((n, p) => n + p.events.reduce((m, e) => m + e.data.length, 0), 0);
  const out = new Uint8Array(5 + headerLength + dataBytes);
  out[0] = ENTRY_FORMAT;
  new DataView(out.buffer).setUint32(1, headerLength, true);
  encoder.encodeInto(headerText, out.subarray(5, 5 + headerLength));
  let offset = 5 + headerLength;
  for (const part of parts) {
    for (const e of part.events) {
      out.set(e.data, offset);
      offset += e.data.length;
    }
  }
  return out;
}

/** Decodes an entry; `where` names it in errors. Data are views into `bytes`. */
export function decodeEntry(bytes: Uint8Array, where: string): EntryPart[] {
  const corrupt = (why: string) => new EventsError('Corrupt', `${where} is not an event-store entry: ${why}`);
  if (bytes.length < 5 || bytes[0] !== ENTRY_FORMAT) throw corrupt('unknown entry format');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(1, true);
  if (5 + headerLength > bytes.length) throw corrupt('truncated header');
  let header: Header;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(5, 5 + headerLength))) as Header;
  } catch {
    throw corrupt('bad header');
  }
  if (!Array.isArray(header?.p)) throw corrupt('bad header');
  let offset = 5 + headerLength;
  const parts = header.p.map((p) => {
    if (typeof p?.s !== 'string' || !Number.isSafeInteger(p.b) || !Array.isArray(p.e)) throw corrupt('bad part');
    return {
      stream: p.s,
      base: p.b,
      events: p.e.map((e) => {
        if (typeof e?.i !== 'string' || typeof e.t !== 'string' || !Number.isSafeInteger(e.n) || e.n < 0) {
          throw corrupt('bad event');
        }
        if (offset + e.n > bytes.length) throw corrupt('data runs past the end');
        const data = bytes.subarray(offset, offset + e.n);
        offset += e.n;
        return {
          id: e.i,
          type: e.t,
          contentType: e.c === 'b' ? 'bytes' : 'json',
          metadata: e.m ?? {},
          data,
        } as EncodedEvent;
      }),
    };
  });
  if (offset !== bytes.length) throw corrupt('bytes after the last event');
  return parts;
}

/** The user's view of a stored event's data. */
export function decodeData(e: EncodedEvent): unknown {
  return e.contentType === 'json' ? JSON.parse(decoder.decode(e.data)) : new Uint8Array(e.data);
}
