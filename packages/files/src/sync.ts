import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { etagsEqual, mapConcurrent } from '@bucketdb/store';
import { copyObject } from './copy-object.js';
import { downloadFile } from './download-file.js';
import { EtagCheck } from './etag-check.js';
import { type FilterOptions, globFilter } from './glob-filter.js';
import { DEFAULT_PART_SIZE, type PartOptions } from './part-plan.js';
import type { UploadProgress } from './part-upload.js';
import type { RetryOptions } from './retry.js';
import { listTree, localPath, type TreeEndpoint, type TreeEntry } from './tree.js';
import { uploadFile } from './upload-file.js';

export interface SyncOptions extends PartOptions, FilterOptions {
  /** Delete files of the target that the source does not have (that pass the filters). */
  delete?: boolean;
  /** Decide and report, change nothing. */
  dryRun?: boolean;
  /** Copy every file, equal or not (a recursive copy). */
  always?: boolean;
  /** Small files copied at once (default 2 × concurrency); large ones go one at a time, each in parallel parts. */
  fileConcurrency?: number;
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** Each decision, before it is carried out. */
  onAction?: (action: SyncAction) => void;
  /** Bytes of the copies so far, and in all. */
  onProgress?: (progress: UploadProgress) => void;
}

export interface SyncAction {
  op: 'copy' | 'delete';
  path: string;
  size: number;
  /** Why: the target lacks it, differs in size or checksum, has a file the source lacks, or `always`. */
  reason: 'missing' | 'size' | 'checksum' | 'extra' | 'always';
}

export interface SyncResult {
  copied: SyncAction[];
  deleted: SyncAction[];
  /** Files equal on both sides. */
  unchanged: number;
  bytes: number;
  failed: { action: SyncAction; error: Error }[];
}

/**
 * Makes the target tree hold what the source tree holds, like `aws s3 sync`: local ↔ store ↔
 * store. A file is copied when the target lacks it, its size differs, or its content does not
 * match the other side's ETag (a local file is hashed as the object's ETag was made; two objects
 * compare ETags). A file that fails is reported and the rest go on.
 */
export async function sync(source: TreeEndpoint, target: TreeEndpoint, options: SyncOptions = {}): Promise<SyncResult> {
  const take = globFilter(options);
  const [from, to] = await Promise.all([listTree(source, options.signal), listTree(target, options.signal)]);
  const existing = new Map(to.map((e) => [e.path, e]));
  const copies: SyncAction[] = [];
  let unchanged = 0;
  for (const entry of from) {
    if (!take(entry.path)) continue;
    const other = existing.get(entry.path);
    const reason = options.always ? 'always' : await difference(source, entry, target, other);
    if (reason === undefined) unchanged++;
    else copies.push({ op: 'copy', path: entry.path, size: entry.size, reason });
  }
  const present = new Set(from.map((e) => e.path));
  const deletes: SyncAction[] = options.delete
    ? to
        .filter((e) => !present.has(e.path) && take(e.path))
        .map((e) => ({ op: 'delete', path: e.path, size: e.size, reason: 'extra' }))
    : [];
  const result: SyncResult = { copied: [], deleted: [], unchanged, bytes: 0, failed: [] };
  const total = copies.reduce((n, a) => n + a.size, 0);
  let done = 0;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const concurrency = options.concurrency ?? 8;
  const run = async (action: SyncAction, fn: () => Promise<void>) => {
    options.onAction?.(action);
    if (options.dryRun) return;
    try {
      await fn();
      (action.op === 'copy' ? result.copied : result.deleted).push(action);
      if (action.op === 'copy') {
        result.bytes += action.size;
        done += action.size;
        options.onProgress?.({ bytes: done, total });
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      result.failed.push({ action, error: error as Error });
    }
  };
  const small = copies.filter((a) => a.size <= partSize);
  const large = copies.filter((a) => a.size > partSize);
  const copy = (a: SyncAction, parts: PartOptions) =>
    run(a, () => copyOne(source, target, a.path, { ...options, ...parts }));
  await mapConcurrent(small, options.fileConcurrency ?? 2 * concurrency, (a) => copy(a, { concurrency: 1 }));
  for (const a of large) await copy(a, {});
  await mapConcurrent(deletes, options.fileConcurrency ?? 2 * concurrency, (a) =>
    run(a, () => deleteOne(target, a.path)),
  );
  return result;
}

async function difference(
  source: TreeEndpoint,
  entry: TreeEntry,
  target: TreeEndpoint,
  other: TreeEntry | undefined,
): Promise<SyncAction['reason'] | undefined> {
  if (!other) return 'missing';
  if (other.size !== entry.size) return 'size';
  if (entry.etag !== undefined && other.etag !== undefined)
    return etagsEqual(entry.etag, other.etag) ? undefined : 'checksum';
  if (entry.etag === undefined && other.etag === undefined) return undefined; // two local files: size only
  // One local file, one object: hash the file the way the object's ETag was made.
  const [local, etag] = entry.etag === undefined ? [source, other.etag as string] : [target, entry.etag];
  const check = new EtagCheck(etag, entry.size);
  if (!check.checkable || local.kind !== 'local') return undefined;
  for await (const chunk of createReadStream(join(local.dir, ...entry.path.split('/')), { highWaterMark: 1 << 20 })) {
    check.update(chunk as Buffer);
  }
  return check.matches() ? undefined : 'checksum';
}

async function copyOne(source: TreeEndpoint, target: TreeEndpoint, path: string, options: SyncOptions): Promise<void> {
  const { onProgress: _p, onAction: _a, ...transfer } = options;
  if (source.kind === 'local') {
    const file = join(source.dir, ...path.split('/'));
    if (target.kind === 'store') {
      await uploadFile(target.store, file, target.prefix + path, transfer);
      return;
    }
    const to = localPath(target.dir, path);
    await mkdir(dirname(to), { recursive: true });
    await copyFile(file, to);
    return;
  }
  const key = source.prefix + path;
  if (target.kind === 'store') {
    await copyObject(source.store, key, target.store, target.prefix + path, transfer);
    return;
  }
  const to = localPath(target.dir, path);
  await mkdir(dirname(to), { recursive: true });
  await downloadFile(source.store, key, to, transfer);
}

async function deleteOne(target: TreeEndpoint, path: string): Promise<void> {
  if (target.kind === 'store') await target.store.delete(target.prefix + path);
  else await rm(localPath(target.dir, path));
}
