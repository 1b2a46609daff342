import { InvalidRowsError, LakeArgumentError, SchemaMismatchError, UnsupportedFeatureError } from './errors.js';

/** The Delta primitive types this implementation reads and writes (nested types are refused). */
export const PRIMITIVE_TYPES = [
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'binary',
  'date',
  'timestamp',
] as const;
export type DeltaType = (typeof PRIMITIVE_TYPES)[number] | `decimal(${number},${number})`;

export interface Field {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export interface Schema {
  type: 'struct';
  fields: Field[];
}

/** `{ id: 'long', name: 'string' }` (all nullable) or full fields. */
export type SchemaInput = Record<string, string> | readonly (Pick<Field, 'name' | 'type'> & Partial<Field>)[];

const DECIMAL = /^decimal\((\d+),\s*(\d+)\)$/;

function checkType(type: unknown, where: string, userInput = false): DeltaType {
  if (typeof type === 'string') {
    if ((PRIMITIVE_TYPES as readonly string[]).includes(type)) return type as DeltaType;
    const m = DECIMAL.exec(type);
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 38 && Number(m[2]) <= Number(m[1])) {
      return `decimal(${Number(m[1])},${Number(m[2])})`;
    }
  }
  const message = `unsupported column type ${JSON.stringify(type)} for ${where}: supported are ${PRIMITIVE_TYPES.join(', ')} and decimal(p,s)`;
  // A type the caller asked for is their mistake; one found in a table's log is a feature we lack.
  throw userInput ? new LakeArgumentError(message) : new UnsupportedFeatureError(message);
}

export function schemaFrom(input: SchemaInput): Schema {
  type FieldInput = Pick<Field, 'name' | 'type'> & Partial<Field>;
  const list: readonly FieldInput[] = Array.isArray(input)
    ? (input as readonly FieldInput[])
    : Object.entries(input as Record<string, string>).map(([name, type]) => ({ name, type: type as DeltaType }));
  if (list.length === 0) throw new LakeArgumentError('a table needs at least one column');
  const seen = new Set<string>();
  const fields = list.map((f) => {
    if (typeof f.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) {
      throw new LakeArgumentError(`column names are letters, digits and _, got ${JSON.stringify(f.name)}`);
    }
    if (seen.has(f.name.toLowerCase())) throw new LakeArgumentError(`duplicate column ${JSON.stringify(f.name)}`);
    seen.add(f.name.toLowerCase());
    return {
      name: f.name,
      type: checkType(f.type, f.name, true),
      nullable: f.nullable ?? true,
      metadata: f.metadata ?? {},
    };
  });
  return { type: 'struct', fields };
}

/** Parses a metaData action's schemaString. */
export function parseSchemaString(text: string): Schema {
  let parsed: { type?: unknown; fields?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (cause) {
    throw new SchemaMismatchError(`the table's schemaString is not JSON`, { cause });
  }
  if (parsed.type !== 'struct' || !Array.isArray(parsed.fields)) {
    throw new SchemaMismatchError(`the table's schemaString is not a struct`);
  }
  return {
    type: 'struct',
    fields: (parsed.fields as Field[]).map((f) => ({
      name: f.name,
      type: checkType(f.type, `column ${JSON.stringify(f.name)}`),
      nullable: f.nullable !== false,
      metadata: f.metadata ?? {},
    })),
  };
}

export function duckType(type: DeltaType): string {
  switch (type) {
    case 'string':
      return 'VARCHAR';
    case 'long':
      return 'BIGINT';
    case 'integer':
      return 'INTEGER';
    case 'short':
      return 'SMALLINT';
    case 'byte':
      return 'TINYINT';
    case 'float':
      return 'FLOAT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'binary':
      return 'BLOB';
    case 'date':
      return 'DATE';
    case 'timestamp':
      // Delta's timestamp is microseconds adjusted to UTC: DuckDB's TIMESTAMPTZ (session zone UTC).
      return 'TIMESTAMPTZ';
    default:
      return type.toUpperCase();
  }
}

/** Double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Single-quoted SQL string literal. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const INT_RANGE: Partial<Record<DeltaType, [bigint, bigint]>> = {
  byte: [-128n, 127n],
  short: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * One row value as the text DuckDB casts to the column type, checked in JS first so a wrong type
 * names the row and column instead of surfacing as a cast error deep in a load.
 */
export function valueText(field: Field, value: unknown, row: number): string | null {
  const bad = (want: string): never => {
    throw new InvalidRowsError(
      `row ${row}, column ${JSON.stringify(field.name)} (${field.type}): expected ${want}, got ${describe(value)}`,
    );
  };
  if (value === null || value === undefined) {
    if (!field.nullable) bad('a value (the column is not nullable)');
    return null;
  }
  const range = INT_RANGE[field.type];
  if (range) {
    let n: bigint;
    if (typeof value === 'bigint') n = value;
    else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
    else return bad('an integer');
    if (n < range[0] || n > range[1]) bad(`an integer in [${range[0]}, ${range[1]}]`);
    return n.toString();
  }
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? value : bad('a string');
    case 'float':
    case 'double':
      return typeof value === 'number' ? String(value) : bad('a number');
    case 'boolean':
      return typeof value === 'boolean' ? String(value) : bad('a boolean');
    case 'binary':
      return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : bad('a Uint8Array');
    case 'date':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : bad('a Date or YYYY-MM-DD');
    case 'timestamp':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : bad('a Date or ISO timestamp');
    default:
      // decimal
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? value : bad('a decimal number or string');
  }
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Date) return 'a Date';
  const text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  return `${typeof value} ${text === undefined ? '' : text.slice(0, 40)}`;
}
