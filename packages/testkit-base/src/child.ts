import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts a TypeScript file in a child Node process. Workspace packages resolve to their sources
 * (the `source` export condition) and tsx compiles them, so child processes need no build either.
 */
export function spawnTs(
  script: string | URL,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): ChildProcess {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path, ...args], {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs a TypeScript file to completion and collects its output. */
export function runTs(script: string | URL, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return collect(spawnTs(script, args, env));
}

export function collect(child: ChildProcess): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
