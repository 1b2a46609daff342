import type { Dir } from 'node:fs';
import { opendir, readdir, stat } from 'node:fs/promises';
import { compareKeys } from '../../keys.js';
import { errnoCode } from './fs-errors.js';
import { readObjectFileHeader } from './object-file.js';
import { parseName } from './segment-names.js';

interface CachedDir extends DirStamp {
  /** False when the directory changed so shortly before it was read that its mtime may hide a change. */
  settled: boolean;
  entries: string[];
  /** Summaries of objects in this directory, by segment; an overwrite renames into the directory. */
  objects: Map<string, ObjectSummary>;
}

export interface ObjectSummary {
  size: number;
  etag: string;
  lastModified: number;
}

/**
 * Sorted directory listings, reused while the directory is unchanged. Any process that adds or
 * removes an entry changes the directory's mtime and ctime, so the check holds across processes.
 * Time stamps are coarse (a clock tick), so a listing read less than SETTLE_NS after the last change
 * is used once and read again next time, as git does for "racily clean" index entries.
 *
 * An entry is a segment for an object (`b` for key `a/b` in directory `a/`) or a segment plus `/`
 * for a subdirectory (`b/`). Sorted by compareKeys, a depth-first walk yields keys in S3 order.
 */
const SETTLE_NS = 1_000_000_000n;
const MAX_CACHED_ENTRIES = 4_000_000;

export class DirCache {
  readonly #dirs = new Map<string, CachedDir>();
  /** Segments behind hashed names; a hash always stands for the same segment. */
  readonly #hashed = new Map<string, string>();
  /** Directories seen holding an object directly, with their stamp at the time. */
  readonly #holdsObject = new Map<string, DirStamp>();
  #cachedEntries = 0;

  /** The sorted entries of a directory `depth` segments below the root (empty when it does not exist). */
  async entries(path: string, depth: number): Promise<readonly string[]> {
    let st: DirStamp;
    try {
      st = await statDir(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [];
      throw error;
    }
    const cached = this.#dirs.get(path);
    if (cached?.settled && sameStamp(cached, st)) {
      return cached.entries;
    }
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const entries = await this.#read(path, depth);
    this.#forget(path);
    this.#dirs.set(path, { ...st, settled: startedNs - st.mtimeNs > SETTLE_NS, entries, objects: new Map() });
    this.#cachedEntries += entries.length;
    while (this.#cachedEntries > MAX_CACHED_ENTRIES && this.#dirs.size > 1) {
      this.#forget(this.#dirs.keys().next().value as string);
    }
    return entries;
  }

  /**
   * The summary of object `segment` in directory `path`: remembered while the directory's listing
   * is (every replacement renames into the directory and so changes it), else loaded.
   */
  async summary(
    path: string,
    segment: string,
    load: () => Promise<ObjectSummary | undefined>,
  ): Promise<ObjectSummary | undefined> {
    const cached = this.#dirs.get(path);
    const known = cached?.objects.get(segment);
    if (known) return known;
    const loaded = await load();
    if (loaded && cached?.settled && this.#dirs.get(path) === cached) {
      cached.objects.set(segment, loaded);
      this.#cachedEntries++;
    }
    return loaded;
  }

  /**
   * Whether a directory holds an object at any depth. A directory found to hold one directly is
   * remembered until it changes (removing that object changes it), so the common answer costs a stat.
   */
  async hasObjects(path: string): Promise<boolean> {
    let st: DirStamp;
    try {
      st = await statDir(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
      throw error;
    }
    const known = this.#holdsObject.get(path);
    if (known && sameStamp(known, st)) return true;
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const found = await findObject(path);
    if (found === 'direct' && startedNs - st.mtimeNs > SETTLE_NS) {
      if (this.#holdsObject.size >= MAX_CACHED_ENTRIES / 4) this.#holdsObject.clear();
      this.#holdsObject.set(path, st);
    }
    return found !== undefined;
  }

  #forget(path: string): void {
    const cached = this.#dirs.get(path);
    if (!cached) return;
    this.#cachedEntries -= cached.entries.length + cached.objects.size;
    this.#dirs.delete(path);
  }

  async #read(path: string, depth: number): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [];
      throw error;
    }
    const entries: string[] = [];
    for (const name of names) {
      const parsed = parseName(name);
      if (!parsed) continue;
      const segment = parsed.hashed ? await this.#hashedSegment(`${path}/${name}`, parsed.kind, depth) : parsed.segment;
      if (segment === undefined) continue;
      entries.push(parsed.kind === 'dir' ? `${segment}/` : segment);
    }
    return entries.sort(compareKeys);
  }

  /**
   * The segment behind a hashed name, from the key in the header of the object itself or of any
   * object below the directory. Undefined when there is none: an empty directory lists nothing.
   */
  async #hashedSegment(path: string, kind: 'object' | 'dir', depth: number): Promise<string | undefined> {
    const known = this.#hashed.get(path);
    if (known !== undefined) return known;
    const key = kind === 'object' ? await headerKey(path) : await firstKeyBelow(path);
    if (key === undefined) return undefined;
    const segment = key.split('/')[depth];
    if (segment === undefined) return undefined;
    this.#hashed.set(path, segment);
    return segment;
  }
}

interface DirStamp {
  ino: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

function sameStamp(a: DirStamp, b: DirStamp): boolean {
  return a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

async function statDir(path: string): Promise<DirStamp> {
  const st = await stat(path, { bigint: true });
  return { ino: Number(st.ino), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

async function headerKey(path: string): Promise<string | undefined> {
  try {
    return readObjectFileHeader(path).key;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function firstKeyBelow(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
  for (const name of names) {
    const parsed = parseName(name);
    if (!parsed) continue;
    const key = parsed.kind === 'object' ? await headerKey(`${dir}/${name}`) : await firstKeyBelow(`${dir}/${name}`);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** Where a directory's first object was found: in it, below it, or nowhere. Stops at the first. */
async function findObject(dir: string): Promise<'direct' | 'nested' | undefined> {
  let handle: Dir;
  try {
    handle = await opendir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
  const subdirs: string[] = [];
  // Leaving the loop early closes the directory.
  for await (const entry of handle) {
    const parsed = parseName(entry.name);
    if (parsed?.kind === 'object') return 'direct';
    if (parsed?.kind === 'dir') subdirs.push(`${dir}/${entry.name}`);
  }
  for (const subdir of subdirs) if (await findObject(subdir)) return 'nested';
  return undefined;
}
