import { loadSqlite } from './sqlite.js';

/**
 * Finds where SQL statements end, by SQLite's own rules (`sqlite3_complete`: a `;` that is not
 * inside a string, comment or trigger body). Shells use it for multi-line input and scripts.
 */
export class StatementSplitter {
  readonly #complete: (sql: string) => boolean;

  private constructor(complete: (sql: string) => boolean) {
    this.#complete = complete;
  }

  static async load(): Promise<StatementSplitter> {
    const { capi } = await loadSqlite();
    return new StatementSplitter((sql) => capi.sqlite3_complete(sql) !== 0);
  }

  /** Whether `sql` ends with a complete statement. */
  isComplete(sql: string): boolean {
    return this.#complete(sql);
  }

  /** The complete statements at the start of `text` (trimmed, each ending in `;`) and the rest. */
  split(text: string): { statements: string[]; rest: string } {
    const statements: string[] = [];
    let start = 0;
    for (let i = text.indexOf(';'); i !== -1; i = text.indexOf(';', i + 1)) {
      const candidate = text.slice(start, i + 1);
      if (!this.#complete(candidate)) continue;
      if (candidate.replace(/;\s*$/, '').trim() !== '') statements.push(candidate.trim());
      start = i + 1;
    }
    return { statements, rest: text.slice(start) };
  }
}
