import { parseLocation } from '@bucketdb/files';
import type { Command } from 'commander';
import { FILES_EXIT, FilesSession, LOCATION_HELP, run, usage } from './files-session.js';

export function registerRmCommand(program: Command): void {
  program
    .command('rm')
    .description('delete an object, or every object under a prefix with -r')
    .argument('<location>', 'store location: a key, or a prefix with -r')
    .option('-r, --recursive', 'delete every object under the prefix')
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .addHelpText(
      'after',
      `${LOCATION_HELP}\n\nDeleting a key that does not exist succeeds, as in S3, so scripts may repeat an rm.`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : FILES_EXIT.usage))
    .action(
      run(async (arg: string, options: { recursive?: boolean; dryRun?: boolean }) => {
        const location = parseLocation(arg);
        if (location.kind !== 'store') throw usage('rm takes a store location; delete local files with the shell');
        const session = new FilesSession({ quiet: true });
        try {
          const store = await session.store(location.url);
          const keys: string[] = [];
          if (options.recursive) {
            for await (const entry of store.list({ prefix: location.key }))
              if (entry.kind === 'object') keys.push(entry.key);
          } else {
            if (location.key === '' || location.key.endsWith('/')) throw usage(`${arg} names a prefix: use -r`);
            keys.push(location.key);
          }
          const prefix = options.dryRun ? '(dry run) ' : '';
          if (options.dryRun) {
            for (const key of keys) process.stdout.write(`${prefix}delete ${key}\n`);
            return;
          }
          const result = await store.deleteMany(keys);
          for (const key of result.deleted) process.stdout.write(`delete ${key}\n`);
          for (const { key, error } of result.errors) process.stderr.write(`bucketdb: ${key}: ${error.message}\n`);
          if (result.errors.length > 0) process.exitCode = FILES_EXIT.failed;
        } finally {
          await session.close();
        }
      }),
    );
}
