import type { Row, SqlValue } from '@bucketdb/sql';

export const OUTPUT_MODES = ['table', 'json', 'csv'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

export function isOutputMode(s: string): s is OutputMode {
  return (OUTPUT_MODES as readonly string[]).includes(s);
}

function text(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString('hex').toUpperCase()}'`;
  return String(v);
}

function jsonValue(v: SqlValue | undefined): unknown {
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString('hex').toUpperCase()}'`;
  if (typeof v === 'bigint') return v.toString();
  return v ?? null;
}

/** An aligned table with a header rule; numbers right-aligned. */
export function formatTable(columns: string[], rows: Row[]): string {
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const numeric = columns.map(
    (c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || typeof r[c] === 'bigint' || r[c] === null),
  );
  const line = (values: string[], header = false) =>
    values
      .map((v, i) => (numeric[i] && !header ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns, true), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map((row) => line(row))].join(
    '\n',
  );
}

export function formatJson(columns: string[], rows: Row[]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c) => [c, jsonValue(r[c])]))));
}

function csvCell(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  const s = text(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV with a header line. */
export function formatCsv(columns: string[], rows: Row[]): string {
  const head = columns.map((c) => csvCell(c)).join(',');
  return [head, ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n');
}

export function formatRows(mode: OutputMode, columns: string[], rows: Row[]): string {
  if (mode === 'json') return formatJson(columns, rows);
  if (mode === 'csv') return formatCsv(columns, rows);
  return formatTable(columns, rows);
}
