import { KvError } from './errors.js';

/**
 * The order- and prefix-preserving encoding of user keys into object-key text
 * (docs/design/kv.md, "Key encoding"). Every code point maps to a short string; the images are
 * prefix-free and ordered like the code points, so the encoding keeps code-point order (S3's
 * listing order) and turns a key prefix into an object-key prefix.
 *
 * ```
 * "users/alice"   →  "!users/!alice"     every segment starts with "!"
 * "a b\n"         →  "!a `b J"            U+0000–U+0020 → space + chr(c + 0x40)
 * "\uFFFF"        →  "!\uFFFDF"          U+FFFD–U+FFFF → U+FFFD + D/E/F
 * ```
 */

const SEGMENT = '!';
const LOW_ESCAPE = 0x20;
const BMP_ESCAPE = 0xfffd;
const TOP_ESCAPE = 0x10fffd;
const HIGH_DIGITS = 'DEF';

/** Encodes one key. Throws `InvalidKey` for an empty or ill-formed key. */
export function encodeKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new KvError('InvalidKey', 'a key must be a non-empty string', { key: String(key) });
  }
  return SEGMENT + encodeKeyPart(key);
}

/** Encodes a key prefix: the result is a prefix of `encodeKey(k)` for every key k starting with it. */
export function encodeKeyPrefix(prefix: string): string {
  return SEGMENT + encodeKeyPart(prefix);
}

function encodeKeyPart(text: string): string {
  if (!text.isWellFormed()) {
    throw new KvError('InvalidKey', 'a key must be valid Unicode (it contains a lone surrogate)', { key: text });
  }
  let out = '';
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    if (cp <= LOW_ESCAPE) out += ` ${String.fromCharCode(cp + 0x40)}`;
    else if (char === '/') out += `/${SEGMENT}`;
    else if (cp >= BMP_ESCAPE && cp <= 0xffff) out += `\ufffd${HIGH_DIGITS[cp - BMP_ESCAPE]}`;
    else if (cp >= TOP_ESCAPE) out += `\u{10fffd}${HIGH_DIGITS[cp - TOP_ESCAPE]}`;
    else out += char;
  }
  return out;
}

/** Decodes `encodeKey`'s output; `undefined` if `text` is not such an encoding (a foreign object). */
export function decodeKey(text: string): string | undefined {
  if (!text.startsWith(SEGMENT) || text.length < 2) return undefined;
  let out = '';
  const chars = Array.from(text.slice(1));
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    const cp = char.codePointAt(0) as number;
    if (cp === LOW_ESCAPE || cp === BMP_ESCAPE || cp === TOP_ESCAPE) {
      const next = chars[++i];
      if (next === undefined) return undefined;
      if (cp === LOW_ESCAPE) {
        const code = next.charCodeAt(0) - 0x40;
        if (next.length !== 1 || code < 0 || code > LOW_ESCAPE) return undefined;
        out += String.fromCharCode(code);
      } else {
        const digit = HIGH_DIGITS.indexOf(next);
        if (digit < 0 || next.length !== 1) return undefined;
        out += String.fromCodePoint(cp + digit);
      }
    } else if (char === '/') {
      if (chars[++i] !== SEGMENT) return undefined;
      out += '/';
    } else if (cp < LOW_ESCAPE || (cp > BMP_ESCAPE && cp <= 0xffff) || cp > TOP_ESCAPE) {
      return undefined;
    } else {
      out += char;
    }
  }
  return out;
}

/**
 * The greatest string below `path` that matters for LIST, used as an exclusive `startAfter` for an
 * inclusive start: the last code point is decremented and U+10FFFF appended. No key lies strictly
 * between it and `path` unless it contains U+10FFFF after that point, and encoded keys never do.
 */
export function inclusiveStartAfter(path: string): string {
  const chars = Array.from(path);
  const last = (chars.pop() as string).codePointAt(0) as number;
  const previous = last === 0xe000 ? 0xd7ff : last - 1;
  return `${chars.join('')}${String.fromCodePoint(previous)}\u{10ffff}`;
}
