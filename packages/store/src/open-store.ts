import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from './errors.js';
import { FileStore } from './backends/file/file-store.js';
import { MemoryStore } from './backends/memory/memory-store.js';
import type { ObjectStore } from './object-store.js';
import type { S3StoreOptions } from './backends/s3/s3-client.js';

const S3_PARAMS = ['endpoint', 'region', 'forcePathStyle', 'profile'] as const;

/**
 * Opens the store a URL names:
 * - `mem://name`: a new, empty MemoryStore (the name is a label; stores are not shared);
 * - `file:///abs/path`, `/abs/path`, `./rel/path`, `rel/path`: a FileStore in that directory;
 * - `s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=…&profile=…`: an S3Store, path-style
 *   when an endpoint is given unless `forcePathStyle=false`; credentials come from the SDK's default
 *   chain (environment, profile), never from the URL. The AWS SDK is loaded only for `s3://`.
 */
export interface OpenStoreOptions {
  /** For a FileStore: fsync before a write returns (default true). See FileStoreOptions.sync. */
  sync?: boolean;
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ObjectStore> {
  if (typeof url !== 'string' || url.trim() === '')
    throw new InvalidArgumentError('a store URL must be a non-empty string');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      return FileStore.open(url, options);
    case 'mem':
      return new MemoryStore(parse(url, 'mem://name').host);
    case 'file':
      return FileStore.open(filePath(url), options);
    case 's3': {
      const options = s3Options(url);
      const { S3Store } = await import('./backends/s3/s3-store.js');
      return new S3Store(options);
    }
    default:
      throw new InvalidArgumentError(
        `unknown store URL scheme ${JSON.stringify(`${scheme}:`)} in ${JSON.stringify(url)}: use mem://, file:///path, s3://bucket/prefix or a directory path (write ./${url} for a relative path)`,
      );
  }
}

function parse(url: string, form: string): URL {
  try {
    return new URL(url);
  } catch (cause) {
    throw new InvalidArgumentError(`malformed store URL ${JSON.stringify(url)} (expected ${form})`, { cause });
  }
}

function filePath(url: string): string {
  const parsed = parse(url, 'file:///absolute/path');
  if (parsed.search || parsed.hash || !url.startsWith('file:///')) {
    throw new InvalidArgumentError(
      `a file URL must be file:///absolute/path without query or fragment, got ${JSON.stringify(url)}; for a relative directory, pass the path itself`,
    );
  }
  return fileURLToPath(parsed);
}

export function s3Options(url: string): S3StoreOptions {
  const parsed = parse(url, 's3://bucket/prefix?endpoint=…');
  const bucket = decodeURIComponent(parsed.host);
  if (bucket === '' || parsed.username || parsed.password || parsed.port || parsed.hash) {
    throw new InvalidArgumentError(
      `malformed S3 URL ${JSON.stringify(url)}: expected s3://bucket/prefix?endpoint=… (no credentials, port or fragment)`,
    );
  }
  let prefix = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  const options: S3StoreOptions = { bucket, prefix };
  for (const [name, value] of parsed.searchParams) {
    if (!(S3_PARAMS as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(
        `unknown S3 URL parameter ${JSON.stringify(name)}: known are ${S3_PARAMS.join(', ')}`,
      );
    }
    if (name === 'forcePathStyle') {
      if (value !== 'true' && value !== 'false') {
        throw new InvalidArgumentError(`forcePathStyle must be true or false, got ${JSON.stringify(value)}`);
      }
      options.forcePathStyle = value === 'true';
    } else if (name === 'endpoint') {
      parse(value, 'an endpoint such as http://127.0.0.1:9000');
      options.endpoint = value;
    } else {
      options[name as 'region' | 'profile'] = value;
    }
  }
  return options;
}
