import { writeFile } from 'node:fs/promises';
import { MemoryStore } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Float64,
  Int64,
  List,
  Field as ArrowField,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  TimestampMicrosecond,
  TimestampNanosecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { Lake } from './index.js';

const SCHEMA = {
  id: 'long',
  name: 'string',
  score: 'double',
  ok: 'boolean',
  day: 'date',
  ts: 'timestamp',
  raw: 'binary',
  price: 'decimal(9,2)',
};

function sample(): Table {
  // 2026-01-02T03:04:05.006007Z in microseconds: below Arrow JS's millisecond `get`.
  const micros = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 6)) * 1000n + 7n;
  return new Table({
    id: vectorFromArray([1n, 2n, null], new Int64()),
    name: vectorFromArray(['a', null, 'c'], new Utf8()),
    score: vectorFromArray([1.5, -2, null], new Float64()),
    ok: vectorFromArray([true, false, null], new Bool()),
    day: vectorFromArray([new Date(Date.UTC(2026, 0, 2)), null, new Date(Date.UTC(1969, 11, 31))], new DateDay()),
    ts: makeVector(
      makeData({
        type: new TimestampMicrosecond(),
        length: 3,
        nullCount: 1,
        nullBitmap: new Uint8Array([0b101]),
        data: BigInt64Array.from([micros, 0n, -1n]),
      }),
    ),
    raw: vectorFromArray([new Uint8Array([0, 255]), null, new Uint8Array([])], new Binary()),
    // Unscaled 12345 and -5 at scale 2, little-endian 128-bit words.
    price: makeVector(
      makeData({
        type: new Decimal(2, 9, 128),
        length: 3,
        nullCount: 1,
        nullBitmap: new Uint8Array([0b011]),
        data: new Uint32Array([12345, 0, 0, 0, 0xfffffffb, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 0]),
      }),
    ),
  });
}

const EXPECTED = [
  {
    id: '1',
    name: 'a',
    score: 1.5,
    ok: true,
    day: '2026-01-02',
    ts: '2026-01-02T03:04:05.006007Z',
    raw: 'AP8=',
    price: '123.45',
  },
  { id: '2', name: null, score: -2, ok: false, day: null, ts: null, raw: null, price: '-0.05' },
  {
    id: null,
    name: 'c',
    score: null,
    ok: null,
    day: '1969-12-31',
    ts: '1969-12-31T23:59:59.999999Z',
    raw: '',
    price: null,
  },
];

const SELECT = `SELECT id, name, score, ok, CAST(day AS VARCHAR) AS day,
  strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts, to_base64(raw) AS raw, CAST(price AS VARCHAR) AS price
  FROM t ORDER BY id NULLS LAST`;

describe('Arrow input', () => {
  it('appends an Arrow JS Table, an IPC stream, an IPC file and an .arrow file with exact values', async () => {
    await using dir = await tempDir('lake-arrow');
    const lake = await Lake.open({ store: new MemoryStore('arrow') });
    try {
      const t = await lake.createTable('t', { schema: SCHEMA });
      expect(await t.append({ arrow: sample() })).toMatchObject({ version: 1, rows: 3 });
      expect((await lake.query(SELECT)).rows).toEqual(EXPECTED);
      await t.overwrite({ arrow: tableToIPC(sample(), 'stream') });
      expect((await lake.query(SELECT)).rows).toEqual(EXPECTED);
      await t.overwrite({ arrow: tableToIPC(sample(), 'file').buffer as ArrayBuffer });
      expect((await lake.query(SELECT)).rows).toEqual(EXPECTED);
      await writeFile(`${dir.path}/s.arrow`, tableToIPC(sample(), 'file'));
      await t.overwrite({ files: [`${dir.path}/s.arrow`, `${dir.path}/s.arrow`] });
      expect((await lake.query('SELECT count(*) AS n FROM t')).rows).toEqual([{ n: '6' }]);
      // Nanoseconds are cut to the microseconds Delta keeps; columns match by name, in any order.
      await t.overwrite({
        arrow: new Table({
          ts: makeVector(
            makeData({ type: new TimestampNanosecond(), length: 1, nullCount: 0, data: BigInt64Array.from([1_999n]) }),
          ),
          id: vectorFromArray([9n], new Int64()),
        }),
      });
      expect((await lake.query(`SELECT id, strftime(ts, '%S.%f') AS s, name FROM t`)).rows).toEqual([
        { id: '9', s: '00.000001', name: null },
      ]);
    } finally {
      await lake.close();
    }
  }, 120_000);

  it('refuses corrupt IPC, extra columns, unsupported Arrow types and values that do not cast; nothing commits', async () => {
    const lake = await Lake.open({ store: new MemoryStore('arrow-bad') });
    try {
      const t = await lake.createTable('t', { schema: { id: 'long', name: 'string' } });
      const cases: [unknown, string][] = [
        [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'InvalidData'],
        [{ not: 'a table' }, 'InvalidData'],
        [
          new Table({ id: vectorFromArray([1n], new Int64()), extra: vectorFromArray(['x'], new Utf8()) }),
          'SchemaMismatch',
        ],
        [
          new Table({
            id: vectorFromArray([[1n]], new List(new ArrowField('item', new Int64(), true))),
          }),
          'SchemaMismatch',
        ],
        [new Table({ id: vectorFromArray(['seven'], new Utf8()) }), 'SchemaMismatch'],
      ];
      for (const [arrow, code] of cases) {
        await expect(t.append({ arrow } as never), code).rejects.toMatchObject({ code });
      }
      expect((await t.snapshot()).version).toBe(0);
    } finally {
      await lake.close();
    }
  }, 120_000);
});
