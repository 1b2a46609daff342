import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Data, type DataType, type Table, tableFromIPC, Type, type Vector } from 'apache-arrow';
import { InvalidDataError, SchemaMismatchError } from './errors.js';
import { ident, literal } from './schema.js';

/** Arrow data to append: an Arrow IPC buffer (stream or file format) or an Apache Arrow JS `Table`. */
export type ArrowInput = Uint8Array | ArrayBuffer | Table;

/** One Arrow column as text DuckDB casts from, and the DuckDB type it holds. */
interface ColumnText {
  duckType: string;
  text: (row: number) => string | null;
}

/**
 * Arrow data as a SQL source for the staging table. DuckDB's core has no Arrow IPC reader (that
 * is an extension, and extensions are not downloaded), so the columns go over as typed text in a
 * temporary JSON file: each Arrow type becomes its DuckDB type, then the usual by-name cast to the
 * table's schema applies, as for Parquet and CSV files. `dispose` removes the file.
 */
export async function arrowSource(
  input: ArrowInput,
  workDir: string,
  what = 'Arrow data',
): Promise<{ sql: string; dispose: () => Promise<void> }> {
  const table = arrowTable(input, what);
  const names = table.schema.fields.map((f) => f.name);
  if (names.length === 0) throw new InvalidDataError(`${what} has no columns`);
  const columns = table.schema.fields.map((f, i) => columnText(table.getChildAt(i) as Vector, f.type, f.name, what));
  const typed = (n: string, c: number) => (columns[c] as ColumnText).duckType;
  if (table.numRows === 0) {
    const cols = names.map((n, c) => `CAST(NULL AS ${typed(n, c)}) AS ${ident(n)}`);
    return { sql: `SELECT ${cols.join(', ')} WHERE false`, dispose: async () => undefined };
  }
  const file = join(workDir, `arrow-${randomUUID()}.json`);
  const dispose = () => rm(file, { force: true });
  const out = await open(file, 'w');
  try {
    // In slices, so a large table never becomes one string.
    for (let start = 0; start < table.numRows; start += 10_000) {
      const lines: string[] = [];
      for (let r = start; r < Math.min(table.numRows, start + 10_000); r++) {
        const row: Record<string, string | null> = {};
        names.forEach((n, c) => (row[n] = (columns[c] as ColumnText).text(r)));
        lines.push(JSON.stringify(row));
      }
      await out.write(lines.join('\n') + '\n');
    }
  } catch (e) {
    await out.close();
    await dispose();
    throw e;
  }
  await out.close();
  const spec = names.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ');
  const select = names.map((n, c) => {
    const type = typed(n, c);
    return `${type === 'BLOB' ? `from_base64(${ident(n)})` : `CAST(${ident(n)} AS ${type})`} AS ${ident(n)}`;
  });
  return {
    sql: `SELECT ${select.join(', ')} FROM read_json(${literal(file)}, format = 'newline_delimited', columns = {${spec}})`,
    dispose,
  };
}

function arrowTable(input: ArrowInput, what: string): Table {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
    try {
      return tableFromIPC(bytes);
    } catch (cause) {
      throw new InvalidDataError(`${what} is not Arrow IPC data: ${(cause as Error).message}`, { cause });
    }
  }
  // A Table of any copy of apache-arrow (instanceof would tie callers to ours).
  const t = input as Partial<Table> | null;
  if (typeof t !== 'object' || t === null || typeof t.getChildAt !== 'function' || !Array.isArray(t.schema?.fields)) {
    throw new InvalidDataError(`${what}: expected an Arrow IPC buffer or an Apache Arrow Table`);
  }
  return input as Table;
}

const TIME_UNIT_TO_MICROS = [1_000_000n, 1_000n, 1n];

function columnText(vector: Vector, type: DataType, name: string, what: string): ColumnText {
  const get = (row: number): unknown => vector.get(row);
  const plain = (duckType: string, format: (v: unknown) => string): ColumnText => ({
    duckType,
    text: (row) => {
      const v = get(row);
      return v === null || v === undefined ? null : format(v);
    },
  });
  switch (type.typeId) {
    case Type.Null:
      return { duckType: 'VARCHAR', text: () => null };
    case Type.Int: {
      const t = type as DataType & { isSigned: boolean; bitWidth: number };
      return plain(
        t.isSigned ? (t.bitWidth > 32 ? 'BIGINT' : 'INTEGER') : t.bitWidth > 32 ? 'UBIGINT' : 'BIGINT',
        String,
      );
    }
    case Type.Float:
      return plain('DOUBLE', String);
    case Type.Bool:
      return plain('BOOLEAN', String);
    case Type.Utf8:
    case Type.LargeUtf8:
      return plain('VARCHAR', String);
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      return plain('BLOB', (v) => Buffer.from(v as Uint8Array).toString('base64'));
    case Type.Date:
      return plain('DATE', (v) => new Date(v as number | Date).toISOString().slice(0, 10));
    case Type.Decimal: {
      const scale = (type as DataType & { scale: number }).scale;
      const precision = (type as DataType & { precision: number }).precision;
      return plain(`DECIMAL(${Math.min(38, precision)}, ${scale})`, (v) => scaled(String(v), scale));
    }
    case Type.Timestamp:
      return timestampText(vector, (type as DataType & { unit: number }).unit);
    case Type.Dictionary: {
      const dict = (type as DataType & { dictionary: DataType }).dictionary;
      if (dict.typeId !== Type.Utf8 && dict.typeId !== Type.LargeUtf8) break;
      return plain('VARCHAR', String);
    }
  }
  throw new SchemaMismatchError(
    `${what}: column ${JSON.stringify(name)} has Arrow type ${String(type)}, which lake tables do not hold`,
  );
}

/** `12345` with scale 2 → `123.45` (Arrow JS gives a decimal's unscaled integer). */
function scaled(unscaled: string, scale: number): string {
  if (scale <= 0) return unscaled;
  const negative = unscaled.startsWith('-');
  const digits = (negative ? unscaled.slice(1) : unscaled).padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * Timestamps from the raw 64-bit values (Arrow JS's `get` rounds them to milliseconds), to the
 * microsecond Delta keeps; nanoseconds are truncated toward the past.
 */
function timestampText(vector: Vector, unit: number): ColumnText {
  const texts: (string | null)[] = [];
  for (const chunk of vector.data as Data[]) {
    const values = chunk.values as BigInt64Array;
    for (let j = 0; j < chunk.length; j++) {
      if (!chunk.getValid(j)) {
        texts.push(null);
        continue;
      }
      const raw = values[j] as bigint;
      const micros = unit === 3 ? floorDiv(raw, 1000n) : raw * (TIME_UNIT_TO_MICROS[unit] ?? 1n);
      const ms = floorDiv(micros, 1000n);
      const rest = micros - ms * 1000n;
      texts.push(`${new Date(Number(ms)).toISOString().slice(0, -1)}${String(rest).padStart(3, '0')}Z`);
    }
  }
  return { duckType: 'TIMESTAMPTZ', text: (row) => texts[row] ?? null };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
