import { bodyText, isStoreError, type ObjectStore } from '@bucketdb/store';
import { KvError, show } from './errors.js';
import { LAYOUTS, type Layout } from './paths.js';

const FORMAT = 'bucketdb-kv';
const VERSION = 1;

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
  if (parsed.version !== VERSION) {
    throw new KvError('Corrupt', `${show(manifest)} has format version ${String(parsed.version)}; upgrade bucketdb`);
  }
  if (!(LAYOUTS as readonly unknown[]).includes(parsed.layout)) {
    throw new KvError('Corrupt', `${show(manifest)} names an unknown layout ${String(parsed.layout)}`);
  }
  return parsed.layout as Layout;
}

/** Records `layout` unless one is recorded already, which must then be the same. */
export async function recordLayout(store: ObjectStore, manifest: string, layout: Layout): Promise<void> {
  const body = `${JSON.stringify({ format: FORMAT, version: VERSION, layout })}\n`;
  try {
    await store.put(manifest, body, { ifNoneMatch: '*', contentType: 'application/json' });
    return;
  } catch (error) {
    // Lost the race, or an ambiguous write: either way the file now says which layout won.
    if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'AmbiguousWrite')) throw error;
  }
  checkLayout(manifest, await readLayout(store, manifest), layout);
}

export function checkLayout(manifest: string, recorded: Layout | undefined, wanted: Layout): void {
  if (recorded !== undefined && recorded !== wanted) {
    throw new KvError('LayoutMismatch', `the store at ${show(manifest)} uses the ${recorded} layout, not ${wanted}`);
  }
}
