import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/**
 * The small JSON files that let an interrupted transfer continue. Written whole to a temporary
 * name and renamed, so a kill leaves the old state or the new one, never half of one. A state
 * that cannot be read, or belongs to another transfer, is ignored: the transfer starts over.
 */
export async function readState<T extends object>(
  path: string,
  matches: (state: T) => boolean,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as T;
    return typeof state === 'object' && state !== null && matches(state) ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeState(path: string, state: object): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, path);
}

export async function removeState(path: string): Promise<void> {
  await rm(path, { force: true });
}
