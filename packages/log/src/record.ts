import { LogError } from './errors.js';
import { decodeFrame, encodeFrame } from './frame.js';

export interface LogRecord {
  /** Slot number N >= 1 (version 0 is the empty log). */
  version: number;
  /** Random id chosen by the committer; resolves ambiguous writes. */
  commitId: string;
  /** The committer's clock, ms since the epoch. */
  timestamp: number;
  /** Opaque payloads, one per grouped caller. */
  entries: Uint8Array[];
  /** Lease epoch (async mode). */
  epoch?: number;
}

/** The JSON header of a record frame; the entries follow it as the payload, back to back. */
interface RecordHeader {
  version: number;
  commitId: string;
  timestamp: number;
  epoch?: number;
  entryLengths: number[];
}

export function encodeRecord(record: LogRecord): Uint8Array {
  const header: RecordHeader = {
    version: record.version,
    commitId: record.commitId,
    timestamp: record.timestamp,
    entryLengths: record.entries.map((e) => e.length),
  };
  if (record.epoch !== undefined) header.epoch = record.epoch;
  return encodeFrame('record', header, record.entries);
}

/**
 * Decodes the record stored at `key`, which must be slot `version`: a record copied to another
 * slot is as wrong as a flipped bit. Entries are views into `bytes`.
 */
export function decodeRecord(bytes: Uint8Array, version: number, key: string): LogRecord {
  const { header, payload } = decodeFrame('record', bytes, key);
  const h = header as Partial<RecordHeader>;
  const corrupt = (detail: string) => new LogError('Corrupt', `record ${key} is corrupt: ${detail}`, { key });
  if (h.version !== version) throw corrupt(`it says it is version ${h.version}`);
  if (typeof h.commitId !== 'string' || h.commitId === '') throw corrupt('missing commit id');
  if (typeof h.timestamp !== 'number' || !Number.isFinite(h.timestamp)) throw corrupt('missing timestamp');
  if (h.epoch !== undefined && !Number.isSafeInteger(h.epoch)) throw corrupt('bad epoch');
  const lengths = h.entryLengths;
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw corrupt('bad entry lengths');
  }
  const entries: Uint8Array[] = [];
  let offset = 0;
  for (const length of lengths as number[]) {
    if (offset + length > payload.length) throw corrupt('entries run past the end');
    entries.push(payload.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== payload.length) throw corrupt(`${payload.length - offset} bytes after the last entry`);
  const record: LogRecord = { version, commitId: h.commitId, timestamp: h.timestamp, entries };
  if (h.epoch !== undefined) record.epoch = h.epoch;
  return record;
}

/** What one append attempt did (CommitLog.tryAppend). */
export type AppendOutcome =
  | { committed: true; version: number; commitId: string }
  /** Slot `version` was taken by someone else. */
  | { committed: false; version: number };
