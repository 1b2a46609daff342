/** Upper bounds (seconds) of the request latency histogram. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Request counters and a latency histogram, rendered in the Prometheus text format. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #bytesIn = new Map<string, number>();
  readonly #bytesOut = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();

  record(operation: string, status: number, bytesIn: number, bytesOut: number, seconds: number): void {
    const key = `${operation}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    this.#bytesIn.set(operation, (this.#bytesIn.get(operation) ?? 0) + bytesIn);
    this.#bytesOut.set(operation, (this.#bytesOut.get(operation) ?? 0) + bytesOut);
    let histogram = this.#latency.get(operation);
    if (!histogram) {
      histogram = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(operation, histogram);
    }
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) histogram.counts[i] = (histogram.counts[i] ?? 0) + 1;
    });
    histogram.sum += seconds;
    histogram.count++;
  }

  render(): string {
    const lines: string[] = [];
    lines.push('# HELP bucketdb_s3_requests_total S3 requests by operation and HTTP status.');
    lines.push('# TYPE bucketdb_s3_requests_total counter');
    for (const [key, n] of this.#requests) {
      const [operation = '', status = ''] = key.split('\u0000');
      lines.push(`bucketdb_s3_requests_total{operation="${escapeLabel(operation)}",status="${status}"} ${n}`);
    }
    for (const [name, map, help] of [
      ['bucketdb_s3_request_bytes_total', this.#bytesIn, 'Request body bytes received, by operation.'],
      ['bucketdb_s3_response_bytes_total', this.#bytesOut, 'Response body bytes sent, by operation.'],
    ] as const) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [operation, n] of map) lines.push(`${name}{operation="${escapeLabel(operation)}"} ${n}`);
    }
    const name = 'bucketdb_s3_request_duration_seconds';
    lines.push(`# HELP ${name} Time from request to the end of the response, by operation.`);
    lines.push(`# TYPE ${name} histogram`);
    for (const [operation, h] of this.#latency) {
      const op = escapeLabel(operation);
      BUCKETS.forEach((bound, i) => {
        lines.push(`${name}_bucket{operation="${op}",le="${bound}"} ${h.counts[i]}`);
      });
      lines.push(`${name}_bucket{operation="${op}",le="+Inf"} ${h.count}`);
      lines.push(`${name}_sum{operation="${op}"} ${h.sum}`, `${name}_count{operation="${op}"} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
