/** Upper bounds (seconds) of the request latency histogram. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Everything recorded about one operation: one map lookup per request finds it all. */
interface OperationStats {
  statuses: Map<number, number>;
  bytesIn: number;
  bytesOut: number;
  latency: Histogram;
}

/** Request counters and a latency histogram, rendered in the Prometheus text format. */
export class Metrics {
  readonly #operations = new Map<string, OperationStats>();

  record(operation: string, status: number, bytesIn: number, bytesOut: number, seconds: number): void {
    let stats = this.#operations.get(operation);
    if (!stats) {
      stats = {
        statuses: new Map(),
        bytesIn: 0,
        bytesOut: 0,
        latency: { counts: BUCKETS.map(() => 0), sum: 0, count: 0 },
      };
      this.#operations.set(operation, stats);
    }
    stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
    stats.bytesIn += bytesIn;
    stats.bytesOut += bytesOut;
    const histogram = stats.latency;
    const counts = histogram.counts;
    for (let i = BUCKETS.length - 1; i >= 0 && seconds <= (BUCKETS[i] ?? 0); i--) counts[i] = (counts[i] ?? 0) + 1;
    histogram.sum += seconds;
    histogram.count++;
  }

  render(): string {
    const lines: string[] = [];
    const operations = [...this.#operations].map(([operation, stats]) => [escapeLabel(operation), stats] as const);
    lines.push('# HELP bucketdb_s3_requests_total S3 requests by operation and HTTP status.');
    lines.push('# TYPE bucketdb_s3_requests_total counter');
    for (const [op, stats] of operations) {
      for (const [status, n] of stats.statuses) {
        lines.push(`bucketdb_s3_requests_total{operation="${op}",status="${status}"} ${n}`);
      }
    }
    for (const [name, field, help] of [
      ['bucketdb_s3_request_bytes_total', 'bytesIn', 'Request body bytes received, by operation.'],
      ['bucketdb_s3_response_bytes_total', 'bytesOut', 'Response body bytes sent, by operation.'],
    ] as const) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [op, stats] of operations) lines.push(`${name}{operation="${op}"} ${stats[field]}`);
    }
    const name = 'bucketdb_s3_request_duration_seconds';
    lines.push(`# HELP ${name} Time from request to the end of the response, by operation.`);
    lines.push(`# TYPE ${name} histogram`);
    for (const [op, { latency: h }] of operations) {
      BUCKETS.forEach((bound, i) => {
        lines.push(`${name}_bucket{operation="${op}",le="${bound}"} ${h.counts[i]}`);
      });
      lines.push(`${name}_bucket{operation="${op}",le="+Inf"} ${h.count}`);
      lines.push(`${name}_sum{operation="${op}"} ${h.sum}`, `${name}_count{operation="${op}"} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
