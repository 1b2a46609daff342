/** What an append expects of a stream: any state, no events yet, at least one event, or exactly this revision. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export type ContentType = 'json' | 'bytes';

/** An event to append. */
export interface EventData {
  /** Unique id; a retry with the same ids cannot write the events twice. Default: a random UUID. */
  id?: string;
  type: string;
  /** A JSON value, or bytes. Bytes with `contentType: 'json'` must be UTF-8 JSON text. */
  data?: unknown;
  /** Default: `bytes` for a Uint8Array, else `json`. */
  contentType?: ContentType;
  /** A JSON object. */
  metadata?: Record<string, unknown>;
}

/**
 * A place in the one global order: event `index` (counting every event of the record) of log
 * record `record`. Record 0 index 0 is before everything.
 */
export interface Position {
  record: number;
  index: number;
}

export interface RecordedEvent {
  stream: string;
  /** 0 for the stream's first event. */
  revision: number;
  id: string;
  type: string;
  contentType: ContentType;
  /** Parsed JSON, or bytes. */
  data: unknown;
  metadata: Record<string, unknown>;
  position: Position;
  /** The committing writer's clock (ms since the epoch) when it wrote the record. */
  timestamp: number;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the stream's last written event: pass it as `expectedRevision` next time. */
  nextRevision: number;
  /** Position of the last written event. */
  position: Position;
}

/** One stream's part of an atomic multi-stream append. */
export interface StreamAppend {
  stream: string;
  events: EventData[];
  expectedRevision?: ExpectedRevision;
}

export interface MultiAppendResult {
  streams: { stream: string; nextRevision: number }[];
  position: Position;
}

/** Which events of `$all` to return: all conditions given must hold. */
export interface EventFilter {
  streamPrefix?: string;
  eventType?: string;
  /** Matched against the stream name. */
  regex?: RegExp;
}

export type Direction = 'forwards' | 'backwards';
