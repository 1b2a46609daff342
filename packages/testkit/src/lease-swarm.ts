import { checkLeaseHistory, type LeaseEvent } from '@bucketdb/store';
import { collect, spawnTs } from '@bucketdb/testkit-base';

export interface LeaseSwarmOptions {
  /** The child script: prints one JSON line per LeaseEvent (with the lease's `name`) on stdout, a JSON summary last on stderr. */
  worker: URL;
  /** Arguments of each child process. */
  children: string[][];
  env?: NodeJS.ProcessEnv;
  /** Runs in this process while the children do (a sweeper); its signal aborts when they are done. */
  alongside?: (signal: AbortSignal) => Promise<void>;
  /** Lease names checked for exclusion only (locks without fencing tokens); default none. */
  withoutFencing?: (name: string) => boolean;
}

export interface LeaseSwarmResult {
  /** Violations of every lease name, each prefixed by it; empty when the merged history is correct. */
  violations: string[];
  /** Events per lease name, merged from every child. */
  names: number;
  events: number;
  /** Each child's summary line. */
  summaries: Record<string, unknown>[];
  seconds: number;
}

/**
 * Runs lease-taking child processes at once, merges their histories by lease name and checks each
 * with `checkLeaseHistory` (no two holders at once; fencing tokens only increase). A child that
 * exits non-zero fails the run.
 */
export async function runLeaseSwarm(options: LeaseSwarmOptions): Promise<LeaseSwarmResult> {
  const started = performance.now();
  const stop = new AbortController();
  const alongside = options.alongside?.(stop.signal);
  let results;
  try {
    results = await Promise.all(options.children.map((args) => collect(spawnTs(options.worker, args, options.env))));
  } finally {
    stop.abort();
    await alongside;
  }
  const seconds = (performance.now() - started) / 1000;
  const byName = new Map<string, LeaseEvent[]>();
  const summaries: Record<string, unknown>[] = [];
  let events = 0;
  for (const child of results) {
    if (child.code !== 0) throw new Error(`a lease process failed (exit ${String(child.code)}): ${child.stderr}`);
    for (const line of child.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line) as LeaseEvent & { name: string };
      const list = byName.get(event.name) ?? [];
      list.push(event);
      byName.set(event.name, list);
      events++;
    }
    summaries.push(JSON.parse(child.stderr.trim().split('\n').at(-1) as string) as Record<string, unknown>);
  }
  const violations: string[] = [];
  for (const [name, history] of byName) {
    const fencing = !(options.withoutFencing?.(name) ?? false);
    for (const v of checkLeaseHistory(history, { fencing })) violations.push(`${name}: ${v}`);
  }
  return { violations, names: byName.size, events, summaries, seconds };
}
