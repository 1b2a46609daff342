import { S3Error } from '../s3-error.js';
import type { PolicyCondition, PostPolicy } from './post-policy.js';

/** The file sizes a policy allows, from its `content-length-range` conditions. */
export interface SizeRange {
  min: number;
  max: number;
}

/** Fields a policy need not mention, as S3 lists them (besides every `x-ignore-*`). */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'file', 'awsaccesskeyid', 'signature']);

const refused = (reason: string) => new S3Error('AccessDenied', `Invalid according to Policy: ${reason}`);

/**
 * Checks a form against its policy as S3 does: the policy has not expired, every condition holds
 * (a field the form lacks counts as empty), and every field the form sends is named by some
 * condition. `fields` has lower-case names, with `bucket` the request's bucket and `key` the key
 * after `${filename}` was replaced. Sizes are checked later, against the streamed file.
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, now: Date): SizeRange {
  if (now.getTime() > policy.expiration.getTime()) throw refused('Policy expired.');
  const named = new Set<string>();
  const range: SizeRange = { min: 0, max: Number.POSITIVE_INFINITY };
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      range.min = Math.max(range.min, condition.min);
      range.max = Math.min(range.max, condition.max);
      continue;
    }
    named.add(condition.field);
    if (!holds(condition, fields.get(condition.field) ?? '')) {
      throw refused(`Policy Condition failed: ${condition.text}`);
    }
  }
  const extra = [...fields.keys()].filter((name) => !named.has(name) && !EXEMPT.has(name) && !isIgnored(name));
  if (extra.length > 0) throw refused(`Extra input fields: ${extra.join(', ')}`);
  return range;
}

/** `x-ignore-*` fields are for the page's own use: S3 neither checks nor stores them. */
export function isIgnored(name: string): boolean {
  return name.startsWith('x-ignore-');
}

function holds(condition: Extract<PolicyCondition, { field: string }>, value: string): boolean {
  if (condition.kind === 'eq') return value === condition.value;
  // A Content-Type with commas is a list: each of its types must start with the prefix.
  if (condition.field === 'content-type') {
    return value.split(',').every((type) => type.trim().startsWith(condition.value));
  }
  return value.startsWith(condition.value);
}
