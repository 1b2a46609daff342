import { XMLBuilder } from 'fast-xml-parser';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * Escapes text for XML; `\r` as a reference so parsers do not fold it into `\n`. Control
 * characters XML 1.0 cannot carry (which S3 allows in keys) become character references such
 * as `&#x1;`, as S3 writes them (observed): lenient parsers read them back, strict ones need
 * `encoding-type=url`, which is why S3 offers it.
 */
function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 && c !== '\r' ? `&#x${code.toString(16)};` : `&#${code};`;
  });
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  suppressEmptyNode: false,
  processEntities: false,
  tagValueProcessor: (_name, value) => escapeXml(String(value)),
  attributeValueProcessor: (_name, value) => escapeXml(String(value)),
});

/**
 * An S3 XML document: `root` with the S3 namespace. Values: strings, numbers, booleans, nested
 * objects, arrays for repeated elements; `undefined` is left out.
 */
export function xmlDocument(root: string, content: Record<string, unknown>, namespace = true): string {
  const body = namespace ? { '@xmlns': XMLNS, ...content } : content;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: body })}`;
}

/**
 * Like `xmlDocument`, for content whose elements of different names must keep their relative
 * order (ListObjectVersions interleaves Version and DeleteMarker newest first): each part is built
 * on its own and the parts are joined in the order given.
 */
export function xmlDocumentInOrder(root: string, parts: readonly Record<string, unknown>[]): string {
  const inner = parts.map((part) => builder.build(part) as string).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>`;
}

/** An element that may repeat, as an array (the reader gives one value or an array). */
export function many(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** An element's text, or undefined. */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null || typeof value === 'object') return undefined;
  return String(value);
}

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
