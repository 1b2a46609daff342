import { parseLocation } from '@bucketdb/files';
import type { Command } from 'commander';
import { FILES_EXIT, FilesSession, LOCATION_HELP, run, usage } from './files-session.js';

export function registerLsCommand(program: Command): void {
  program
    .command('ls')
    .description('list the objects and prefixes under a store location')
    .argument('<location>', 'store location: a prefix or a key')
    .option('-r, --recursive', 'list every object under the prefix, not one level')
    .option('--json', 'one JSON object per line: {"key","size","etag","lastModified"} or {"prefix"}')
    .addHelpText(
      'after',
      `${LOCATION_HELP}\n\nLines: <last modified> <size> <key>, or PRE <prefix> for a common prefix.`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : FILES_EXIT.usage))
    .action(
      run(async (arg: string, options: { recursive?: boolean; json?: boolean }) => {
        const location = parseLocation(arg);
        if (location.kind !== 'store') throw usage('ls takes a store location, e.g. s3://bucket/prefix/');
        const session = new FilesSession({ quiet: true });
        try {
          const store = await session.store(location.url);
          const listing = store.list({ prefix: location.key, ...(options.recursive ? {} : { delimiter: '/' }) });
          for await (const entry of listing) {
            if (options.json) {
              process.stdout.write(
                `${JSON.stringify(entry.kind === 'prefix' ? { prefix: entry.prefix } : { key: entry.key, size: entry.size, etag: entry.etag, lastModified: entry.lastModified })}\n`,
              );
            } else if (entry.kind === 'prefix') process.stdout.write(`${'PRE'.padStart(36)} ${entry.prefix}\n`);
            else {
              const when = entry.lastModified.toISOString().replace('T', ' ').slice(0, 19);
              process.stdout.write(`${when} ${String(entry.size).padStart(16)} ${entry.key}\n`);
            }
          }
        } finally {
          await session.close();
        }
      }),
    );
}
