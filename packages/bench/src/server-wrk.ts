/**
 * wrk as the load generator for small-object cells: C and epoll, a few microseconds of CPU per
 * request, so on a small machine the server rather than the client sets the rate. It cannot sign
 * requests, so it rotates through presigned paths (the server still checks a signature on every
 * request); a generated Lua script reads them from a file and counts every failed request.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLIENT_CPU, type Pinning, pinnedCommand } from './server-pinning.js';

/** `wrk -v`'s first line without the copyright (e.g. "wrk debian/4.1.0-3+b2 [epoll]"), or undefined if wrk is missing. */
export function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' }); // exits 1 after printing its usage
  if (probe.error) return undefined;
  return /^wrk .*?(?= Copyright|$)/m.exec(probe.stdout)?.[0]?.trim();
}

export interface WrkRun {
  /** The server's base URL (http://127.0.0.1:port). */
  url: string;
  method: 'GET' | 'PUT';
  /** Presigned paths, sent in turn (round robin). */
  paths: readonly string[];
  /** PUT body size in bytes. */
  bodyBytes?: number;
  connections: number;
  /** Whole seconds: wrk's duration has no finer unit. */
  seconds: number;
  pinning: Pinning;
}

export interface WrkResult {
  /** Requests/sec as wrk reports it: completed requests over the run's duration. */
  rate: number;
  /** Completed requests. */
  requests: number;
  /** Requests the script handed to wrk, in flight at the end included; above `paths.length`, some path went twice. */
  issued: number;
}

export type WrkErrorCode = 'requests-failed' | 'wrk-failed';

export class WrkError extends Error {
  constructor(
    readonly code: WrkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WrkError';
  }
}

const exec = promisify(execFile);

/** Runs wrk once (one thread, `connections` connections); throws WrkError if any request failed. */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketdb-bench-wrk-'));
  try {
    const pathsFile = join(dir, 'paths.txt');
    const scriptFile = join(dir, 'load.lua');
    await writeFile(pathsFile, `${run.paths.join('\n')}\n`);
    await writeFile(scriptFile, luaScript(run, pathsFile));
    // Generous timeout: a slow answer under load is a slow answer, not a failed request.
    const wrkArgs = ['-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--timeout', '30s', '-s', scriptFile, run.url];
    const [command, args] = pinnedCommand(run.pinning, CLIENT_CPU, 'wrk', wrkArgs);
    const { stdout } = await exec(command, args, { encoding: 'utf8', maxBuffer: 1 << 20 }).catch((error: unknown) => {
      throw new WrkError('wrk-failed', `wrk ${wrkArgs.join(' ')} failed: ${String(error)}`, { cause: error });
    });
    return parse(stdout, run);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The script: every request is the next presigned path (with a body for PUT); `response` counts
 * answers outside 2xx (wrk's own count starts at 400); `done` prints the counts on one line.
 * `issued` and `failed` are globals of the thread's Lua state so that `done`, which runs in the
 * main state, can read them through `thread:get`.
 */
function luaScript(run: WrkRun, pathsFile: string): string {
  const body = run.method === 'PUT' ? `string.rep("x", ${run.bodyBytes ?? 0})` : 'nil';
  return `
local paths = {}
for line in io.lines(${JSON.stringify(pathsFile)}) do paths[#paths + 1] = line end
local body = ${body}
local at = 0
issued = 0
failed = 0

request = function()
  issued = issued + 1
  at = at % #paths + 1
  return wrk.format("${run.method}", paths[at], nil, body)
end

response = function(status)
  if status < 200 or status > 299 then failed = failed + 1 end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary)
  local issued, failed = 0, 0
  for _, thread in ipairs(threads) do
    issued = issued + thread:get("issued")
    failed = failed + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format("bucketdb: issued=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\\n",
    issued, failed, e.connect, e.read, e.write, e.timeout))
end
`;
}

function parse(stdout: string, run: WrkRun): WrkResult {
  const rate = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(stdout)?.[1]);
  const requests = Number(/^\s*(\d+) requests in /m.exec(stdout)?.[1]);
  const counts = /^bucketdb: (.*)$/m.exec(stdout)?.[1];
  if (!counts || !Number.isFinite(rate) || !Number.isFinite(requests)) {
    throw new WrkError('wrk-failed', `unexpected wrk output:\n${stdout}`);
  }
  const count = Object.fromEntries(counts.split(' ').map((pair) => pair.split('=') as [string, string]));
  const failures = Object.entries(count).filter(([name, value]) => name !== 'issued' && Number(value) > 0);
  // A rate of failed requests is not a rate: the cell fails instead of reporting it.
  if (failures.length > 0 || requests === 0) {
    const what = failures.map(([name, value]) => `${value} ${name}`).join(', ') || 'no request completed';
    throw new WrkError(
      'requests-failed',
      `${run.method} ${run.url} at c${run.connections}: ${what} (of ${requests} completed)`,
    );
  }
  return { rate, requests, issued: Number(count.issued) };
}
