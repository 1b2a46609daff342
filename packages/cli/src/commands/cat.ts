import { openDownload, parseLocation, verifiedChunks } from '@bucketdb/files';
import type { Command } from 'commander';
import { FILES_EXIT, FilesSession, LOCATION_HELP, run, transferOptions, usage, writeOut } from './files-session.js';

export function registerCatCommand(program: Command): void {
  program
    .command('cat')
    .description('write an object to standard output (ranged parts in parallel, checked against its ETag)')
    .argument('<location>', 'store location of one key')
    .addHelpText(
      'after',
      `${LOCATION_HELP}\n\nThe bytes stream out as they arrive; a checksum mismatch found at the end exits 3.`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : FILES_EXIT.usage))
    .action(
      run(async (arg: string) => {
        const location = parseLocation(arg);
        if (location.kind !== 'store' || location.key === '') throw usage('cat takes the store location of a key');
        const session = new FilesSession({ quiet: true });
        try {
          const store = await session.store(location.url);
          const download = await openDownload(store, location.key, transferOptions({}));
          for await (const chunk of verifiedChunks(download, location.key)) await writeOut(chunk);
        } finally {
          await session.close();
        }
      }),
    );
}
