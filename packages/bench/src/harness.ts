import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { mapConcurrent } from '@bucketdb/store';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  return {
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString().slice(0, 10),
  };
}

/** The p-th percentile (0..100) of samples, by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A Markdown table; numbers are shown with up to `digits` significant decimals. */
export function formatTable(rows: readonly Record<string, string | number>[], digits = 3): string {
  const first = rows[0];
  if (!first) return '';
  const columns = Object.keys(first);
  const show = (v: string | number | undefined) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Number(v.toPrecision(digits)).toString()) : (v ?? '');
  const lines = [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => show(row[c])).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function machineMarkdown(info: MachineInfo = machineInfo()): string {
  return `Machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, ${info.os}, Node ${info.node}. Date: ${info.date}.`;
}

const reportsDir = fileURLToPath(new URL('../../../docs/benchmarks/', import.meta.url));

/** Writes `docs/benchmarks/<name>.md`, headed by the machine and date, and returns its path. */
export async function writeReport(name: string, title: string, body: string): Promise<string> {
  await mkdir(reportsDir, { recursive: true });
  const path = `${reportsDir}${name}.md`;
  await writeFile(path, `# ${title}\n\n${machineMarkdown()}\n\n${body.trim()}\n`);
  return path;
}

/** Runs `task` `count` times with at most `concurrency` in flight; returns each latency in ms. */
export async function runConcurrent(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<{ latenciesMs: number[]; elapsedMs: number }> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  await mapConcurrent(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const t0 = performance.now();
      await task(i);
      latenciesMs.push(performance.now() - t0);
    },
  );
  return { latenciesMs, elapsedMs: performance.now() - started };
}
