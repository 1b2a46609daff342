import { bodyText, isStoreError, type ObjectStore } from '@bucketdb/store';
import { KvError, show } from './errors.js';
import { LAYOUTS, type Layout } from './paths.js';

const FORMAT = 'bucketdb-kv';
/**
 * 2: values end with their write id (write-id.ts). Format-1 stores are read as they are (an
 * object without the suffix is returned whole); clients that only know format 1 refuse format 2.
 */
const VERSION = 2;
const READABLE_VERSIONS: readonly unknown[] = [1, 2];

/** The layout recorded in `kv.json`, or undefined for a store nothing was written to yet. */
export async function readLayout(store: ObjectStore, manifest: string): Promise<Layout | undefined> {
  let text: string;
  try {
    text = bodyText((await store.get(manifest)).body);
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return undefined;
    throw error;
  }
  let parsed: { format?: unknown; version?: unknown; layout?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (cause) {
    throw new KvError('Corrupt', `${show(manifest)} is not JSON`, { cause });
  }
  if (parsed.format !== FORMAT) throw new KvError('Corrupt', `${show(manifest)} is not a bucketdb KV layout file`);
  if (!READABLE_VERSIONS.includes(parsed.version)) {
    throw new KvError('Corrupt', `${show(manifest)} has format version ${String(parsed.version)}; upgrade bucketdb`);
  }
  if (!(LAYOUTS as readonly unknown[]).includes(parsed.layout)) {
    throw new KvError('Corrupt', `${show(manifest)} names an unknown layout ${String(parsed.layout)}`);
  }
  return parsed.layout as Layout;
}

/** Records `layout` unless one is recorded already; returns the layout the file names. */
export async function recordLayout(store: ObjectStore, manifest: string, layout: Layout): Promise<Layout> {
  const body = `${JSON.stringify({ format: FORMAT, version: VERSION, layout })}\n`;
  try {
    await store.put(manifest, body, { ifNoneMatch: '*', contentType: 'application/json' });
    return layout;
  } catch (error) {
    // Lost the race, or an unknown outcome: either way the file (if any) says which layout won.
    const unknown = isStoreError(error) && (error.retryable || error.code === 'AmbiguousWrite');
    if (!isStoreError(error, 'PreconditionFailed') && !unknown) throw error;
  }
  return (await readLayout(store, manifest)) ?? recordLayout(store, manifest, layout);
}

export function checkLayout(manifest: string, recorded: Layout | undefined, wanted: Layout): void {
  if (recorded !== undefined && recorded !== wanted) {
    throw new KvError('LayoutMismatch', `the store at ${show(manifest)} uses the ${recorded} layout, not ${wanted}`);
  }
}
