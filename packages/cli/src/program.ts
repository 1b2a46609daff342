import { readFileSync } from 'node:fs';
import { Command } from 'commander';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

type Register = (program: Command) => void;

/**
 * Each verb's module, loaded only when it runs: a verb's module imports its whole package (the
 * server, SQLite, the event store...), and loading all of them cost every verb 0.4 s at start.
 * In help-listing order; `events` adds its `groups` subcommand.
 */
const VERBS: Record<string, () => Promise<Register[]>> = {
  server: async () => [(await import('./commands/server.js')).registerServerCommand],
  sql: async () => [(await import('./commands/sql.js')).registerSqlCommand],
  kv: async () => [(await import('./commands/kv.js')).registerKvCommand],
  cp: async () => [(await import('./commands/cp.js')).registerCpCommand],
  sync: async () => [(await import('./commands/sync.js')).registerSyncCommand],
  ls: async () => [(await import('./commands/ls.js')).registerLsCommand],
  rm: async () => [(await import('./commands/rm.js')).registerRmCommand],
  cat: async () => [(await import('./commands/cat.js')).registerCatCommand],
  lake: async () => [(await import('./commands/lake.js')).registerLakeCommand],
  events: async () => {
    const [events, groups] = await Promise.all([import('./commands/events.js'), import('./commands/events-groups.js')]);
    return [events.registerEventsCommand, groups.registerEventsGroupsCommand];
  },
};

/**
 * The `bucketdb` command with the subcommand `verb` registered, or every subcommand when `verb` is
 * not one of them (top-level help, `help <verb>`, an unknown verb and its suggestions).
 */
export async function createProgram(verb?: string): Promise<Command> {
  const program = new Command('bucketdb')
    .description('Databases whose only durable dependency is an S3-compatible bucket')
    .version(version, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Stores are named by URL:
  ./dir or file:///abs/dir              files in a local directory (the default is ./bucketdb-data)
  mem://                                memory (gone when the process exits)
  s3://bucket/prefix?endpoint=URL       any S3 API: AWS, our server, MinIO, R2

Examples:
  bucketdb server                       start the S3-compatible server on 127.0.0.1:9000
  bucketdb sql                          open the SQL shell on ./bucketdb-data
  bucketdb kv put ./data greeting '"hi"'`,
    );
  const one = verb === undefined || !Object.hasOwn(VERBS, verb) ? undefined : VERBS[verb];
  const loaders = one ? [one] : Object.values(VERBS);
  for (const registers of await Promise.all(loaders.map((load) => load()))) {
    for (const register of registers) register(program);
  }
  return program;
}
