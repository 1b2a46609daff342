import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  baseName,
  copyObject,
  downloadFile,
  openDownload,
  parseLocation,
  sync,
  uploadFile,
  uploadStream,
  verifiedChunks,
} from '@bucketdb/files';
import type { Command } from 'commander';
import { formatBytes } from '../transfer-progress.js';
import {
  FILES_EXIT,
  FilesSession,
  LOCATION_HELP,
  run,
  type TransferCliOptions,
  transferOptions,
  usage,
  withTransferOptions,
  writeOut,
} from './files-session.js';

interface CpOptions extends TransferCliOptions {
  recursive?: boolean;
  contentType?: string;
}

export function registerCpCommand(program: Command): void {
  withTransferOptions(program.command('cp'))
    .description('copy a file or object (or a tree with -r): parallel parts, verified, resumable')
    .argument('<source>', 'local path, store location, or - for stdin')
    .argument('<target>', 'local path, store location, or - for stdout')
    .option('-r, --recursive', 'copy every file under a directory or prefix')
    .option('--no-resume', 'do not keep state to continue an interrupted transfer')
    .option('--content-type <type>', 'content type of the uploaded object')
    .addHelpText(
      'after',
      `${LOCATION_HELP}

A target ending in / (or an existing directory) takes the source's name. An interrupted
upload or download continues where it stopped when run again (state beside the file).

Examples:
  bucketdb cp ./video.mp4 's3://media/2026/?endpoint=http://127.0.0.1:9000'
  bucketdb cp 's3://media/2026/video.mp4?endpoint=http://127.0.0.1:9000' ./
  bucketdb cp -r ./photos 'file:///srv/store#photos/'
  tar c dir | bucketdb cp - 's3://backups/dir.tar?endpoint=http://127.0.0.1:9000'`,
    )
    .action(run(cp));
}

async function cp(sourceArg: string, targetArg: string, options: CpOptions): Promise<void> {
  const source = parseLocation(sourceArg);
  const target = parseLocation(targetArg);
  const session = new FilesSession(options);
  const parts = transferOptions(options);
  const onProgress = ({ bytes, total }: { bytes: number; total: number }) => session.progress.update(bytes, total);
  const transfer = {
    ...parts,
    onProgress,
    ...(options.resume === false ? { resume: false } : {}),
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
  };
  try {
    if (source.kind !== 'store' && target.kind !== 'store')
      throw usage('cp needs a store location on at least one side');
    if (options.recursive) {
      const result = await sync(await session.endpoint(source), await session.endpoint(target), {
        ...parts,
        always: true,
        onProgress,
      });
      for (const { action, error } of result.failed)
        process.stderr.write(`bucketdb: ${action.path}: ${error.message}\n`);
      session.progress.finish(`copied ${result.copied.length} files (${formatBytes(result.bytes)})`, session.meter);
      if (result.failed.length > 0) process.exitCode = FILES_EXIT.failed;
      return;
    }
    let size = 0;
    if (source.kind === 'stdio') {
      if (target.kind !== 'store' || target.key === '' || target.key.endsWith('/')) {
        throw usage('copying standard input needs a target key');
      }
      const store = await session.store(target.url);
      size = (await uploadStream(store, target.key, process.stdin, transfer)).size;
    } else if (source.kind === 'local') {
      if (target.kind !== 'store') throw usage('cp needs a store location on at least one side');
      if ((await stat(source.path)).isDirectory()) throw usage(`${source.path} is a directory: use -r`);
      const key = target.key === '' || target.key.endsWith('/') ? target.key + baseName(source.path) : target.key;
      size = (await uploadFile(await session.store(target.url), source.path, key, transfer)).size;
    } else {
      if (source.key === '' || source.key.endsWith('/')) throw usage(`${sourceArg} names a prefix: use -r`);
      const store = await session.store(source.url);
      if (target.kind === 'stdio') {
        const download = await openDownload(store, source.key, parts);
        for await (const chunk of verifiedChunks(download, source.key)) await writeOut(chunk);
        size = download.info.size;
      } else if (target.kind === 'local') {
        const path = (await isDirectory(target.path)) ? join(target.path, baseName(source.key)) : target.path;
        size = (await downloadFile(store, source.key, path, transfer)).size;
      } else {
        const key = target.key === '' || target.key.endsWith('/') ? target.key + baseName(source.key) : target.key;
        size = (await copyObject(store, source.key, await session.store(target.url), key, transfer)).size;
      }
    }
    session.progress.update(size, size);
    session.progress.finish(`copied ${formatBytes(size)}`, session.meter);
  } finally {
    await session.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  if (path.endsWith('/')) return true;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
