/**
 * The AWS SDK warns on Node 20 that its releases after January 2027 will need Node 22. Our lock
 * file pins the SDK, so for a user of this command the nine-line notice on every S3 call is noise.
 * Everything else Node warns about still shows.
 */
export function silenceSdkNodeVersionWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('NodeVersionSupportWarning')) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}
