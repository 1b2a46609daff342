import { FilesError } from './errors.js';

/** Where a file or a tree of files lives, as the CLI names it. */
export type Location =
  { kind: 'local'; path: string } | { kind: 'store'; url: string; key: string } | { kind: 'stdio' };

/**
 * Reads a location argument:
 * - `-`: standard input or output;
 * - `s3://bucket/key/or/prefix?endpoint=…`: that key of that bucket (the store is the bucket);
 * - `file:///abs/store#key`, `mem://name#key`: a key of any other store `openStore` opens;
 * - anything else: a local path (`./x`, `/abs/x`, `x`).
 * Keys are percent-decoded; a key holding `?` or `#` must write them as `%3F` and `%23`.
 */
export function parseLocation(arg: string): Location {
  if (arg === '-') return { kind: 'stdio' };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):\/\//.exec(arg)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'local', path: arg };
  if (scheme === 's3') {
    let url: URL;
    try {
      url = new URL(arg);
    } catch (cause) {
      throw new FilesError('InvalidArgument', `malformed S3 URL ${JSON.stringify(arg)}`, { cause });
    }
    if (url.host === '') throw new FilesError('InvalidArgument', `no bucket in ${JSON.stringify(arg)}`);
    return { kind: 'store', url: `s3://${url.host}/${url.search}`, key: decode(url.pathname.slice(1)) };
  }
  const hash = arg.indexOf('#');
  return hash < 0
    ? { kind: 'store', url: arg, key: '' }
    : { kind: 'store', url: arg.slice(0, hash), key: decode(arg.slice(hash + 1)) };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The last segment of a key or path: the name a copy into a directory or prefix takes. */
export function baseName(keyOrPath: string): string {
  const parts = keyOrPath.split(/[/\\]/).filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}
