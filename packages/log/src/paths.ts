import { LogError } from './errors.js';

/** Versions are written as 20 decimal digits, so that key order is version order. */
const VERSION_DIGITS = 20;
const VERSION_PATTERN = /^\d{20}$/;
const MANIFEST_NAME = '_manifest';

/**
 * The key layout of one log, and its only owner. With the prefix `db/main`:
 *
 * ```
 * db/main/log/00000000000000000042                          record 42 (immutable, put-if-absent)
 * db/main/checkpoints/00000000000000000040/_manifest        checkpoint 40's manifest: its commit point
 * db/main/checkpoints/00000000000000000040/chunk-0007       an object of checkpoint 40, named by the caller
 * db/main/_last_checkpoint                                  hint: the newest checkpoint's version (may lag)
 * db/main/_gc_floor                                         GC's floor (see gc-floor.ts)
 * db/main/_open_hint                                        a client's hint for cold opens (rewritten freely, never trusted)
 * ```
 *
 * With the empty prefix the same keys start at `log/`, `checkpoints/` and `_last_checkpoint`.
 */
export class LogPaths {
  /** Without a trailing slash; empty for a log at the root of the store. */
  readonly prefix: string;
  readonly logDir: string;
  readonly checkpointsDir: string;
  readonly lastCheckpoint: string;
  /** GC's floor: records at or below it may be deleted, and no client may append there. */
  readonly gcFloor: string;
  /** Where a client keeps what its cold open needs in one GET (the SQL engine's; GC leaves it alone). */
  readonly openHint: string;

  constructor(prefix = '') {
    const trimmed = prefix.replace(/\/+$/, '');
    if (trimmed.startsWith('/')) {
      throw new LogError('InvalidArgument', `a log prefix must not start with "/": ${JSON.stringify(prefix)}`);
    }
    this.prefix = trimmed;
    const root = trimmed === '' ? '' : `${trimmed}/`;
    this.logDir = `${root}log/`;
    this.checkpointsDir = `${root}checkpoints/`;
    this.lastCheckpoint = `${root}_last_checkpoint`;
    this.gcFloor = `${root}_gc_floor`;
    this.openHint = `${root}_open_hint`;
  }

  /** `<prefix>/log/00000000000000000042` */
  record(version: number): string {
    return this.logDir + formatVersion(version);
  }

  /** The version a key under `logDir` names, or undefined for any other key. */
  recordVersion(key: string): number | undefined {
    return key.startsWith(this.logDir) ? parseVersion(key.slice(this.logDir.length)) : undefined;
  }

  /** `<prefix>/checkpoints/00000000000000000042/`: the folder of one checkpoint's objects. */
  checkpointDir(version: number): string {
    return `${this.checkpointsDir}${formatVersion(version)}/`;
  }

  /** The version of the checkpoint folder holding `key` (any object under `checkpoints/<v>/`), or undefined. */
  checkpointObjectVersion(key: string): number | undefined {
    if (!key.startsWith(this.checkpointsDir)) return undefined;
    const rest = key.slice(this.checkpointsDir.length);
    const slash = rest.indexOf('/');
    return slash < 0 ? undefined : parseVersion(rest.slice(0, slash));
  }

  /** The version a common prefix `<prefix>/checkpoints/<20 digits>/` names, or undefined. */
  checkpointDirVersion(commonPrefix: string): number | undefined {
    if (!commonPrefix.startsWith(this.checkpointsDir) || !commonPrefix.endsWith('/')) return undefined;
    return parseVersion(commonPrefix.slice(this.checkpointsDir.length, -1));
  }

  /** A caller's object of checkpoint `version`; names starting with `_` are the log's own. */
  checkpointObject(version: number, name: string): string {
    if (name === '' || name.startsWith('_')) {
      throw new LogError(
        'InvalidArgument',
        `checkpoint object names must be non-empty and not start with "_": ${name}`,
      );
    }
    return this.checkpointDir(version) + name;
  }

  /** `<prefix>/checkpoints/00000000000000000042/_manifest` */
  manifest(version: number): string {
    return this.checkpointDir(version) + MANIFEST_NAME;
  }
}

export function formatVersion(version: number): string {
  checkVersion(version, 0);
  return String(version).padStart(VERSION_DIGITS, '0');
}

function parseVersion(digits: string): number | undefined {
  if (!VERSION_PATTERN.test(digits)) return undefined;
  const version = Number(digits);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** Throws InvalidArgument unless `version` is a safe integer >= `min`. */
export function checkVersion(version: number, min: number): void {
  if (!Number.isSafeInteger(version) || version < min) {
    throw new LogError('InvalidArgument', `a log version must be an integer >= ${min}, got ${version}`);
  }
}
