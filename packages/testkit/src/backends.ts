import { randomUUID } from 'node:crypto';
import { startServer } from '@bucketdb/server';
import { FileStore, MemoryStore, type ObjectStore, S3Store } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit-base';

export const BACKEND_NAMES = ['memory', 'file', 's3'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Credentials of the embedded test server; never valid anywhere else. */
export const TEST_CREDENTIALS = { accessKeyId: 'bucketdb-test', secretAccessKey: 'bucketdb-test-secret' };
export const TEST_BUCKET = 'bucketdb-test';

export interface TestBackend {
  name: BackendName;
  /** A fresh, empty store of this backend (its own directory, or its own prefix in the bucket). */
  newStore(): Promise<ObjectStore>;
  /** A URL `openStore` understands, naming a fresh empty store (for child processes and the CLI). */
  newStoreUrl(): Promise<string>;
  close(): Promise<void>;
}

/** The backends to test, from `BUCKETDB_TEST_BACKENDS` (comma-separated) or all of them. */
export function testBackendNames(): BackendName[] {
  const wanted = process.env.BUCKETDB_TEST_BACKENDS;
  if (!wanted) return [...BACKEND_NAMES];
  return wanted.split(',').map((name) => {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new Error(`unknown test backend ${name}`);
    return name as BackendName;
  });
}

export interface TestBackendOptions {
  /** For `s3`: the server behaves like this S3 class (`bucketdb server --emulate`). */
  emulate?: 's3-standard' | 's3-express';
}

export async function openTestBackend(name: BackendName, options: TestBackendOptions = {}): Promise<TestBackend> {
  switch (name) {
    case 'memory':
      return memoryBackend();
    case 'file':
      return fileBackend();
    case 's3':
      return s3Backend(options);
  }
}

function memoryBackend(): TestBackend {
  return {
    name: 'memory',
    newStore: async () => new MemoryStore(randomUUID()),
    newStoreUrl: () => Promise.reject(new Error('a memory store cannot be shared with another process')),
    close: async () => {},
  };
}

async function fileBackend(): Promise<TestBackend> {
  const dir = await tempDir('bucketdb-file');
  const stores: ObjectStore[] = [];
  let n = 0;
  return {
    name: 'file',
    async newStore() {
      const store = await FileStore.open(`${dir.path}/${n++}`);
      stores.push(store);
      return store;
    },
    newStoreUrl: async () => `file://${dir.path}/${n++}`,
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      await dir.remove();
    },
  };
}

/** The embedded S3-compatible server on 127.0.0.1, reached through S3Store and the AWS SDK. */
async function s3Backend(options: TestBackendOptions): Promise<TestBackend> {
  const server = await startServer({
    ...(options.emulate === undefined ? {} : { emulate: options.emulate }),
    store: new MemoryStore('s3-backend'),
    host: '127.0.0.1',
    port: 0,
    users: [TEST_CREDENTIALS],
    quiet: true,
  });
  const stores: ObjectStore[] = [];
  const make = (prefix: string) =>
    new S3Store({
      bucket: TEST_BUCKET,
      prefix,
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: TEST_CREDENTIALS,
    });
  await make('').createBucket();
  return {
    name: 's3',
    async newStore() {
      const store = make(`${randomUUID()}/`);
      stores.push(store);
      return store;
    },
    newStoreUrl: async () => `s3://${TEST_BUCKET}/${randomUUID()}?endpoint=${encodeURIComponent(server.url)}`,
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      await server.close();
    },
  };
}
