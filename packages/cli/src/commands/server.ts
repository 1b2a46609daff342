import { readFile } from 'node:fs/promises';
import { DEFAULT_CREDENTIALS, startServer, type User } from '@bucketdb/server';
import { FileStore, isStoreError, MemoryStore, type ObjectStore, openStore } from '@bucketdb/store';
import { type Command, InvalidArgumentError, Option } from 'commander';

interface ServerCommandOptions {
  data: string;
  memory?: boolean;
  port: number;
  host: string;
  accessKey?: string;
  secretKey?: string;
  users?: string;
  emulate?: 's3-standard' | 's3-express';
  region: string;
  quiet?: boolean;
  /** commander's `--no-fsync`: false when given. */
  fsync: boolean;
  metrics?: boolean;
  idleTimeout?: number;
  requestTimeout?: number;
}

/** A timeout in seconds (0 turns it off), as milliseconds. */
function seconds(value: string): number {
  if (!/^\d{1,6}(\.\d+)?$/.test(value)) throw new InvalidArgumentError('a timeout is a number of seconds (0: none)');
  return Math.round(Number(value) * 1000);
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return n;
}

/** `--users FILE`: a JSON array of `{ "accessKeyId", "secretAccessKey", "name"? }`. */
async function readUsers(path: string): Promise<User[]> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every(
      (u) =>
        typeof u === 'object' &&
        u !== null &&
        typeof (u as User).accessKeyId === 'string' &&
        (u as User).accessKeyId !== '' &&
        typeof (u as User).secretAccessKey === 'string' &&
        (u as User).secretAccessKey !== '',
    );
  if (!valid) throw new Error(`${path}: expected a JSON array of {"accessKeyId", "secretAccessKey", "name"?}`);
  return parsed as User[];
}

async function usersOf(options: ServerCommandOptions): Promise<{ users: User[]; isDefault: boolean }> {
  if (options.users !== undefined) {
    if (options.accessKey !== undefined || options.secretKey !== undefined) {
      throw new Error('use either --users or --access-key/--secret-key');
    }
    return { users: await readUsers(options.users), isDefault: false };
  }
  if ((options.accessKey === undefined) !== (options.secretKey === undefined)) {
    throw new Error('--access-key and --secret-key go together');
  }
  if (options.accessKey !== undefined && options.secretKey !== undefined) {
    return { users: [{ accessKeyId: options.accessKey, secretAccessKey: options.secretKey }], isDefault: false };
  }
  return { users: [DEFAULT_CREDENTIALS], isDefault: true };
}

/** The store `--data`/`--memory`/`--no-fsync` name; `--no-fsync` only means something for a directory. */
async function storeOf(options: ServerCommandOptions): Promise<ObjectStore> {
  const store = options.memory ? new MemoryStore('server') : await openStore(options.data, { sync: options.fsync });
  if (!options.fsync && !(store instanceof FileStore)) {
    await store.close();
    throw new Error('--no-fsync applies to a data directory only');
  }
  return store;
}

/**
 * One server per data directory: versioned writes serialise each key in the process, so two
 * servers on one directory could interleave them. A server killed without a chance to release is
 * detected as dead and its claim broken.
 */
async function claimDataDirectory(store: ObjectStore): Promise<() => Promise<void>> {
  if (!(store instanceof FileStore)) return async () => {};
  try {
    return await store.claim('bucketdb-server');
  } catch (error) {
    if (!isStoreError(error, 'ConflictInFlight')) throw error;
    throw new Error(`another bucketdb server is serving ${store.root}: stop it, or pass another --data`, {
      cause: error,
    });
  }
}

function banner(
  url: string,
  store: ObjectStore,
  users: User[],
  isDefault: boolean,
  options: ServerCommandOptions,
): string {
  const { region } = options;
  const [first] = users;
  const lines = [`bucketdb S3-compatible server listening on ${url}`, `  data:   ${store.url}`];
  if (!options.fsync) {
    lines.push('          (--no-fsync: writes survive the server being killed, not an OS crash or power loss)');
  }
  if (isDefault && first) {
    lines.push(
      `  access key: ${first.accessKeyId}`,
      `  secret key: ${first.secretAccessKey}   (default development credentials: pass --access-key/--secret-key or --users for real ones)`,
    );
  } else {
    lines.push(`  users:  ${users.map((u) => u.name ?? u.accessKeyId).join(', ')}`);
  }
  const key = first?.accessKeyId ?? '<access key>';
  const secret = isDefault ? (first?.secretAccessKey ?? '') : '<secret key>';
  lines.push(
    '',
    'aws CLI:',
    `  export AWS_ACCESS_KEY_ID=${key} AWS_SECRET_ACCESS_KEY=${secret} AWS_REGION=${region}`,
    `  export AWS_ENDPOINT_URL=${url}     # or pass --endpoint-url ${url}`,
    `  aws --endpoint-url ${url} s3 mb s3://my-bucket`,
    '',
    'AWS SDK for JavaScript v3:',
    `  new S3Client({ endpoint: '${url}', region: '${region}', forcePathStyle: true,`,
    `    credentials: { accessKeyId: '${key}', secretAccessKey: '${secret}' } })`,
    '',
    'Ctrl-C stops the server after the requests in flight.',
  );
  return `${lines.join('\n')}\n`;
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the S3-compatible server (buckets and objects kept in a local directory)')
    .option('--data <dir>', 'where the data lives: a directory or a store URL', './bucketdb-data')
    .option('--memory', 'keep everything in memory (gone on exit)')
    .option(
      '--no-fsync',
      'do not fsync writes to the data directory: faster; a write survives the server being killed but not an OS crash or power loss (fine for tests)',
    )
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', port, 9000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--access-key <id>', 'access key id of the single user')
    .option('--secret-key <secret>', 'secret access key of the single user')
    .option('--users <file>', 'JSON file with several users: [{"accessKeyId","secretAccessKey","name"}]')
    .addOption(
      new Option(
        '--emulate <profile>',
        'behave like S3: its latency and request-rate limits (503 SlowDown); s3-express adds directory-bucket rules (unsorted LIST, no StartAfter, prefixes ending in "/", ETags that are not MD5s)',
      ).choices(['s3-standard', 's3-express']),
    )
    .option('--region <region>', 'region reported to clients', 'us-east-1')
    .option('-q, --quiet', 'no log line per request')
    .option('--metrics', 'serve Prometheus metrics at GET /metrics (readable by anyone who can connect)')
    .option(
      '--idle-timeout <seconds>',
      'close a request whose body stops arriving for this long (default 20, 0: never)',
      seconds,
    )
    .option(
      '--request-timeout <seconds>',
      'longest a whole request may take to arrive (default 900, 0: no limit)',
      seconds,
    )
    .action(async (options: ServerCommandOptions) => {
      const { users, isDefault } = await usersOf(options);
      const store = await storeOf(options);
      const release = await claimDataDirectory(store);
      const server = await startServer({
        store,
        host: options.host,
        port: options.port,
        users,
        region: options.region,
        ...(options.quiet ? { quiet: true } : {}),
        ...(options.emulate === undefined ? {} : { emulate: options.emulate }),
        ...(options.metrics ? { metrics: true } : {}),
        timeouts: {
          ...(options.idleTimeout === undefined ? {} : { idleMs: options.idleTimeout }),
          ...(options.requestTimeout === undefined ? {} : { requestMs: options.requestTimeout }),
        },
      });
      // Listening for the signals before announcing the endpoint: a client told where we are may stop us at once.
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stderr.write(`bucketdb: ${signal}: finishing requests in flight, then exiting\n`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write(banner(server.url, store, users, isDefault, options));
      await stopped;
      await server.close();
      await release();
      await store.close();
    });
}
