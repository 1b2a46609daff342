import { S3Error } from '../s3-error.js';

/**
 * One condition of a POST policy. `field` is the form field's name in lower case without the
 * `$` (S3 compares field names case-insensitively); `text` is the condition as written, for the
 * refusal message.
 */
export type PolicyCondition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { kind: 'content-length-range'; min: number; max: number; text: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

const invalid = (message: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);

/** ISO 8601 in UTC, as S3 requires of `expiration` (fractional seconds optional). */
const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes the `policy` form field (base64 of a UTF-8 JSON document with `expiration` and
 * `conditions`) into conditions the form can be checked against. A document S3 would not accept
 * (bad base64 or JSON, a missing or misspelt element, a condition of unknown shape) is
 * InvalidPolicyDocument; whether the form meets it is `checkPostPolicy`'s question.
 */
export function parsePostPolicy(base64: string): PostPolicy {
  const compact = base64.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw invalid('Invalid Base64 Encoding.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('Invalid JSON.');
  const { expiration, conditions, ...rest } = document as Record<string, unknown>;
  // Element names are case-sensitive: `EXPIRATION` is an unknown element, not the expiration.
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw invalid(`Unexpected field '${unknown}'.`);
  if (expiration === undefined) throw invalid('Policy missing expiration.');
  if (typeof expiration !== 'string' || !EXPIRATION.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    throw invalid(`Invalid 'expiration' value: '${String(expiration)}'.`);
  }
  if (conditions === undefined) throw invalid('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalid("Invalid 'conditions' value: must be a list.");
  return { expiration: new Date(expiration), conditions: conditions.flatMap(parseCondition) };
}

function parseCondition(condition: unknown): PolicyCondition[] {
  const text = JSON.stringify(condition);
  if (Array.isArray(condition)) return [parseListCondition(condition, text)];
  if (typeof condition !== 'object' || condition === null) throw invalid(`Invalid condition: ${text}.`);
  // `{"acl": "public-read"}`: an exact match of each named field.
  const entries = Object.entries(condition);
  if (entries.length === 0) throw invalid('Invalid condition: an empty object.');
  return entries.map(([name, value]) => {
    if (typeof value !== 'string') throw invalid(`Invalid condition: ${text}.`);
    return { kind: 'eq' as const, field: name.toLowerCase(), value, text };
  });
}

function parseListCondition(condition: unknown[], text: string): PolicyCondition {
  const [operator, first, second] = condition;
  const op = typeof operator === 'string' ? operator.toLowerCase() : undefined;
  if (op === 'content-length-range') {
    const min = byteCount(first);
    const max = byteCount(second);
    if (condition.length !== 3 || min === undefined || max === undefined || min > max) {
      throw invalid(`Invalid content-length-range condition: ${text}.`);
    }
    return { kind: 'content-length-range', min, max, text };
  }
  if ((op === 'eq' || op === 'starts-with') && condition.length === 3) {
    if (typeof first !== 'string' || !first.startsWith('$') || first.length < 2 || typeof second !== 'string') {
      throw invalid(`Invalid condition: ${text}.`);
    }
    return { kind: op, field: first.slice(1).toLowerCase(), value: second, text };
  }
  throw invalid(`Invalid condition: ${text}.`);
}

/** A content-length-range bound: a non-negative integer, as a JSON number or a string of digits. */
function byteCount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}
