import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BENCH_USER = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' };
/** s3rver accepts only its own key pair. */
export const S3RVER_USER = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * `ours-nosync` (FileStore without fsync) does the same durability work as s3rver, which never
 * fsyncs; `ours-memory` (a MemoryStore, no files) separates the server's own cost from FileStore's.
 */
export const TARGETS = ['ours', 's3rver', 'bare', 'ours-nosync', 'ours-memory'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface Target {
  name: TargetName;
  url: string;
  credentials: typeof BENCH_USER;
  stop(): Promise<void>;
}

/**
 * Starts one server in a child process (workspace packages from source, compiled by tsx), with
 * its data in a fresh temp dir, and waits for its URL.
 */
export async function startTarget(name: TargetName): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), `bucketdb-bench-${name}-`));
  const script = fileURLToPath(new URL('./server-target.child.ts', import.meta.url));
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each server there, for finding hotspots.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--conditions=source', '--import', 'tsx', script, name, dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await firstLine(child);
  return {
    name,
    url,
    credentials: name === 's3rver' ? S3RVER_USER : BENCH_USER,
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
