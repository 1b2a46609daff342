import { many, record, text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';

const MAX_TAGS = 10;

/** S3's tag rules: at most 10 (50 for buckets), keys ≤ 128 and values ≤ 256 characters, unique keys. */
export function validateTags(tags: [string, string][], max = MAX_TAGS): [string, string][] {
  const invalid = (message: string) => new S3Error('InvalidTag', message);
  if (tags.length > max) throw invalid(`Object tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const [key, value] of tags) {
    if (key.length === 0 || key.length > 128) throw invalid('The TagKey you have provided is invalid');
    if (value.length > 256) throw invalid('The TagValue you have provided is invalid');
    if (key.startsWith('aws:')) throw invalid('Your TagKey cannot be prefixed with aws:');
    if (seen.has(key)) throw invalid('Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  return tags;
}

/** `x-amz-tagging: k1=v1&k2=v2` (URL-encoded). */
export function parseTagHeader(value: string | undefined): [string, string][] {
  if (value === undefined || value === '') return [];
  return validateTags([...new URLSearchParams(value)]);
}

/** `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` already parsed. */
export function parseTagSet(doc: Record<string, unknown>, max = MAX_TAGS): [string, string][] {
  const tags = many(record(doc.TagSet).Tag).map((tag): [string, string] => {
    const t = record(tag);
    const key = text(t.Key);
    if (key === undefined) throw new S3Error('MalformedXML', 'Each Tag needs a Key');
    return [key, text(t.Value) ?? ''];
  });
  return validateTags(tags, max);
}

export function tagSetXml(tags: [string, string][]): Record<string, unknown> {
  return { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } };
}
