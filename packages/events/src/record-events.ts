import type { LogRecord } from '@bucketdb/log';
import { decodeData, decodeEntry, type EncodedEvent, type EntryPart } from './entry.js';
import type { Position, RecordedEvent } from './types.js';

/** An event as stored in a record, before its data is decoded. */
export interface StoredEvent {
  stream: string;
  revision: number;
  event: EncodedEvent;
  position: Position;
  timestamp: number;
}

/**
 * Every event of a record, in order; position indexes count across all its entries. `known`
 * gives the parts of entries the caller encoded itself (a writer's own), saving their decoding.
 */
export function recordEvents(record: LogRecord, known?: (entry: Uint8Array) => EntryPart[] | undefined): StoredEvent[] {
  const out: StoredEvent[] = [];
  record.entries.forEach((entry, n) => {
    for (const part of known?.(entry) ?? decodeEntry(entry, `entry ${n} of log record ${record.version}`)) {
      part.events.forEach((event, i) => {
        out.push({
          stream: part.stream,
          revision: part.base + 1 + i,
          event,
          position: { record: record.version, index: out.length },
          timestamp: record.timestamp,
        });
      });
    }
  });
  return out;
}

export function toRecorded(s: StoredEvent): RecordedEvent {
  return {
    stream: s.stream,
    revision: s.revision,
    id: s.event.id,
    type: s.event.type,
    contentType: s.event.contentType,
    data: decodeData(s.event),
    metadata: s.event.metadata,
    position: s.position,
    timestamp: s.timestamp,
  };
}
