import { LakeArgumentError } from './errors.js';
import type { IngestSource } from './ingest.js';
import type { SchemaInput } from './schema.js';

/** A place in an event store's global order: event `index` of log record `record`. */
export interface EventPosition {
  record: number;
  index: number;
}

/** An event as the event store (`@bucketdb/events`) returns it; the fields an ingest reads. */
export interface SourceEvent {
  stream: string;
  revision: number;
  id: string;
  type: string;
  contentType: 'json' | 'bytes';
  data: unknown;
  metadata: Record<string, unknown>;
  position: EventPosition;
  timestamp: number;
}

export interface SourceEventFilter {
  streamPrefix?: string;
  eventType?: string;
  regex?: RegExp;
}

/**
 * The part of `@bucketdb/events`' EventStore an event source reads. Structural, so an EventStore
 * can be passed as it is while the lake does not depend on the event store's package.
 */
export interface EventReader {
  readStream(stream: string, options: { from?: number; limit?: number }): AsyncIterable<SourceEvent>;
  readAll(options: { from?: EventPosition; filter?: SourceEventFilter }): AsyncIterable<SourceEvent>;
  headPosition(): Promise<EventPosition>;
}

/** What to export: one stream, or `$all` (optionally filtered). */
export type EventSelection = { stream: string } | { all: true; filter?: SourceEventFilter };

/** The columns `eventRow` fills: a lake table for events is created with this schema. */
export const EVENT_SCHEMA: SchemaInput = [
  { name: 'stream', type: 'string', nullable: false },
  { name: 'revision', type: 'long', nullable: false },
  { name: 'position_record', type: 'long', nullable: false },
  { name: 'position_index', type: 'long', nullable: false },
  { name: 'id', type: 'string', nullable: false },
  { name: 'type', type: 'string', nullable: false },
  { name: 'content_type', type: 'string', nullable: false },
  { name: 'data', type: 'string' },
  { name: 'metadata', type: 'string' },
  { name: 'timestamp', type: 'timestamp', nullable: false },
  { name: 'day', type: 'date', nullable: false },
];

/**
 * One event as a row of EVENT_SCHEMA: data as JSON text (base64 for bytes events, as
 * content_type says), metadata as JSON text, `day` the UTC date of the timestamp (a partition
 * column that keeps date-bounded queries to a few files).
 */
export function eventRow(e: SourceEvent): Record<string, unknown> {
  const time = new Date(e.timestamp);
  return {
    stream: e.stream,
    revision: e.revision,
    position_record: e.position.record,
    position_index: e.position.index,
    id: e.id,
    type: e.type,
    content_type: e.contentType,
    data:
      e.data instanceof Uint8Array
        ? Buffer.from(e.data).toString('base64')
        : e.data === undefined
          ? null
          : JSON.stringify(e.data),
    metadata: JSON.stringify(e.metadata ?? {}),
    timestamp: time,
    day: time.toISOString().slice(0, 10),
  };
}

/**
 * An event stream, or `$all` with an optional filter, as an ingest source.
 *
 * A stream's position is the revision of its last event loaded. `$all`'s position is a log
 * record number, and batches end on record boundaries: a record is written atomically, so once a
 * later record (or the head read before the scan) is seen, every event of the records up to it is
 * known, matching the filter or not. A batch may thus run over `limit` by up to one record.
 */
export function eventSource(
  reader: EventReader,
  selection: EventSelection,
  map: (event: SourceEvent) => Record<string, unknown> = eventRow,
): IngestSource {
  if ('stream' in selection) {
    if (typeof selection.stream !== 'string' || selection.stream === '') {
      throw new LakeArgumentError('stream must be a non-empty string');
    }
    return {
      async read(after, limit) {
        const rows: Record<string, unknown>[] = [];
        let position = after ?? -1;
        for await (const e of reader.readStream(selection.stream, { from: position + 1, limit })) {
          rows.push(map(e));
          position = e.revision;
        }
        return { rows, position };
      },
    };
  }
  if (selection.all !== true) throw new LakeArgumentError('select { stream } or { all: true, filter? }');
  return {
    async read(after, limit) {
      // Records up to the head are complete; records appended during the scan wait for the next batch.
      const head = (await reader.headPosition()).record;
      const first = (after ?? 0) + 1;
      const rows: Record<string, unknown>[] = [];
      if (first > head) return { rows, position: head };
      let last = 0;
      let cut: number | undefined;
      for await (const e of reader.readAll({
        from: { record: first, index: 0 },
        ...(selection.filter ? { filter: selection.filter } : {}),
      })) {
        if (e.position.record > head) break;
        if (rows.length >= limit && e.position.record > last) {
          cut = e.position.record - 1;
          break;
        }
        rows.push(map(e));
        last = e.position.record;
      }
      // Not cut: every record up to the head has been read.
      const position = cut ?? head;
      return { rows, position };
    },
  };
}
