import { parseLocation, sync } from '@bucketdb/files';
import type { Command } from 'commander';
import { formatBytes } from '../transfer-progress.js';
import {
  FILES_EXIT,
  FilesSession,
  LOCATION_HELP,
  run,
  type TransferCliOptions,
  transferOptions,
  withTransferOptions,
} from './files-session.js';

interface SyncCliOptions extends TransferCliOptions {
  delete?: boolean;
  dryRun?: boolean;
  include?: string[];
  exclude?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerSyncCommand(program: Command): void {
  withTransferOptions(program.command('sync'))
    .description('make a directory or prefix hold what another holds (local ↔ store ↔ store)')
    .argument('<source>', 'local directory or store prefix')
    .argument('<target>', 'local directory or store prefix')
    .option('--delete', 'delete files of the target that the source lacks')
    .option('--dry-run', 'print what would be done, change nothing')
    .option('--include <glob>', 'take only paths matching (repeatable)', collect)
    .option('--exclude <glob>', 'leave out paths matching (repeatable; wins over --include)', collect)
    .addHelpText(
      'after',
      `${LOCATION_HELP}

A file is copied when the target lacks it, its size differs, or its content does not match
the object's ETag (local files are hashed to compare). Patterns match the whole relative path:
* is any run of characters (/ included), ? one character. One line per action on stdout.

Examples:
  bucketdb sync ./site 's3://www/?endpoint=http://127.0.0.1:9000' --delete
  bucketdb sync 's3://www/?endpoint=http://127.0.0.1:9000' ./copy --exclude '*.tmp' --dry-run`,
    )
    .action(run(syncVerb));
}

async function syncVerb(sourceArg: string, targetArg: string, options: SyncCliOptions): Promise<void> {
  const session = new FilesSession(options);
  try {
    const source = await session.endpoint(parseLocation(sourceArg));
    const target = await session.endpoint(parseLocation(targetArg));
    const result = await sync(source, target, {
      ...transferOptions(options),
      ...(options.delete ? { delete: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.include ? { include: options.include } : {}),
      ...(options.exclude ? { exclude: options.exclude } : {}),
      onAction: (a) => {
        if (!options.quiet)
          process.stdout.write(`${options.dryRun ? '(dry run) ' : ''}${a.op} ${a.path} (${a.reason})\n`);
      },
      onProgress: ({ bytes, total }) => session.progress.update(bytes, total),
    });
    for (const { action, error } of result.failed) process.stderr.write(`bucketdb: ${action.path}: ${error.message}\n`);
    session.progress.finish(
      `${options.dryRun ? 'dry run: ' : ''}copied ${result.copied.length} (${formatBytes(result.bytes)}), deleted ${result.deleted.length}, unchanged ${result.unchanged}, failed ${result.failed.length}`,
      session.meter,
    );
    if (result.failed.length > 0) process.exitCode = FILES_EXIT.failed;
  } finally {
    await session.close();
  }
}
