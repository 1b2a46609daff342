/** The closed set of codes of `FilesError`. Store failures keep their own `StoreError` codes. */
export const FILES_ERROR_CODES = ['InvalidArgument', 'NotFound', 'Corrupt', 'SourceChanged', 'IsADirectory'] as const;
export type FilesErrorCode = (typeof FILES_ERROR_CODES)[number];

/**
 * A transfer or file operation that cannot go on. `Corrupt`: the bytes do not match the checksum
 * the store holds (nothing was written as good). `SourceChanged`: the source was modified while
 * it was being copied (start again).
 */
export class FilesError extends Error {
  readonly code: FilesErrorCode;
  readonly path: string | undefined;

  constructor(code: FilesErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `Files${code}Error`;
    this.code = code;
    this.path = options.path;
  }
}

export function isFilesError(error: unknown, code?: FilesErrorCode): error is FilesError {
  return error instanceof FilesError && (code === undefined || error.code === code);
}
