import { QueryFailedError } from './errors.js';
import { ident } from './schema.js';

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'space' | 'comment' | 'other';

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

/**
 * Splits SQL into tokens the way DuckDB's (PostgreSQL-derived) scanner does for the parts that
 * matter here: 'strings' (with '' escapes, E'…' with backslash escapes), $tag$ dollar-quoted
 * strings $tag$, "identifiers" (with "" escapes), -- line and nestable /* block *\/ comments,
 * words and numbers. Everything else is one-character punctuation. An unterminated string,
 * identifier or comment runs to the end, as DuckDB would then refuse the statement anyway.
 */
export function tokenizeSql(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number) => tokens.push({ kind, start, end: i });
  while (i < sql.length) {
    const start = i;
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i] as string)) i++;
      push('space', start);
    } else if (c === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      push('comment', start);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      while (i < sql.length) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      push('comment', start);
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'")) {
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      while (i < sql.length) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") {
          i++;
          break;
        } else i++;
      }
      push('string', start);
    } else if (c === '"') {
      i++;
      while (i < sql.length) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') {
          i++;
          break;
        } else i++;
      }
      push('quoted', start);
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i))) {
      const tag = (/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i)) as RegExpExecArray)[0];
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? sql.length : close + tag.length;
      push('string', start);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i] as string)) i++;
      push('word', start);
    } else if (/[0-9]/.test(c)) {
      while (i < sql.length && /[0-9._eE]/.test(sql[i] as string)) i++;
      push('number', start);
    } else {
      i++;
      push('other', start);
    }
  }
  return tokens;
}

/**
 * `FROM t VERSION AS OF 3` / `FROM t TIMESTAMP AS OF '2026-01-01T00:00:00Z'` → a per-version view
 * name (`"t@v3"`, `"t@t<ms>"`). Only whole tokens outside strings, quoted identifiers and comments
 * are rewritten: `'t VERSION AS OF 3'` as a string literal stays what it is.
 */
export function rewriteAsOf(sql: string): string {
  const tokens = tokenizeSql(sql);
  const significant = tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const text = (t: Token | undefined) => (t === undefined ? '' : sql.slice(t.start, t.end));
  const word = (t: Token | undefined, w: string) => t?.kind === 'word' && text(t).toUpperCase() === w;
  const edits: { start: number; end: number; replacement: string }[] = [];
  for (let i = 0; i + 4 < significant.length; i++) {
    const [name, kind, as, of, at] = significant.slice(i, i + 5) as [Token, Token, Token, Token, Token];
    if (name.kind !== 'word' && name.kind !== 'quoted') continue;
    const version = word(kind, 'VERSION');
    if (!(version || word(kind, 'TIMESTAMP')) || !word(as, 'AS') || !word(of, 'OF')) continue;
    const bare = name.kind === 'quoted' ? text(name).slice(1, -1).replace(/""/g, '"') : text(name);
    let replacement: string;
    if (version) {
      if (at.kind !== 'number' || !/^\d+$/.test(text(at))) {
        throw new QueryFailedError(`VERSION AS OF takes a version number, got ${text(at)}`);
      }
      replacement = ident(`${bare}@v${text(at)}`);
    } else {
      if (at.kind !== 'string' || !text(at).startsWith("'")) {
        throw new QueryFailedError(`TIMESTAMP AS OF takes a quoted timestamp, got ${text(at)}`);
      }
      const ms = Date.parse(text(at).slice(1, -1).replace(/''/g, "'"));
      if (Number.isNaN(ms)) throw new QueryFailedError(`cannot read ${text(at)} as a timestamp in TIMESTAMP AS OF`);
      replacement = ident(`${bare}@t${ms}`);
    }
    edits.push({ start: name.start, end: at.end, replacement });
    i += 4;
  }
  let out = sql;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.replacement + out.slice(e.end);
  return out;
}
