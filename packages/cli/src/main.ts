import { createProgram } from './program.js';

/** Entry point of the `bucketdb` binary: errors become one line on stderr and exit code 1. */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    // argv[2] is the verb, unless an option comes first.
    await (await createProgram(argv[2])).parseAsync(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`bucketdb: ${message}\n`);
    process.exitCode = process.exitCode || 1;
  }
}
