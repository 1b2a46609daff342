/**
 * The parts of SigV4's canonical request that depend on how a client spelled the request.
 * S3 signs the path encoded once (not twice, unlike other services), query parameters encoded
 * and sorted, and the signed headers with trimmed values.
 */

const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** AWS's UriEncode: every byte except A-Z a-z 0-9 - _ . ~ percent-encoded, `/` kept when asked. */
export function uriEncode(value: string, keepSlash: boolean): string {
  const encoded = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return keepSlash ? encoded.replaceAll('%2F', '/') : encoded;
}

function decode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined; // malformed escapes or invalid UTF-8: sign the bytes as they came
  }
}

/**
 * The canonical URI of a raw request path: decoded and re-encoded with AWS's rules, so that
 * clients that leave `!*'()` or `~` alone and clients that escape them agree with S3.
 */
export function canonicalPath(rawPath: string): string {
  if (rawPath === '') return '/';
  if (UNRESERVED_PATH.test(rawPath)) return rawPath;
  const decoded = decode(rawPath);
  return decoded === undefined ? rawPath : uriEncode(decoded, true);
}

/** Unreserved characters only: already canonical, as the names and most values clients send are. */
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

function canonicalComponent(raw: string): string {
  return UNRESERVED.test(raw) ? raw : uriEncode(decode(raw) ?? raw, false);
}

/** The canonical query string: each name and value re-encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string, omit?: string): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    if (rawName === omit) continue;
    const name = canonicalComponent(rawName);
    if (name === omit) continue;
    pairs.push([name, canonicalComponent(rawValue)]);
  }
  // Byte order of the encoded (ASCII) strings, as AWS sorts; not locale order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** A header's canonical value: repeated headers joined by commas, whitespace trimmed and collapsed. */
export function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const joined = Array.isArray(value) ? value.map((v) => v.trim()).join(',') : value;
  return joined.trim().replace(/\s+/g, ' ');
}

/** `name:value\n` for each signed header, in the order given (already sorted by the client). */
export function canonicalHeaders(
  headers: Record<string, string | string[] | undefined>,
  signedHeaders: readonly string[],
): string {
  let out = '';
  for (const name of signedHeaders) out += `${name}:${canonicalHeaderValue(headers[name])}\n`;
  return out;
}

export interface CanonicalRequestParts {
  method: string;
  path: string;
  query: string;
  headers: string;
  signedHeaders: string;
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalRequestParts): string {
  return `${p.method}\n${p.path}\n${p.query}\n${p.headers}\n${p.signedHeaders}\n${p.payloadHash}`;
}
