import type { Migration } from './migrations.js';

/**
 * Migrations for tests: each creates a table and records its own effect in `effects`, so that a
 * migration applied twice shows up as two rows.
 */
export function testMigrations(count: number): Migration[] {
  return Array.from({ length: count }, (_, i) => {
    const version = i + 1;
    return {
      version,
      name: `step ${version}`,
      up:
        version === 1
          ? 'create table effects(migration integer not null, note text); insert into effects values (1, null);'
          : version % 2 === 0
            ? (tx) => {
                tx.exec(`create table t${version}(id integer primary key, v text)`);
                tx.run('insert into effects values (?, ?)', [version, 'function']);
              }
            : `alter table t${version - 1} add column c${version} text; insert into effects values (${version}, 'sql');`,
    };
  });
}
