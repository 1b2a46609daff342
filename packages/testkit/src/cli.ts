import { type ChildResult, collect, spawnTs } from '@bucketdb/testkit-base';

const cliEntry = new URL('../../cli/src/cli.ts', import.meta.url);

export interface RunCliOptions {
  /** Written to the command's standard input, which is then closed. */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs the `bucketdb` command from source in a child process and collects its output. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<ChildResult> {
  const child = spawnTs(cliEntry, args, options.env ?? {}, options.cwd);
  child.stdin?.end(options.stdin ?? '');
  return collect(child);
}
