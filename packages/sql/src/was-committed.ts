import { randomUUID } from 'node:crypto';
import type { CommitLog } from '@bucketdb/log';
import { InvalidArgumentError } from '@bucketdb/store';
import { retryCatchUp, retryReads } from './retry-reads.js';

/** A commit id names the log slot it was written for: `<slot>-<uuid>`, unique across writers. */
export function commitIdFor(version: number): string {
  return `${version}-${randomUUID()}`;
}

function slotOf(commitId: string): number {
  const match = /^(\d+)-[0-9a-f-]{36}$/.exec(commitId);
  const slot = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(slot) || slot < 1) {
    throw new InvalidArgumentError(`${JSON.stringify(commitId)} is not a commit id of this database`);
  }
  return slot;
}

/**
 * Whether the record `commitId` was written for is in the log. Exact: a slot found empty at the
 * tail is first filled with an empty record (put-if-absent), so a delayed write of the commit can
 * never land there afterwards; an answer, once given, stays true.
 */
export async function wasCommitted(log: CommitLog, commitId: string): Promise<boolean> {
  const slot = slotOf(commitId);
  for (;;) {
    if (log.version >= slot) return (await retryReads(() => log.read(slot))).commitId === commitId;
    await retryCatchUp(
      () => log.catchUp(),
      () => log.version,
    );
    if (log.version >= slot) continue;
    if (log.version < slot - 1) {
      throw new InvalidArgumentError(`${JSON.stringify(commitId)} names slot ${slot}, beyond the log's tail`);
    }
    // The slot is empty: fence it. Winning proves the commit can never land; losing means someone's
    // record is there (perhaps ours, after all): read it on the next round.
    if ((await log.tryAppend([], slot)).committed) return false;
  }
}
