/**
 * `npm run bench -- <name> [args…]`: runs one benchmark from source in its own Node process.
 * Each benchmark writes its report to docs/benchmarks/ and prints the ratios against its baseline.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS: Record<string, { file: string; what: string }> = {
  server: { file: 'server.ts', what: 'S3 server vs s3rver vs a bare node:http ceiling (4 KiB ops/s, 256 MiB MB/s)' },
  sql: {
    file: 'sql.ts',
    what: 'SQL commits/s, requests per commit, s3db-style baseline, CPU vs better-sqlite3, open time',
  },
  kv: { file: 'kv.ts', what: 'the 500K-key study: KV on emulated S3 Standard/Express vs Redis, cost per million ops' },
  lake: {
    file: 'lake.ts',
    what: 'Delta tables on emulated S3: skipping, latency vs local DuckDB and bucketdb SQL, cost vs Athena/Aurora',
  },
  events: {
    file: 'events.ts',
    what: 'event store on emulated S3: append p50/p99, group commit, subscription lag vs Redis Streams',
  },
  'sql-scan': {
    file: 'sql-scan.ts',
    what: 'SQL scans larger than the cache: restart on miss vs blocking miss vs better-sqlite3',
  },
  'sql-gc': {
    file: 'sql-gc.ts',
    what: 'SQL storage after 100,000 commits with automatic GC vs live + retention window',
  },
  'sql-export': {
    file: 'sql-export.ts',
    what: 'SQL export to a .sqlite file and restore of 100 MiB (--full: 1 GiB) vs the files transfer engine',
  },
  'sql-lifecycle': {
    file: 'sql-lifecycle.ts',
    what: 'SQL cold open at lag 0/500/5000, warm open with cacheDir',
  },
  'kv-mixes': {
    file: 'kv-mixes.ts',
    what: 'KV write mixes priced from the meter, hot counter, TTL throttling, cost with writes',
  },
  'kv-leases': {
    file: 'kv-leases.ts',
    what: 'lease checker: 10,000+ acquisitions under faults, vs a broken-lease baseline',
  },
  'file-store-list': { file: 'file-store-list.ts', what: 'FileStore LIST pages at 1M keys vs MemoryStore' },
  files: { file: 'files.ts', what: 'S3 or disk by file size: transfers vs local disk, aws CLI, rclone; IOPS; memory' },
  'files-download': {
    file: 'files-download.ts',
    what: 'client CPU per GiB of a large download: downloadFile vs raw sockets into reused buffers, GCs per GiB',
  },
};

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHMARKS[name];
if (!bench) {
  const list = Object.entries(BENCHMARKS)
    .map(([key, { what }]) => `  ${key.padEnd(16)} ${what}`)
    .join('\n');
  process.stderr.write(
    `${name === undefined ? '' : `unknown benchmark ${JSON.stringify(name)}\n`}usage: npm run bench -- <name> [args]\n\n${list}\n`,
  );
  process.exit(name === undefined || name === '--help' ? 0 : 2);
}

const file = fileURLToPath(new URL(bench.file, import.meta.url));
// Benchmarks that build an S3Client directly would print the SDK's Node 20 notice (see S3Store).
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env };
const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file, ...args], {
  stdio: 'inherit',
  env,
});
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
