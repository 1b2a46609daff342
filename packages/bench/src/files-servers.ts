/** The child processes of the files benchmarks (the S3 servers, the engine on its own) and a client store for a server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3Store } from '@bucketdb/store';
import { BENCH_BUCKET } from './files-baselines.js';
import { BENCH_USER } from './server-targets.js';

const children: ChildProcess[] = [];

/** Runs one of this package's `*.child.ts` scripts; its stdout as lines, it exits when its stdin ends. */
function startChild(name: string, args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const script = fileURLToPath(new URL(name, import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines };
}

/** Starts a server over a FileStore in `dir` (or a MemoryStore for `memory`); resolves its URL and pid. */
export async function startServer(dir: string, emulate?: string): Promise<{ url: string; pid: number }> {
  const { child, lines } = startChild('./files-server.child.ts', [dir, ...(emulate ? [emulate] : [])]);
  const first = await lines.next();
  if (first.done) throw new Error('the benchmark server did not start');
  return { url: first.value.trim(), pid: child.pid ?? 0 };
}

/** The engine in a process of its own (files-engine.child.ts): each copy resolves that process's CPU seconds. */
export interface EngineProcess {
  upload(file: string, key: string): Promise<number>;
  download(key: string, file: string): Promise<number>;
}

export function startEngine(endpoint: string): EngineProcess {
  const { child, lines } = startChild('./files-engine.child.ts', [endpoint]);
  const send = async (command: object): Promise<number> => {
    child.stdin?.write(`${JSON.stringify(command)}\n`);
    const answer = await lines.next();
    if (answer.done) throw new Error('the engine process exited');
    const { cpu, error } = JSON.parse(answer.value) as { cpu?: number; error?: string };
    if (error !== undefined || cpu === undefined) throw new Error(`the engine process failed: ${error}`);
    return cpu;
  };
  return {
    upload: (file, key) => send({ op: 'upload', file, key }),
    download: (key, file) => send({ op: 'download', key, file }),
  };
}

/** Asks every child started here to finish (each exits when its stdin ends). */
export function stopChildren(): void {
  for (const child of children) child.stdin?.end();
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
