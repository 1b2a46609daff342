import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCatCommand } from './commands/cat.js';
import { registerCpCommand } from './commands/cp.js';
import { registerEventsCommand } from './commands/events.js';
import { registerEventsGroupsCommand } from './commands/events-groups.js';
import { registerKvCommand } from './commands/kv.js';
import { registerLsCommand } from './commands/ls.js';
import { registerRmCommand } from './commands/rm.js';
import { registerLakeCommand } from './commands/lake.js';
import { registerServerCommand } from './commands/server.js';
import { registerSqlCommand } from './commands/sql.js';
import { registerSyncCommand } from './commands/sync.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The `bucketdb` command with every subcommand registered. */
export function createProgram(): Command {
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
  registerServerCommand(program);
  registerSqlCommand(program);
  registerKvCommand(program);
  registerCpCommand(program);
  registerSyncCommand(program);
  registerLsCommand(program);
  registerRmCommand(program);
  registerCatCommand(program);
  registerLakeCommand(program);
  registerEventsCommand(program);
  registerEventsGroupsCommand(program);
  return program;
}
