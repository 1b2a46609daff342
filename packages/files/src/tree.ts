import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { ObjectStore } from '@bucketdb/store';
import { FilesError } from './errors.js';

/** One side of a sync or recursive copy: a local directory or a prefix of a store. */
export type TreeEndpoint = { kind: 'local'; dir: string } | { kind: 'store'; store: ObjectStore; prefix: string };

export interface TreeEntry {
  /** Relative to the directory or prefix, `/`-separated. */
  path: string;
  size: number;
  /** The object's ETag; absent for local files. */
  etag?: string;
}

/** Names of our transfer state and partial files: never part of a tree. */
export function isTransferArtifact(name: string): boolean {
  return (
    /\.bucketdb-(download|download\.json|upload\.json)$/.test(name) ||
    /\.bucketdb-download\.json\.[0-9a-f]+\.tmp$/.test(name)
  );
}

/** Every file under the endpoint, sorted by path. A missing directory is an empty tree. */
export async function listTree(endpoint: TreeEndpoint, signal?: AbortSignal): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  if (endpoint.kind === 'store') {
    for await (const entry of endpoint.store.list({ prefix: endpoint.prefix, ...(signal ? { signal } : {}) })) {
      // Zero-byte keys ending in `/` are folder markers of consoles, not files.
      if (entry.kind !== 'object' || (entry.key.endsWith('/') && entry.size === 0)) continue;
      entries.push({ path: entry.key.slice(endpoint.prefix.length), size: entry.size, etag: entry.etag });
    }
    return entries;
  }
  const walk = async (dir: string, rel: string): Promise<void> => {
    let names;
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw error;
    }
    for (const d of names) {
      const path = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(join(dir, d.name), path);
      else if (d.isFile() && !isTransferArtifact(d.name)) {
        entries.push({ path, size: (await stat(join(dir, d.name))).size });
      }
    }
  };
  await walk(endpoint.dir, '');
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The local path of a relative path from a store. Keys may hold segments that would climb out
 * of the directory (`..`) or mean nothing on disk (``, `.`): those are refused, never followed.
 */
export function localPath(dir: string, rel: string): string {
  const segments = rel.split('/');
  if (
    segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0') || (sep === '\\' && s.includes('\\')))
  ) {
    throw new FilesError('InvalidArgument', `the key ${JSON.stringify(rel)} cannot be a local file name`, {
      path: rel,
    });
  }
  return join(dir, ...segments);
}
