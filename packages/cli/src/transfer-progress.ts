import { cost, type Meter, S3_STANDARD_US_EAST_1, STORE_OPS } from '@bucketdb/store';

const MiB = 1 << 20;

/**
 * A progress line on stderr (bytes, rate, ETA), drawn only on a terminal and at most ten times a
 * second, and the summary printed at the end: what moved, how fast, the requests made and what
 * they would cost at S3 Standard's list prices.
 */
export class TransferProgress {
  readonly #started = performance.now();
  readonly #live: boolean;
  readonly #quiet: boolean;
  #bytes = 0;
  #total = 0;
  #drawn = 0;

  constructor(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}) {
    this.#quiet = options.quiet ?? false;
    this.#live = !this.#quiet && (options.stream ?? process.stderr).isTTY === true;
  }

  update(bytes: number, total: number): void {
    this.#bytes = bytes;
    this.#total = total;
    if (!this.#live) return;
    const now = performance.now();
    if (now - this.#drawn < 100 && bytes < total) return;
    this.#drawn = now;
    process.stderr.write(`\r\x1b[K${this.line()}`);
  }

  /** `[#####.....]  12.0/96.0 MiB  40.1 MiB/s  ETA 2s` */
  line(): string {
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? this.#bytes / seconds : 0;
    const share = this.#total > 0 ? Math.min(1, this.#bytes / this.#total) : 1;
    const bar = `[${'#'.repeat(Math.round(share * 20)).padEnd(20, '.')}]`;
    const eta = rate > 0 ? `ETA ${formatSeconds((this.#total - this.#bytes) / rate)}` : 'ETA -';
    return `${bar} ${formatBytes(this.#bytes)}/${formatBytes(this.#total)}  ${formatBytes(rate)}/s  ${eta}`;
  }

  /** Clears the progress line and prints the summary (unless quiet). */
  finish(what: string, meter: Meter): void {
    if (this.#live) process.stderr.write('\r\x1b[K');
    if (this.#quiet) return;
    const seconds = (performance.now() - this.#started) / 1000;
    const usage = meter.snapshot();
    const counts = STORE_OPS.filter((op) => usage.requests[op] > 0).map((op) => `${op} ${usage.requests[op]}`);
    const requests = STORE_OPS.reduce((n, op) => n + usage.requests[op], 0);
    const dollars = cost(usage, S3_STANDARD_US_EAST_1).total;
    const rate = seconds > 0 ? `, ${formatBytes(this.#bytes / seconds)}/s` : '';
    process.stderr.write(
      `${what} in ${formatSeconds(seconds)}${rate}; ${requests} requests${counts.length ? ` (${counts.join(', ')})` : ''}, ` +
        `$${dollars.toFixed(6)} at ${S3_STANDARD_US_EAST_1.name} prices of ${S3_STANDARD_US_EAST_1.asOf}\n`,
    );
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / 1024 / MiB).toFixed(2)} GiB`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '-';
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
