import { type AddFile, parseStats } from './actions.js';
import type { DeltaType, Schema } from './schema.js';

/**
 * Data skipping. Conjuncts of a SELECT's WHERE clause of the form `column op constant` (=, <, <=,
 * >, >=, <>, BETWEEN, IN) are read from DuckDB's own parse tree (json_serialize_sql), attributed
 * to the table they name, and tested against each file's partition values and min/max statistics.
 * Anything else is ignored, so skipping only ever errs on the side of reading a file.
 */
export type Op = '=' | '<' | '<=' | '>' | '>=' | '!=' | 'in';

export interface Conjunct {
  qualifier?: string;
  column: string;
  op: Op;
  values: Constant[];
}

export interface Constant {
  /** DuckDB's type id of the constant (after an explicit CAST, the cast's type). */
  type: string;
  value: unknown;
}

/** One appearance of a table name in a FROM clause, with the conjuncts that restrict it. */
export interface TableRef {
  name: string;
  conjuncts: Conjunct[];
}

type Node = Record<string, unknown>;

const OPS: Record<string, Op> = {
  COMPARE_EQUAL: '=',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_NOTEQUAL: '!=',
};
const FLIP: Record<Op, Op> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=', '!=': '!=', in: 'in' };

/** Every base-table name the statements mention (CTE names excluded). */
export function tableNames(ast: unknown): Set<string> {
  const names = new Set<string>();
  const ctes = new Set<string>();
  walk(ast, (n) => {
    if (n['type'] === 'BASE_TABLE' && typeof n['table_name'] === 'string' && n['schema_name'] === '') {
      names.add(n['table_name']);
    }
    const map = (n['cte_map'] as { map?: { key: string }[] } | undefined)?.map;
    if (Array.isArray(map)) for (const e of map) ctes.add(e.key);
  });
  for (const c of ctes) names.delete(c);
  return names;
}

/**
 * Every appearance of a base table, each with the conjuncts of its SELECT that apply to it.
 * `columnsOf` gives a table's columns (undefined for names that are not lake tables).
 */
export function tableRefs(ast: unknown, columnsOf: (name: string) => Set<string> | undefined): TableRef[] {
  const refs: TableRef[] = [];
  const attributed = new Set<Node>();
  walk(ast, (n) => {
    if (n['type'] !== 'SELECT_NODE') return;
    const bases: { node: Node; name: string; alias: string }[] = [];
    let opaque = false;
    const from = (t: unknown) => {
      if (typeof t !== 'object' || t === null) return;
      const node = t as Node;
      if (node['type'] === 'BASE_TABLE') {
        bases.push({ node, name: String(node['table_name']), alias: String(node['alias'] ?? '') });
      } else if (node['type'] === 'JOIN') {
        from(node['left']);
        from(node['right']);
      } else if (node['type'] !== 'EMPTY') opaque = true;
    };
    from(n['from_table']);
    const conjuncts = splitAnd(n['where_clause']).flatMap(toConjuncts);
    for (const base of bases) {
      attributed.add(base.node);
      const mine = conjuncts.filter((c) => {
        if (c.qualifier !== undefined) return c.qualifier === (base.alias || base.name);
        // An unqualified column belongs to this table only if no other source could have it.
        if (opaque) return false;
        const owners = bases.filter((b) => columnsOf(b.name)?.has(c.column) ?? true);
        return owners.length === 1 && owners[0] === base;
      });
      refs.push({ name: base.name, conjuncts: mine });
    }
  });
  walk(ast, (n) => {
    if (n['type'] === 'BASE_TABLE' && !attributed.has(n)) refs.push({ name: String(n['table_name']), conjuncts: [] });
  });
  return refs;
}

function walk(value: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit);
  } else if (typeof value === 'object' && value !== null) {
    visit(value as Node);
    for (const v of Object.values(value)) walk(v, visit);
  }
}

function splitAnd(e: unknown): Node[] {
  if (typeof e !== 'object' || e === null) return [];
  const n = e as Node;
  if (n['type'] === 'CONJUNCTION_AND') return (n['children'] as unknown[]).flatMap(splitAnd);
  return [n];
}

function columnOf(e: unknown): { qualifier?: string; column: string } | undefined {
  const n = e as Node;
  if (n?.['class'] !== 'COLUMN_REF') return undefined;
  const names = n['column_names'] as string[];
  if (names.length === 1) return { column: names[0] as string };
  if (names.length === 2) return { qualifier: names[0] as string, column: names[1] as string };
  return undefined;
}

function constantOf(e: unknown): Constant | undefined {
  const n = e as Node;
  if (n?.['class'] === 'CONSTANT') {
    const v = n['value'] as { type: { id: string; type_info?: { scale?: number } }; is_null: boolean; value: unknown };
    if (v.is_null) return undefined;
    if (v.type.id === 'DECIMAL' && typeof v.value === 'number') {
      return { type: 'DOUBLE', value: v.value / 10 ** (v.type.type_info?.scale ?? 0) };
    }
    return { type: v.type.id, value: v.value };
  }
  if (n?.['class'] === 'CAST' && n['try_cast'] === false) {
    const inner = constantOf(n['child']);
    if (inner === undefined) return undefined;
    return { type: (n['cast_type'] as { id: string }).id, value: inner.value };
  }
  return undefined;
}

function toConjuncts(n: Node): Conjunct[] {
  const op = OPS[String(n['type'])];
  if (op !== undefined) {
    let col = columnOf(n['left']);
    let k = constantOf(n['right']);
    let o = op;
    if (col === undefined) {
      col = columnOf(n['right']);
      k = constantOf(n['left']);
      o = FLIP[op];
    }
    return col && k ? [{ ...col, op: o, values: [k] }] : [];
  }
  if (n['type'] === 'COMPARE_BETWEEN') {
    const col = columnOf(n['input']);
    const lo = constantOf(n['lower']);
    const hi = constantOf(n['upper']);
    if (!col) return [];
    return [
      ...(lo ? [{ ...col, op: '>=' as Op, values: [lo] }] : []),
      ...(hi ? [{ ...col, op: '<=' as Op, values: [hi] }] : []),
    ];
  }
  if (n['type'] === 'COMPARE_IN') {
    const [first, ...rest] = n['children'] as unknown[];
    const col = columnOf(first);
    const values = rest.map(constantOf);
    if (!col || values.some((v) => v === undefined)) return [];
    return [{ ...col, op: 'in', values: values as Constant[] }];
  }
  return [];
}

type Comparable = number | string;

const NUMERIC: readonly string[] = ['long', 'integer', 'short', 'byte', 'float', 'double'];
const INT_IDS = [
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'FLOAT',
  'DOUBLE',
];

/** A stats or partition value in a form that orders like the column's values, or undefined. */
function fromStored(type: DeltaType, v: unknown): Comparable | undefined {
  if (v === null || v === undefined) return undefined;
  if (NUMERIC.includes(type) || type.startsWith('decimal')) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER ? n : undefined;
  }
  if (type === 'string') return typeof v === 'string' ? v : undefined;
  if (type === 'date') return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
  if (type === 'timestamp') return typeof v === 'string' ? timestampMs(v) : undefined;
  return undefined;
}

function fromConstant(type: DeltaType, k: Constant): Comparable | undefined {
  if (NUMERIC.includes(type) || type.startsWith('decimal')) {
    return INT_IDS.includes(k.type) ? fromStored(type, k.value) : undefined;
  }
  if (type === 'string') return k.type === 'VARCHAR' && typeof k.value === 'string' ? k.value : undefined;
  if (type === 'date') return ['VARCHAR', 'DATE'].includes(k.type) ? fromStored(type, k.value) : undefined;
  if (type === 'timestamp') {
    return ['VARCHAR', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_TZ'].includes(k.type) &&
      typeof k.value === 'string'
      ? timestampMs(k.value)
      : undefined;
  }
  return undefined;
}

function timestampMs(text: string): number | undefined {
  let t = text.trim().replace(' ', 'T');
  if (!/(Z|[+-]\d{2}(:?\d{2})?)$/.test(t)) t += 'Z';
  t = t.replace(/([+-]\d{2})$/, '$1:00');
  // Sub-millisecond digits are cut: widen comparisons by a millisecond rather than trust them.
  const ms = Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms;
}

function cmp(a: Comparable, b: Comparable): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

export type SkipReason = 'partition' | 'stats';

/** Whether a file may hold rows satisfying every conjunct; if not, which evidence excluded it. */
export function skipFile(
  add: AddFile,
  schema: Schema,
  partitionColumns: readonly string[],
  conjuncts: readonly Conjunct[],
): SkipReason | undefined {
  const stats = parseStats(add);
  for (const c of conjuncts) {
    const field = schema.fields.find((f) => f.name.toLowerCase() === c.column.toLowerCase());
    if (field === undefined) continue;
    const ks = c.values.map((k) => fromConstant(field.type, k));
    if (ks.some((k) => k === undefined)) continue;
    const keys = ks as Comparable[];
    // Timestamps were cut to milliseconds: compare with a millisecond of slack.
    const slack = field.type === 'timestamp' ? 1 : 0;
    if (partitionColumns.includes(field.name)) {
      const raw = add.partitionValues[field.name];
      if (raw === null || raw === undefined || raw === '') return 'partition'; // NULL never satisfies a comparison
      const v = fromStored(field.type, raw);
      if (v !== undefined && !rangeMayMatch(v, v, c.op, keys, 0)) return 'partition';
      continue;
    }
    if (stats === undefined) continue;
    const n = stats.numRecords;
    if (n === 0 || (Number.isFinite(n) && stats.nullCount[field.name] === n)) return 'stats';
    const lo = fromStored(field.type, stats.minValues[field.name]);
    const hi = fromStored(field.type, stats.maxValues[field.name]);
    if (lo === undefined || hi === undefined) {
      // One bound still excludes for one-sided comparisons.
      if (lo !== undefined && (c.op === '<' || c.op === '<=') && !rangeMayMatch(lo, lo, c.op, keys, slack))
        return 'stats';
      if (hi !== undefined && (c.op === '>' || c.op === '>=') && !rangeMayMatch(hi, hi, c.op, keys, slack))
        return 'stats';
      continue;
    }
    if (!rangeMayMatch(lo, hi, c.op, keys, slack)) return 'stats';
  }
  return undefined;
}

function rangeMayMatch(lo: Comparable, hi: Comparable, op: Op, keys: Comparable[], slack: number): boolean {
  const le = (a: Comparable, b: Comparable) => cmp(a, b) <= slack;
  const lt = (a: Comparable, b: Comparable) => cmp(a, b) < slack || (slack > 0 && cmp(a, b) <= slack);
  const k = keys[0] as Comparable;
  switch (op) {
    case '=':
      return le(lo, k) && le(k, hi);
    case 'in':
      return keys.some((key) => le(lo, key) && le(key, hi));
    case '<':
      return lt(lo, k);
    case '<=':
      return le(lo, k);
    case '>':
      return lt(k, hi);
    case '>=':
      return le(k, hi);
    case '!=':
      return slack > 0 || cmp(lo, hi) !== 0 || cmp(lo, k) !== 0;
  }
}
