import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** The core each server gets to itself, and the one the load generator (and this process) runs on. */
export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;

/**
 * Whether the benchmark pins servers and client to separate cores, and why (for the report).
 * Pinning keeps the client from taking CPU from the server it measures, and gives every server
 * the same single core, so the rates compare servers rather than the scheduler's whims.
 */
export interface Pinning {
  enabled: boolean;
  reason: string;
}

/** Pins on Linux when `taskset` works with CPUs 0 and 1, unless BENCH_PIN=0. */
export function choosePinning(env: NodeJS.ProcessEnv = process.env): Pinning {
  if (env.BENCH_PIN === '0') return { enabled: false, reason: 'disabled by BENCH_PIN=0' };
  if (process.platform !== 'linux') return { enabled: false, reason: `not on Linux (${process.platform})` };
  if (availableParallelism() < 2) return { enabled: false, reason: 'fewer than 2 CPUs' };
  // One probe answers both "is taskset installed" and "may this process use CPUs 0 and 1".
  const probe = spawnSync('taskset', ['-c', `${SERVER_CPU},${CLIENT_CPU}`, 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    return { enabled: false, reason: `taskset unavailable or CPUs ${SERVER_CPU},${CLIENT_CPU} not allowed` };
  }
  return { enabled: true, reason: 'taskset' };
}

/** `command args` run on `cpu` when pinning (taskset execs it, so the pid stays the command's). */
export function pinnedCommand(pinning: Pinning, cpu: number, command: string, args: string[]): [string, string[]] {
  return pinning.enabled ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
}

/** Moves this process and all its threads to `cpu`, so a client running in it stays off the server's core. */
export function pinSelf(pinning: Pinning, cpu: number): void {
  if (pinning.enabled)
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}
