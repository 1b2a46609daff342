import { randomUUID } from 'node:crypto';
import { type ObjectStore, putIfAbsent } from '@bucketdb/store';
import { type Action, type CommitInfo, parseActions, serializeActions } from './actions.js';
import { CommitConflictError } from './errors.js';
import { commitKey } from './paths.js';

export interface CommitRequest {
  table: string;
  /** The version the transaction read (-1 when creating the table). */
  readVersion: number;
  actions: Action[];
  operation: string;
  operationParameters?: Record<string, unknown>;
  /**
   * Paths of data files the transaction read (scanned to decide what to delete, update or
   * compact). A concurrent commit that removed any of them makes ours conflict.
   */
  readFiles?: ReadonlySet<string>;
  now: () => number;
  /** How many newer versions to check and step over before giving up (default 1000). */
  maxVersionsAhead?: number;
  /** Deliberately broken behaviour, only for showing that the tests' checkers catch it. */
  unsafe?: UnsafeOptions;
}

export interface UnsafeOptions {
  /** Treat every winning commit as compatible (loses deletes and updates). */
  skipConflictCheck?: boolean;
  /** Never recognize our own commit after an ambiguous PUT (commits it twice). */
  skipCommitResolution?: boolean;
}

export interface CommitResult {
  version: number;
  /** Versions committed by others between our read and our commit. */
  skipped: number;
}

export const ENGINE_INFO = 'bucketdb-lake/0.1.0';

/**
 * Commits actions as the next version with put-if-absent, following the protocol's optimistic
 * concurrency: when another writer took version v first, read its actions; if they do not
 * conflict with ours (blind appends never do; a change to metadata or protocol always does; a
 * removal of a file we read does), try v+1. The commit carries a unique `txnId` in commitInfo so
 * an ambiguous PUT outcome is resolved by reading the key back (putIfAbsent's `isOurs`).
 */
export async function commit(store: ObjectStore, request: CommitRequest): Promise<CommitResult> {
  const txnId = randomUUID();
  const readFiles = request.readFiles ?? new Set<string>();
  const limit = request.maxVersionsAhead ?? 1000;
  const isBlindAppend = readFiles.size === 0 && request.actions.every((a) => 'add' in a || 'txn' in a);
  for (let version = request.readVersion + 1, skipped = 0; ; version++, skipped++) {
    if (skipped > limit) {
      throw new CommitConflictError('TooManyRetries', version, `${limit} newer versions committed since our read`);
    }
    const commitInfo: CommitInfo = {
      timestamp: request.now(),
      operation: request.operation,
      operationParameters: request.operationParameters ?? {},
      ...(request.readVersion >= 0 ? { readVersion: request.readVersion } : {}),
      isBlindAppend,
      txnId,
      engineInfo: ENGINE_INFO,
    };
    const body = serializeActions([{ commitInfo }, ...request.actions]);
    const key = commitKey(request.table, version);
    const outcome = await putIfAbsent(store, key, body, {
      isOurs: (existing) =>
        !request.unsafe?.skipCommitResolution && new TextDecoder().decode(existing).includes(`"txnId":"${txnId}"`),
    });
    if (outcome.created) return { version, skipped };
    if (!request.unsafe?.skipConflictCheck) {
      const appIds = new Set(request.actions.flatMap((a) => ('txn' in a ? [a.txn.appId] : [])));
      checkConflict(parseActions(outcome.existing, key), version, readFiles, appIds);
    }
  }
}

/** The protocol's conflict rules for a winning commit against our transaction. */
export function checkConflict(
  winner: readonly Action[],
  version: number,
  readFiles: ReadonlySet<string>,
  appIds: ReadonlySet<string> = new Set(),
): void {
  for (const a of winner) {
    if ('txn' in a && appIds.has(a.txn.appId)) {
      throw new CommitConflictError('ConcurrentTransaction', version, `application ${a.txn.appId} committed meanwhile`);
    }
    if ('metaData' in a) throw new CommitConflictError('MetadataChanged', version, 'the table metadata changed');
    if ('protocol' in a) throw new CommitConflictError('ProtocolChanged', version, 'the table protocol changed');
    if ('remove' in a && readFiles.has(a.remove.path)) {
      throw new CommitConflictError(
        'ConcurrentDeleteRead',
        version,
        `a file this transaction read was removed: ${a.remove.path}`,
      );
    }
  }
}
