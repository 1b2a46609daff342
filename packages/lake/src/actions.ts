import { CorruptLogError, UnsupportedFeatureError } from './errors.js';

/** The Delta log actions this implementation reads and writes (PROTOCOL.md "Actions"). */
export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface AddFile {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON of FileStats. */
  stats?: string | null;
  tags?: Record<string, string> | null;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
}

export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  readVersion?: number;
  isBlindAppend?: boolean;
  /** Our transaction id: decides whether an ambiguous commit PUT landed (see commit.ts). */
  txnId?: string;
  engineInfo?: string;
  [key: string]: unknown;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number;
}

export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { commitInfo: CommitInfo }
  | { txn: Txn };

/** Per-file statistics as the protocol's "Per-file Statistics" section defines them. */
export interface FileStats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, number>;
}

/** What this implementation supports: reader version 1 and writer version 2 (no table features). */
export const READER_VERSION = 1;
export const WRITER_VERSION = 2;
export const SUPPORTED_READER_FEATURES: readonly string[] = [];
export const SUPPORTED_WRITER_FEATURES: readonly string[] = ['appendOnly', 'invariants'];

/** Refuses to read a table whose protocol needs reader features we do not implement. */
export function checkReadable(protocol: Protocol): void {
  const v = protocol.minReaderVersion;
  if (v <= READER_VERSION) return;
  if (v === 2) {
    throw new UnsupportedFeatureError(`table needs reader version 2 (column mapping), which is not supported`);
  }
  if (v === 3) {
    const unknown = (protocol.readerFeatures ?? []).filter((f) => !SUPPORTED_READER_FEATURES.includes(f));
    if (unknown.length === 0) return;
    throw new UnsupportedFeatureError(`table needs reader features not supported here: ${unknown.join(', ')}`);
  }
  throw new UnsupportedFeatureError(`table needs reader version ${v}; this reader supports up to ${READER_VERSION}`);
}

/** Refuses to write a table whose protocol needs writer features we do not implement. */
export function checkWritable(protocol: Protocol): void {
  checkReadable(protocol);
  const v = protocol.minWriterVersion;
  if (v <= WRITER_VERSION) return;
  if (v === 7) {
    const unknown = (protocol.writerFeatures ?? []).filter((f) => !SUPPORTED_WRITER_FEATURES.includes(f));
    if (unknown.length === 0) return;
    throw new UnsupportedFeatureError(`table needs writer features not supported here: ${unknown.join(', ')}`);
  }
  throw new UnsupportedFeatureError(`table needs writer version ${v}; this writer supports up to ${WRITER_VERSION}`);
}

/** A commit file: one JSON action per line. */
export function serializeActions(actions: readonly Action[]): Uint8Array {
  return new TextEncoder().encode(actions.map((a) => JSON.stringify(a)).join('\n') + '\n');
}

const KINDS = ['protocol', 'metaData', 'add', 'remove', 'commitInfo', 'txn', 'cdc', 'domainMetadata'];

export function parseActions(body: Uint8Array | string, where: string): Action[] {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const actions: Action[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (cause) {
      throw new CorruptLogError(`${where} line ${i + 1} is not JSON`, { cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CorruptLogError(`${where} line ${i + 1} is not an action object`);
    }
    const kind = Object.keys(parsed)[0];
    // Unknown action kinds are ignored, as the protocol asks of readers; table features gate the rest.
    if (kind !== undefined && KINDS.includes(kind)) actions.push(parsed as Action);
  }
  return actions;
}

export function parseStats(add: AddFile): FileStats | undefined {
  if (typeof add.stats !== 'string' || add.stats === '') return undefined;
  try {
    const s = JSON.parse(add.stats) as Partial<FileStats>;
    return {
      numRecords: typeof s.numRecords === 'number' ? s.numRecords : NaN,
      minValues: s.minValues ?? {},
      maxValues: s.maxValues ?? {},
      nullCount: s.nullCount ?? {},
    };
  } catch {
    return undefined; // stats are optional; bad stats only cost us skipping
  }
}
