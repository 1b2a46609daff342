import { FilesError } from './errors.js';

export interface FilterOptions {
  /** Take only paths matching one of these (default: all). */
  include?: string[];
  /** Leave out paths matching any of these; wins over `include`. */
  exclude?: string[];
}

/**
 * A filter over relative paths (`/`-separated). Patterns match the whole path, as in
 * `aws s3 sync`: `*` is any run of characters, `/` included; `?` one character; `[abc]` a set.
 */
export function globFilter(options: FilterOptions): (path: string) => boolean {
  const include = (options.include ?? []).map(globToRegExp);
  const exclude = (options.exclude ?? []).map(globToRegExp);
  return (path) => (include.length === 0 || include.some((r) => r.test(path))) && !exclude.some((r) => r.test(path));
}

export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new FilesError('InvalidArgument', `unclosed [ in pattern ${JSON.stringify(glob)}`);
      const set = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      out += set.startsWith('!') ? `[^${set.slice(1)}]` : `[${set}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'su');
}
