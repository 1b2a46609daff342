import { runConcurrent } from './harness.js';
import type { RawS3Client } from './server-client.js';
import type { Pinning } from './server-pinning.js';
import { runWrk, type WrkResult } from './server-wrk.js';
import { BUCKET, type Measure, type SmallLoad, type SmallOp } from './server-workloads.js';

/** Existing 4 KiB objects, written once per server: what GETs read and overwrites replace. */
const EXISTING = 1000;
/** Presigned URLs are signed just before their run; an hour is far longer than any run. */
const EXPIRES_SECONDS = 3600;
/** wrk runs whole seconds; the first run of each cell warms the server up and, for new keys, sizes the URL set. */
const WARM_SECONDS = 1;
/** URLs for a new-key warm-up; if it goes round them, some warm-up PUTs overwrite, which does not matter. */
const WARM_PATHS = 4000;

/** wrk's duration is whole seconds: BENCH_SECONDS rounded, at least 1. */
export const wrkSeconds = (seconds: number) => Math.max(1, Math.round(seconds));

const existingKey = (i: number) => `/${BUCKET}/existing/${i}`;

/**
 * wrk as the small-object load (see server-wrk.ts): one wrk process per run, `-t1 -cN`, pinned
 * away from the server. PUTs of new keys get enough distinct presigned URLs that none is sent
 * twice in a measurement: sized from the previous rate of the same cell (a warm-up run in round
 * 0), and run again with more if wrk still went round the set.
 */
export class WrkLoad implements SmallLoad {
  readonly #url: string;
  readonly #client: RawS3Client;
  readonly #seconds: number;
  readonly #pinning: Pinning;
  readonly #bodyBytes: number;
  /** The last PUT rate per concurrency, which sizes the next URL set. */
  readonly #putRates = new Map<number, number>();

  private constructor(url: string, client: RawS3Client, seconds: number, pinning: Pinning, bodyBytes: number) {
    this.#url = url;
    this.#client = client;
    this.#seconds = seconds;
    this.#pinning = pinning;
    this.#bodyBytes = bodyBytes;
  }

  /** Writes the existing objects through `client` (the bucket must exist) and checks a presigned GET of one. */
  static async open(
    url: string,
    client: RawS3Client,
    options: { seconds: number; pinning: Pinning; body: Uint8Array },
  ): Promise<WrkLoad> {
    const { body } = options;
    await runConcurrent(EXISTING, 16, (i) => client.send('PUT', existingKey(i), { data: body, length: body.length }));
    // Fails early, with the server's answer, if the server does not take our presigned URLs.
    const check = await fetch(`${url}${await client.presign('GET', existingKey(0), EXPIRES_SECONDS)}`);
    const bytes = (await check.arrayBuffer()).byteLength;
    if (check.status !== 200 || bytes !== body.length) {
      throw new Error(`presigned GET from ${url} answered ${check.status} with ${bytes} bytes`);
    }
    return new WrkLoad(url, client, wrkSeconds(options.seconds), options.pinning, body.length);
  }

  async prepare(op: SmallOp, concurrency: number, round: number): Promise<Measure> {
    if (op === 'put') return this.#preparePuts(concurrency, round);
    const method = op === 'get' ? 'GET' : 'PUT';
    const paths = await this.#sign(method, EXISTING, existingKey);
    if (round === 0) await this.#run(method, paths, concurrency, WARM_SECONDS);
    return async () => {
      const { rate, requests } = await this.#run(method, paths, concurrency, this.#seconds);
      return { rate, ops: requests };
    };
  }

  async #preparePuts(concurrency: number, round: number): Promise<Measure> {
    const prefix = `/${BUCKET}/new/c${concurrency}/r${round}`;
    if (!this.#putRates.has(concurrency)) {
      const paths = await this.#sign('PUT', WARM_PATHS, (i) => `${prefix}/warm/${i}`);
      this.#putRates.set(concurrency, (await this.#run('PUT', paths, concurrency, WARM_SECONDS)).rate);
    }
    // Twice the expected count, since the rate moves with the machine's load.
    const expected = (this.#putRates.get(concurrency) ?? 0) * this.#seconds;
    let paths = await this.#sign('PUT', Math.ceil(expected * 2) + concurrency * 4 + 200, (i) => `${prefix}/a0/${i}`);
    return async () => {
      let ops = 0;
      for (let attempt = 1; ; attempt++) {
        const result = await this.#run('PUT', paths, concurrency, this.#seconds);
        ops += result.requests;
        this.#putRates.set(concurrency, result.rate);
        if (result.issued <= paths.length) return { rate: result.rate, ops };
        if (attempt === 3) throw new Error(`PUT c${concurrency} kept outrunning its ${paths.length} new keys`);
        // The server is idle while this signs, so its CPU per operation is unaffected.
        console.warn(`PUT c${concurrency}: ${result.issued} requests for ${paths.length} keys; again with more`);
        paths = await this.#sign('PUT', result.issued * 2, (i) => `${prefix}/a${attempt}/${i}`);
      }
    };
  }

  async #sign(method: string, count: number, key: (i: number) => string): Promise<string[]> {
    const paths: string[] = [];
    for (let i = 0; i < count; i++) paths.push(await this.#client.presign(method, key(i), EXPIRES_SECONDS));
    return paths;
  }

  #run(method: 'GET' | 'PUT', paths: string[], connections: number, seconds: number): Promise<WrkResult> {
    return runWrk({
      url: this.#url,
      method,
      paths,
      bodyBytes: this.#bodyBytes,
      connections,
      seconds,
      pinning: this.#pinning,
    });
  }
}
