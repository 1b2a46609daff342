import type { CommitLog } from '@bucketdb/log';
import { decodeEntry } from './commit-entry.js';

export interface RecordSummary {
  version: number;
  commitId: string;
  timestamp: number;
  /** Pages whose images the record carries, and the database size after it. */
  pages: number;
  pageCount: number;
  bytes: number;
}

/** The newest `n` records up to `version`, oldest first. */
export async function recentRecords(log: CommitLog, version: number, n: number): Promise<RecordSummary[]> {
  const out: RecordSummary[] = [];
  for await (const r of log.readRange(Math.max(0, version - n), version)) {
    const sets = r.entries.map((e, i) => decodeEntry(e, `log record ${r.version} entry ${i}`));
    out.push({
      version: r.version,
      commitId: r.commitId,
      timestamp: r.timestamp,
      pages: sets.reduce((k, s) => k + s.pages.size, 0),
      pageCount: sets.at(-1)?.pageCount ?? 0,
      bytes: r.entries.reduce((k, e) => k + e.length, 0),
    });
  }
  return out;
}
