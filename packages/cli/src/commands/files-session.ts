import { once } from 'node:events';
import { FilesError, isFilesError, type Location, type TreeEndpoint } from '@bucketdb/files';
import { Meter, metered, type ObjectStore, openStore } from '@bucketdb/store';
import { type Command, InvalidArgumentError } from 'commander';
import { TransferProgress } from '../transfer-progress.js';

/** Exit codes of cp, sync, ls, rm and cat: scripts can tell a usage mistake from a failure. */
export const FILES_EXIT = { ok: 0, failed: 1, usage: 2, corrupt: 3 } as const;

export const LOCATION_HELP = `
Locations:
  ./path, /abs/path, path                a local file or directory
  s3://bucket/key?endpoint=URL           a key (or prefix) of a bucket on any S3 API
  file:///abs/store#key, mem://#key      a key of any other store URL (after #)
  -                                      standard input / output (cp, cat)
Keys are percent-decoded: write ? and # in a key as %3F and %23. Credentials come from the
AWS SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE).

Exit codes: 0 ok, 1 failed (not found, store error, some files failed), 2 usage error,
3 corrupt data detected (nothing written as good).`;

export interface TransferCliOptions {
  partSize?: number;
  concurrency?: number;
  quiet?: boolean;
  resume?: boolean;
}

/** The stores one command opens, all counted by one meter for the summary. */
export class FilesSession {
  readonly meter = new Meter();
  readonly progress: TransferProgress;
  readonly #stores = new Map<string, Promise<ObjectStore>>();

  constructor(options: TransferCliOptions) {
    this.progress = new TransferProgress(options.quiet === undefined ? {} : { quiet: options.quiet });
  }

  store(url: string): Promise<ObjectStore> {
    let store = this.#stores.get(url);
    if (!store) {
      store = openStore(url).then((s) => metered(s, this.meter));
      this.#stores.set(url, store);
    }
    return store;
  }

  async endpoint(location: Location): Promise<TreeEndpoint> {
    if (location.kind === 'stdio') throw usage('- cannot name a directory or prefix');
    if (location.kind === 'local') return { kind: 'local', dir: location.path };
    const prefix = location.key === '' || location.key.endsWith('/') ? location.key : `${location.key}/`;
    return { kind: 'store', store: await this.store(location.url), prefix };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#stores.values()].map(async (s) => (await s).close()));
  }
}

export function usage(message: string): FilesError {
  return new FilesError('InvalidArgument', message);
}

/** Runs a verb: usage errors exit 2, corruption 3, other failures 1, each as one line on stderr. */
export function run<A extends unknown[]>(verb: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await verb(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`bucketdb: ${message}\n`);
      process.exitCode = isFilesError(error, 'InvalidArgument')
        ? FILES_EXIT.usage
        : isFilesError(error, 'Corrupt')
          ? FILES_EXIT.corrupt
          : FILES_EXIT.failed;
    }
  };
}

/** Options every transfer verb takes; commander's own usage errors exit 2 as well. */
export function withTransferOptions(command: Command): Command {
  return command
    .option(
      '--part-size <MiB>',
      'part size in MiB (default 8; uploads over 512 MiB take up to 16, over 78 GiB more)',
      mebibytes,
    )
    .option('--concurrency <n>', 'parts in flight at once (default 8)', positiveInteger)
    .option('-q, --quiet', 'no progress and no summary')
    .exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : FILES_EXIT.usage);
    });
}

export function transferOptions(options: TransferCliOptions): { partSize?: number; concurrency?: number } {
  return {
    ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  };
}

/** Writes to stdout with backpressure; a reader that went away (`| head`) ends the copy quietly. */
export async function writeOut(bytes: Uint8Array): Promise<void> {
  if (!stdoutWatched) {
    stdoutWatched = true;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? FILES_EXIT.ok);
      throw error;
    });
  }
  if (!process.stdout.write(bytes)) await once(process.stdout, 'drain');
}

let stdoutWatched = false;

function mebibytes(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of MiB');
  return Math.round(n * (1 << 20));
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
