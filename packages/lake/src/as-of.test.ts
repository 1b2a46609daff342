import { MemoryStore } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { Lake, rewriteAsOf, tokenizeSql } from './index.js';

describe('AS OF rewriting', () => {
  it('rewrites table references, bare or quoted, whatever the spacing, comments and case', () => {
    expect(rewriteAsOf('SELECT * FROM t VERSION AS OF 3')).toBe('SELECT * FROM "t@v3"');
    expect(rewriteAsOf('select * from "a/b" version\n as /* c */ of 12 where x = 1')).toBe(
      'select * from "a/b@v12" where x = 1',
    );
    expect(rewriteAsOf(`FROM t TIMESTAMP AS OF '2026-01-01T00:00:00Z' JOIN u VERSION AS OF 0 ON true`)).toBe(
      `FROM "t@t${Date.parse('2026-01-01T00:00:00Z')}" JOIN "u@v0" ON true`,
    );
  });

  it('leaves string literals, quoted identifiers and comments alone', () => {
    for (const sql of [
      `SELECT 'x VERSION AS OF 3' FROM t`,
      `SELECT 'it''s t VERSION AS OF 3' AS s`,
      `SELECT E'\\' t VERSION AS OF 3' AS s`,
      `SELECT $$t VERSION AS OF 3$$, $q$ t TIMESTAMP AS OF '2026-01-01' $q$`,
      `SELECT 1 AS "t VERSION AS OF 3"`,
      `SELECT 1 -- FROM t VERSION AS OF 3\nFROM t`,
      `SELECT 1 /* outer /* nested */ t VERSION AS OF 3 */ FROM t`,
    ]) {
      expect(rewriteAsOf(sql), sql).toBe(sql);
    }
    // A real reference right after a string that looks like one is still rewritten.
    expect(rewriteAsOf(`SELECT 'u VERSION AS OF 1' AS s FROM t VERSION AS OF 2`)).toBe(
      `SELECT 'u VERSION AS OF 1' AS s FROM "t@v2"`,
    );
  });

  it('refuses what cannot be a version or a timestamp', () => {
    expect(() => rewriteAsOf(`FROM t VERSION AS OF 'x'`)).toThrow(/version number/);
    expect(() => rewriteAsOf(`FROM t TIMESTAMP AS OF 5`)).toThrow(/quoted timestamp/);
    expect(() => rewriteAsOf(`FROM t TIMESTAMP AS OF 'yesterday'`)).toThrow(/as a timestamp/);
  });

  it('tokens cover the text exactly', () => {
    const sql = `SELECT "a""b", 'c''d' -- e\n/* f */ FROM t$1 WHERE x >= 1.5e3`;
    const tokens = tokenizeSql(sql);
    expect(tokens.map((t) => sql.slice(t.start, t.end)).join('')).toBe(sql);
    expect(
      tokens.filter((t) => t.kind === 'quoted' || t.kind === 'string').map((t) => sql.slice(t.start, t.end)),
    ).toEqual(['"a""b"', "'c''d'"]);
  });

  it('a query whose string literal spells AS OF returns the literal unchanged', async () => {
    const lake = await Lake.open({ store: new MemoryStore('as-of') });
    try {
      const t = await lake.createTable('t', { schema: { id: 'long' } });
      await t.append([{ id: 1 }]);
      await t.append([{ id: 2 }]);
      const { rows } = await lake.query(
        `SELECT 't VERSION AS OF 1' AS s, count(*) AS n FROM t VERSION AS OF 1 -- t VERSION AS OF 2`,
      );
      expect(rows).toEqual([{ s: 't VERSION AS OF 1', n: '1' }]);
    } finally {
      await lake.close();
    }
  });
});
