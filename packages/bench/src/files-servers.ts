/** The S3 servers of the files benchmarks: one child process each, and a client store for each. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3Store } from '@bucketdb/store';
import { BENCH_BUCKET } from './files-baselines.js';
import { BENCH_USER } from './server-targets.js';

const servers: ChildProcess[] = [];

/** Starts a server over a FileStore in `dir` (or a MemoryStore for `memory`); resolves its URL and pid. */
export async function startServer(dir: string, emulate?: string): Promise<{ url: string; pid: number }> {
  const script = fileURLToPath(new URL('./files-server.child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', script, dir, ...(emulate ? [emulate] : [])],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  servers.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) return { url: line.trim(), pid: child.pid ?? 0 };
  throw new Error('the benchmark server did not start');
}

/** Asks every server started here to close (each exits when its stdin ends). */
export function stopServers(): void {
  for (const child of servers) child.stdin?.end();
}

export function s3(endpoint: string): S3Store {
  return new S3Store({
    bucket: BENCH_BUCKET,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: BENCH_USER,
  });
}

/** A process's CPU seconds so far (utime + stime of /proc/<pid>/stat); NaN where /proc is missing. */
export async function processCpu(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
