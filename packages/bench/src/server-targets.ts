import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Pinning, pinnedCommand, SERVER_CPU } from './server-pinning.js';

export const BENCH_USER = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' };
/** s3rver accepts only its own key pair. */
export const S3RVER_USER = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * `ours-nosync` (FileStore without fsync) does the same durability work as s3rver, which never
 * fsyncs; `ours-memory` (a MemoryStore, no files) separates the server's own cost from FileStore's.
 * The ceilings are bare `node:http` handlers that verify SigV4 with the server's own code and do
 * the same file work as ours (`bare-sigv4`) or as ours-nosync (`bare-sigv4-nosync`).
 */
export const TARGETS = ['ours', 's3rver', 'bare-sigv4', 'ours-nosync', 'bare-sigv4-nosync', 'ours-memory'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface Target {
  name: TargetName;
  url: string;
  credentials: typeof BENCH_USER;
  /** CPU seconds (user + system) the server process has used so far; undefined off Linux. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one server in a child process (workspace packages from source, compiled by tsx), with
 * its data in a fresh temp dir, and waits for its URL. With pinning, the process and every thread
 * it starts run on SERVER_CPU alone.
 */
export async function startTarget(name: TargetName, pinning: Pinning): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), `bucketdb-bench-${name}-`));
  const script = fileURLToPath(new URL('./server-target.child.ts', import.meta.url));
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each server there, for finding hotspots.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const [command, args] = pinnedCommand(pinning, SERVER_CPU, process.execPath, [
    ...profile,
    '--conditions=source',
    '--import',
    'tsx',
    script,
    name,
    dir,
  ]);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await firstLine(child);
  return {
    name,
    url,
    credentials: name === 's3rver' ? S3RVER_USER : BENCH_USER,
    cpuSeconds: () => processCpuSeconds(child.pid),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch (error) {
        reject(error);
      }
    });
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code} before listening`)));
  });
}

/** utime + stime of a process from /proc (Linux), in seconds. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime), counted here from field 3 (state).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux Node supports. */
const CLOCK_TICKS = 100;
