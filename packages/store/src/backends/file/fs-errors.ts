import { InvalidKeyError, NotFoundError, PreconditionFailedError, StoreError, TransientError } from '../../errors.js';

/** Codes of failures that leave stored state as it was and may pass when retried. */
const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'ENOSPC', 'EDQUOT', 'EIO']);

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The one place FileStore turns a native file-system error into a store error. ENOENT on an
 * object's path means the object is missing; EEXIST from `link` means a create-only write lost.
 * Store errors and unknown errors pass through unchanged.
 */
export function translateFsError(error: unknown, key: string): unknown {
  if (error instanceof StoreError) return error;
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new NotFoundError(key, { cause: error });
  // A key of many short escaped segments can make a path longer than the file system allows.
  if (code === 'ENAMETOOLONG') return new InvalidKeyError(key, 'its path is longer than this file system allows');
  if (code === 'EEXIST') return new PreconditionFailedError(key, 'the key exists (If-None-Match: *)', { cause: error });
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    return new TransientError(`file system error ${code} on ${JSON.stringify(key)}`, { key, cause: error });
  }
  return error;
}
