import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  path: string;
  [Symbol.asyncDispose](): Promise<void>;
  remove(): Promise<void>;
}

/** A fresh directory under the OS temp dir, removed by `remove()` or `await using`. */
export async function tempDir(label = 'bucketdb'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `${label}-`));
  const remove = () => rm(path, { recursive: true, force: true });
  return { path, remove, [Symbol.asyncDispose]: remove };
}
