import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_USER } from './server-targets.js';

export const BENCH_BUCKET = 'files-bench';

/** The other S3 tools, run against the same server: the time includes their process start. */
export interface BaselineTool {
  name: 'aws CLI' | 'rclone' | 'bucketdb cp';
  /** Whether it makes a downloaded file durable itself (else the report times an fsync apart). */
  syncs: boolean;
  /** Why it cannot run here, or undefined when it can. */
  missing: string | undefined;
  version: string;
  /** How it cuts and parallelizes transfers with the defaults used here. */
  settings: string;
  /** Each resolves the tool's CPU seconds. */
  upload(endpoint: string, file: string, key: string): Promise<number>;
  download(endpoint: string, key: string, file: string): Promise<number>;
}

// The machine may point TLS tools at its own CA bundle; a plain-HTTP local run needs none, and
// rclone refuses to start when one it names is missing.
const CA_VARIABLES = [
  'AWS_CA_BUNDLE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  'REQUESTS_CA_BUNDLE',
  'NIX_SSL_CERT_FILE',
];

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of CA_VARIABLES) delete out[name];
  return out;
}

/**
 * Runs the tool through `sh`, which prints its children's CPU time (utime + cstime of
 * /proc/self/stat, fields 16 and 17) once the tool has exited: resolves the tool's CPU seconds.
 */
function run(command: string, args: string[], extra: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const script = `"$@" && cat /proc/$$/stat`;
    const child = spawn('sh', ['-c', script, 'sh', command, ...args], {
      env: env(extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${err.slice(0, 500)}`));
      const fields = out.slice(out.lastIndexOf(')') + 2).split(' ');
      resolve((Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS);
    });
  });
}

/** Linux's USER_HZ: /proc times are in these. */
const CLOCK_TICKS = 100;

function versionOf(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', env: env({}) });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0]?.trim() ?? '';
}

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: BENCH_USER.accessKeyId,
  AWS_SECRET_ACCESS_KEY: BENCH_USER.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
};

export function awsCli(): BaselineTool {
  const version = versionOf('aws', ['--version']);
  return {
    name: 'aws CLI',
    syncs: false,
    missing:
      version === undefined ? 'the aws command is not installed (.ci/install-system-deps installs awscli)' : undefined,
    version: version ?? '',
    settings:
      'defaults of aws CLI v1 (s3transfer): multipart_threshold 8 MiB, multipart_chunksize 8 MiB, max_concurrent_requests 10, for uploads and ranged downloads',
    upload: (endpoint, file, key) =>
      run(
        'aws',
        ['--endpoint-url', endpoint, 's3', 'cp', '--only-show-errors', file, `s3://${BENCH_BUCKET}/${key}`],
        AWS_ENV,
      ),
    download: (endpoint, key, file) =>
      run(
        'aws',
        ['--endpoint-url', endpoint, 's3', 'cp', '--only-show-errors', `s3://${BENCH_BUCKET}/${key}`, file],
        AWS_ENV,
      ),
  };
}

export function rclone(): BaselineTool {
  const version = versionOf('rclone', ['version']);
  const remote = (endpoint: string) => ({
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: BENCH_USER.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: BENCH_USER.secretAccessKey,
  });
  return {
    name: 'rclone',
    syncs: false,
    missing:
      version === undefined
        ? 'rclone is not installed (apt-get install rclone; .ci/install-system-deps does)'
        : undefined,
    version: version ?? '',
    settings:
      'defaults of rclone 1.60: --s3-chunk-size 5 MiB, --s3-upload-concurrency 4; downloads of files over --multi-thread-cutoff 250 MiB in --multi-thread-streams 4 ranges, smaller ones in one stream',
    upload: (endpoint, file, key) => run('rclone', ['copyto', file, `bench:${BENCH_BUCKET}/${key}`], remote(endpoint)),
    download: (endpoint, key, file) =>
      run('rclone', ['copyto', `bench:${BENCH_BUCKET}/${key}`, file], remote(endpoint)),
  };
}

/**
 * Our own CLI run like the tools: a process per copy, so it pays a process start and keeps a
 * small heap, as they do (the engine rows run inside this long-lived benchmark process).
 */
export function bucketdbCli(): BaselineTool {
  const cli = fileURLToPath(new URL('../../cli/bin/bucketdb.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../../cli/dist/cli.js', import.meta.url)));
  const url = (endpoint: string, key: string) => `s3://${BENCH_BUCKET}/${key}?endpoint=${encodeURIComponent(endpoint)}`;
  return {
    name: 'bucketdb cp',
    syncs: true,
    missing: built ? undefined : 'the CLI is not built (npm run build)',
    version: `node ${process.version}`,
    settings: 'the engine with its defaults, as above, in a process of its own per copy',
    upload: (endpoint, file, key) =>
      run(process.execPath, [cli, 'cp', '-q', '--no-resume', file, url(endpoint, key)], AWS_ENV),
    download: (endpoint, key, file) =>
      run(process.execPath, [cli, 'cp', '-q', '--no-resume', url(endpoint, key), file], AWS_ENV),
  };
}
