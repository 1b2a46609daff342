import {
  isKvError,
  type KvEntry,
  type KvScanEntry,
  type KvStore,
  type KvValue,
  LAYOUTS,
  open,
  type ScanOptions,
} from '@bucketdb/kv';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';

/** Exit codes of `bucketdb kv`, as grep does it: 1 is an answer ("not found"), 2 a failure or bad usage. */
export const KV_EXIT = { ok: 0, notFound: 1, error: 2, conditionFailed: 3 } as const;

interface StoreOptions {
  kvPrefix?: string;
  layout?: (typeof LAYOUTS)[number];
}

const STORE_ARG = 'store URL: ./dir, file:///abs/dir, mem://, s3://bucket/prefix?endpoint=URL';

export function registerKvCommand(program: Command): void {
  const kv = program
    .command('kv')
    .description('key-value store on the bucket: one object per key, compare-and-swap, TTL, ordered scans')
    // Usage errors exit 2, not commander's 1 (which means "not found" here). Inherited by every
    // subcommand created below; help and --version still exit 0.
    .exitOverride((error) => {
      if (error.exitCode !== 0) process.exit(KV_EXIT.error);
    })
    .addHelpText(
      'after',
      `
Output is JSON (scan: one JSON object per line). Values are JSON unless --text or --bytes;
bytes print as base64 with "encoding":"base64".

Exit codes: 0 ok, 1 key not found (get), 2 error or bad usage, 3 condition failed (--if-version, --if-absent).

Examples:
  bucketdb kv put ./data user/1 '{"name":"Ada"}'
  bucketdb kv get ./data user/1
  echo -n hello | bucketdb kv put ./data greeting --text --ttl 3600
  bucketdb kv put ./data user/1 '{"name":"Ada L."}' --if-version '"9e10…"'
  bucketdb kv scan ./data --prefix user/ --values
  bucketdb kv sweep ./data
  bucketdb kv sweep ./data --every 60      a sweep job: once a minute, until interrupted`,
    );

  withStore(kv.command('get'))
    .description('print a key\'s entry as {"key","version","value",…}; exit 1 if absent or expired')
    .argument('<key>', 'the key')
    .option('--raw', 'print only the value: text and bytes as they are, JSON as JSON')
    .action(async (url: string, key: string, options: StoreOptions & { raw?: boolean }) => {
      await withKv(url, options, async (store) => {
        const entry = await store.get(key);
        if (entry === undefined) {
          process.stderr.write(`bucketdb: no key ${JSON.stringify(key)}\n`);
          process.exitCode = KV_EXIT.notFound;
          return;
        }
        if (options.raw) process.stdout.write(rawValue(entry.value));
        else printJson(entryJson(key, entry));
      });
    });

  withStore(kv.command('put'))
    .description('write a value (from the argument, or stdin when it is omitted or "-"); print its version')
    .argument('<key>', 'the key')
    .argument('[value]', 'the value: JSON by default')
    .addOption(new Option('--text', 'store the value as a plain string (text/plain)').conflicts('bytes'))
    .option('--bytes', 'store the value as raw bytes (application/octet-stream)')
    .option('--content-type <type>', 'content type to record (must fit the kind of value)')
    .option('--if-version <version>', 'write only if the key is at this version (compare-and-swap)')
    .addOption(new Option('--if-absent', 'write only if the key does not exist').conflicts('ifVersion'))
    .option('--ttl <seconds>', 'expire the entry after this many seconds', positiveNumber)
    .action(async (url: string, key: string, valueArg: string | undefined, options: PutCliOptions) => {
      await withKv(url, options, async (store) => {
        const value = await readValue(valueArg, options);
        const version = await store.put(key, value, {
          ...(options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion }),
          ...(options.ifAbsent ? { ifAbsent: true } : {}),
          ...(options.ttl === undefined ? {} : { ttlSeconds: options.ttl }),
          ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        });
        printJson({ key, version });
      });
    });

  withStore(kv.command('delete'))
    .description('delete a key (deleting a missing key succeeds unless --if-version is given)')
    .argument('<key>', 'the key')
    .option('--if-version <version>', 'delete only if the key is at this version')
    .action(async (url: string, key: string, options: StoreOptions & { ifVersion?: string }) => {
      await withKv(url, options, async (store) => {
        await store.delete(key, options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion });
        printJson({ key, deleted: true });
      });
    });

  withStore(kv.command('scan'))
    .description('list entries in key order, one JSON object per line')
    .option('--prefix <prefix>', 'only keys starting with this')
    .option('--start <key>', 'only keys at or after this one')
    .option('--end <key>', 'only keys before this one')
    .option('--limit <n>', 'at most this many entries', nonNegativeInteger)
    .option('--values', 'fetch values too (one GET per entry)')
    .option('--unordered', 'allow the hashed layout, which lists shard by shard')
    .action(async (url: string, options: StoreOptions & ScanCliOptions) => {
      await withKv(url, options, async (store) => {
        const { prefix, start, end, limit, values, unordered } = options;
        const scan = store.scan({
          ...(prefix === undefined ? {} : { prefix }),
          ...(start === undefined ? {} : { start }),
          ...(end === undefined ? {} : { end }),
          ...(limit === undefined ? {} : { limit }),
          values: values === true,
          unordered: unordered === true,
        });
        for await (const entry of scan) printJson(scanJson(entry));
      });
    });

  withStore(kv.command('count'))
    .description('count the live keys, optionally under a prefix: {"count":n}')
    .argument('[prefix]', 'only keys starting with this', '')
    .action(async (url: string, prefix: string, options: StoreOptions) => {
      await withKv(url, options, async (store) => printJson({ count: await store.count(prefix) }));
    });

  withStore(kv.command('sweep'))
    .description('delete expired entries and their TTL markers: {"deleted","markersRemoved","markersKept"}')
    .option('--grace <seconds>', 'keep markers of re-put or vanished values this long past expiry', nonNegative)
    .option(
      '--every <seconds>',
      'run as a job: sweep, wait this long, sweep again (one JSON line each)',
      positiveNumber,
    )
    .option('--count <n>', 'with --every: stop after this many sweeps (default: until interrupted)', positiveInteger)
    .action(async (url: string, options: StoreOptions & { grace?: number; every?: number; count?: number }) => {
      if (options.count !== undefined && options.every === undefined) {
        throw new InvalidArgumentError('--count needs --every');
      }
      await withKv(url, options, async (store) => {
        const sweep = () => store.sweep(options.grace === undefined ? {} : { graceSeconds: options.grace });
        if (options.every === undefined) return printJson(await sweep());
        // A sweep job: each round's result on its own line; a failed round is reported and retried.
        for (let round = 0; options.count === undefined || round < options.count; round++) {
          if (round > 0) await sleep(options.every * 1000);
          try {
            printJson({ at: new Date().toISOString(), ...(await sweep()) });
          } catch (error) {
            if (isKvError(error) && error.code !== 'Unavailable') throw error;
            process.stderr.write(`bucketdb: sweep failed, trying again: ${(error as Error).message}\n`);
          }
        }
      });
    });
}

interface PutCliOptions extends StoreOptions {
  text?: boolean;
  bytes?: boolean;
  contentType?: string;
  ifVersion?: string;
  ifAbsent?: boolean;
  ttl?: number;
}

type ScanCliOptions = Pick<ScanOptions, 'prefix' | 'start' | 'end' | 'limit' | 'values' | 'unordered'>;

/** Every kv subcommand takes the store first, and where in it the KV data lives. */
function withStore(command: Command): Command {
  return command
    .argument('<store>', STORE_ARG)
    .option('--kv-prefix <prefix>', 'where in the store the KV data lives (default: its root)')
    .addOption(new Option('--layout <layout>', 'key layout when creating the store').choices(LAYOUTS));
}

async function withKv(url: string, options: StoreOptions, run: (store: KvStore) => Promise<void>): Promise<void> {
  try {
    await using store = await open(url, {
      ...(options.kvPrefix === undefined ? {} : { prefix: options.kvPrefix }),
      ...(options.layout === undefined ? {} : { layout: options.layout }),
    });
    await run(store);
  } catch (error) {
    if (isKvError(error, 'VersionMismatch') || isKvError(error, 'Exists')) {
      process.stderr.write(`bucketdb: ${error.message} (${error.code})\n`);
      process.exitCode = KV_EXIT.conditionFailed;
      return;
    }
    process.exitCode = KV_EXIT.error;
    throw error;
  }
}

async function readValue(arg: string | undefined, options: PutCliOptions): Promise<KvValue> {
  let bytes: Uint8Array;
  if (arg === undefined || arg === '-') {
    if (process.stdin.isTTY) throw new InvalidArgumentError('give a value, or pipe one on stdin');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  } else {
    bytes = Buffer.from(arg, 'utf8');
  }
  if (options.bytes) return new Uint8Array(bytes);
  const text = new TextDecoder().decode(bytes);
  if (options.text) return text;
  try {
    return JSON.parse(text) as KvValue;
  } catch {
    throw new InvalidArgumentError(`the value is not JSON (use --text for a plain string): ${text.slice(0, 80)}`);
  }
}

function valueJson(value: KvValue): { value: unknown; encoding?: 'base64' } {
  if (value instanceof Uint8Array) return { value: Buffer.from(value).toString('base64'), encoding: 'base64' };
  return { value };
}

function entryJson(key: string, entry: KvEntry<KvValue>): Record<string, unknown> {
  return {
    key,
    version: entry.version,
    ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt.toISOString() }),
    ...valueJson(entry.value),
  };
}

function scanJson(entry: KvScanEntry<KvValue>): Record<string, unknown> {
  return {
    key: entry.key,
    version: entry.version,
    size: entry.size,
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt.toISOString() }),
    ...(entry.value === undefined ? {} : valueJson(entry.value)),
  };
}

function rawValue(value: KvValue): Uint8Array | string {
  if (value instanceof Uint8Array || typeof value === 'string') return value;
  return `${JSON.stringify(value)}\n`;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

function nonNegative(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number of seconds');
  return n;
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}
