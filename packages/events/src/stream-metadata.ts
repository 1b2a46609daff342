import { EventsError } from './errors.js';
import type { StoredEvent } from './record-events.js';

/**
 * A stream's metadata (docs/design/events.md, "Stream metadata"), kept as events of type
 * `$metadata` in the system stream `$$<stream>`, so it takes effect in the log's one order:
 * the newest one applies. Reads hide the events it rules out; retention deletes the records
 * whose events are all hidden.
 */
export interface StreamMetadata {
  /** Events older than this (by their record's timestamp) are hidden. */
  maxAgeMs?: number;
  /** Only the newest this many events are visible. */
  maxCount?: number;
  /** Events below this revision are hidden (a soft delete sets it past the last event). */
  truncateBefore?: number;
  /** Soft-deleted: hidden from `streams()` until it has an event at or past `truncateBefore`. */
  softDeleted?: boolean;
  /** Deleted for good: reads fail with `StreamDeleted`, appends too. */
  tombstoned?: boolean;
}

export const METADATA_EVENT_TYPE = '$metadata';

/** The system stream holding `stream`'s metadata. */
export function metadataStreamOf(stream: string): string {
  return `$$${stream}`;
}

/** The stream whose metadata system stream this is, or undefined. */
export function metadataTarget(stream: string): string | undefined {
  return stream.startsWith('$$') ? stream.slice(2) : undefined;
}

/** Validates metadata given by a caller; returns a clean copy. */
export function checkMetadata(meta: unknown): StreamMetadata {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new EventsError('InvalidArgument', 'stream metadata must be an object');
  }
  const out: StreamMetadata = {};
  const m = meta as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    const value = m[key];
    if (value === undefined) continue;
    if (key === 'maxAgeMs' || key === 'maxCount' || key === 'truncateBefore') {
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        throw new EventsError('InvalidArgument', `stream metadata ${key} must be an integer >= 0`);
      }
      out[key] = value as number;
    } else if (key === 'softDeleted' || key === 'tombstoned') {
      if (typeof value !== 'boolean')
        throw new EventsError('InvalidArgument', `stream metadata ${key} must be a boolean`);
      if (value) out[key] = true;
    } else {
      throw new EventsError('InvalidArgument', `unknown stream metadata ${JSON.stringify(key)}`);
    }
  }
  return out;
}

/** The metadata a `$metadata` event carries (a corrupt one counts as none). */
export function metadataOf(s: StoredEvent): StreamMetadata | undefined {
  if (s.event.type !== METADATA_EVENT_TYPE || s.event.contentType !== 'json') return undefined;
  try {
    return checkMetadata(JSON.parse(new TextDecoder().decode(s.event.data)));
  } catch {
    return undefined;
  }
}

/**
 * Whether event `revision` (written at `timestamp`) of a stream whose newest event is
 * `lastRevision` is visible under `meta` at wall-clock time `now`.
 */
export function isVisible(
  meta: StreamMetadata | undefined,
  revision: number,
  timestamp: number,
  lastRevision: number,
  now: number,
): boolean {
  if (!meta) return true;
  if (meta.tombstoned) return false;
  if (meta.truncateBefore !== undefined && revision < meta.truncateBefore) return false;
  if (meta.maxCount !== undefined && revision <= lastRevision - meta.maxCount) return false;
  if (meta.maxAgeMs !== undefined && timestamp < now - meta.maxAgeMs) return false;
  return true;
}

export function streamDeleted(stream: string): EventsError {
  return new EventsError('StreamDeleted', `stream ${JSON.stringify(stream)} is deleted for good (tombstoned)`);
}
