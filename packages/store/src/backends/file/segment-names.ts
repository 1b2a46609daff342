import { createHash } from 'node:crypto';

/**
 * File names for key segments. A key is split at every `/`; each segment but the last names a
 * directory, the last names an object file. Examples (`objects/` is the root):
 *
 *   `a`        → `oa`                 `a/`   → `da/o`        `a/b` → `da/ob`
 *   `../x`     → `d../ox`             (the marker makes `..` an ordinary name)
 *   `Read Me`  → `o%52ead%20%4de`     (only [a-z0-9._-] stay literal: safe on case-insensitive
 *                                      and normalizing file systems)
 *   a segment whose name would exceed NAME_LIMIT → `p<sha256>` (object) / `q<sha256>` (directory);
 *   its text is recovered from the key stored in the object header.
 *
 * The one-letter marker means no name is ever `.`, `..` or empty, and the encoding never yields
 * `/`, `\` or NUL, so no key can reach outside the root.
 */
export type EntryKind = 'object' | 'dir';

const MARKERS = { object: 'o', dir: 'd' } as const;
const HASHED_MARKERS = { object: 'p', dir: 'q' } as const;
/** Below the 255-byte limit of common file systems, with room for the marker. */
const NAME_LIMIT = 240;
const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => `%${i.toString(16).padStart(2, '0')}`);

function isLiteral(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2e || byte === 0x2d || byte === 0x5f
  );
}

function encodeSegment(segment: string): string {
  if (/^[a-z0-9._-]*$/.test(segment)) return segment;
  let out = '';
  for (const byte of encoder.encode(segment)) out += isLiteral(byte) ? String.fromCharCode(byte) : HEX[byte];
  return out;
}

/** The file name of a segment inside its parent directory. */
export function entryName(segment: string, kind: EntryKind): string {
  const encoded = encodeSegment(segment);
  if (encoded.length + 1 <= NAME_LIMIT) return MARKERS[kind] + encoded;
  return HASHED_MARKERS[kind] + createHash('sha256').update(segment).digest('hex');
}

export type ParsedName =
  { kind: EntryKind; hashed: false; segment: string } | { kind: EntryKind; hashed: true } | undefined;

/** The inverse of `entryName`; undefined for names bucketdb did not write. */
export function parseName(name: string): ParsedName {
  const marker = name[0];
  const rest = name.slice(1);
  if (marker === 'o' || marker === 'd') {
    let segment: string;
    try {
      segment = rest.includes('%') ? decodeURIComponent(rest) : rest;
    } catch {
      return undefined;
    }
    if (segment.includes('/') || entryName(segment, 'object').slice(1) !== rest) return undefined;
    return { kind: marker === 'o' ? 'object' : 'dir', hashed: false, segment };
  }
  if ((marker === 'p' || marker === 'q') && /^[0-9a-f]{64}$/.test(rest)) {
    return { kind: marker === 'p' ? 'object' : 'dir', hashed: true };
  }
  return undefined;
}

/** The path of a key's object file relative to the objects root, and of its directory. */
export function keyPath(key: string): { dir: string; file: string } {
  const segments = key.split('/');
  const last = segments.pop() as string;
  const dir = segments.map((s) => `${entryName(s, 'dir')}/`).join('');
  return { dir, file: dir + entryName(last, 'object') };
}
