import { setImmediate as nextTurn } from 'node:timers/promises';
import { S3Error } from '../s3-error.js';

/**
 * A reader for the small XML documents S3 requests carry (CompleteMultipartUpload, Delete,
 * Tagging, CORS, ACLs …), which gives the event loop back every couple of milliseconds: a large
 * document (10,000 parts) is read in slices between other requests instead of blocking them.
 *
 * Its output is what the handlers read: an element with children is an object of its children
 * by local name (namespace prefixes dropped, a repeated name becomes an array), an element with
 * none is its text ('' when empty); attributes are ignored. Refused as MalformedXML: anything not
 * well-formed, a DTD (`<!DOCTYPE`, so no entity can be declared or expanded), entity references
 * other than XML's five and character references, processing instructions other than the XML
 * declaration, more than MAX_ELEMENTS elements or deeper than MAX_DEPTH.
 */

/** Enough for CompleteMultipartUpload's 10,000 parts with a checksum each. */
export const MAX_ELEMENTS = 100_000;
const MAX_DEPTH = 32;
/** How long one slice of reading may hold the event loop. */
const SLICE_MS = 2;

export const malformedXml = () =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

const OPEN_TAG = /([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const CLOSE_TAG = /\/([A-Za-z_][\w.:-]*)\s*>/y;
const DECLARATION = /^\uFEFF?<\?xml(?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*\?>/;
const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const BLANK = /^[ \t\r\n]*$/;
/**
 * Characters refused anywhere in a document. XML 1.0 allows no C0 control characters but tab, LF
 * and CR either; they are taken all the same, raw or as character references, because S3 keys may
 * hold them and the SDKs send such keys raw (DeleteObjects). Outside text they break the markup.
 */
const NOT_XML_CHAR = /[\u0000\ufffe\uffff]/;

interface Frame {
  rawName: string;
  name: string;
  children: Record<string, unknown> | undefined;
  text: string;
}

/** Decodes UTF-8 strictly (invalid bytes are MalformedXML, not U+FFFD) and reads the document; `root` must be its root. */
export async function readXml(bytes: Uint8Array, root: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformedXml();
  }
  const doc = await parseXmlText(text);
  if (doc.name !== root) throw malformedXml();
  return typeof doc.value === 'object' && doc.value !== null ? (doc.value as Record<string, unknown>) : {};
}

/** The root element's local name and value. */
export async function parseXmlText(text: string): Promise<{ name: string; value: unknown }> {
  if (NOT_XML_CHAR.test(text)) throw malformedXml();
  let pos = DECLARATION.exec(text)?.[0].length ?? 0;
  const stack: Frame[] = [];
  let result: { name: string; value: unknown } | undefined;
  let elements = 0;
  let sliceStart = performance.now();
  let steps = 0;
  while (pos < text.length) {
    if (++steps % 256 === 0 && performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
    const lt = text.indexOf('<', pos);
    const end = lt < 0 ? text.length : lt;
    if (end > pos) {
      const chunk = text.slice(pos, end);
      const top = stack.at(-1);
      if (top) top.text += decodeEntities(chunk);
      else if (!BLANK.test(chunk)) throw malformedXml();
    }
    if (lt < 0) break;
    pos = lt + 1;
    const next = text[pos];
    if (next === '!') {
      if (text.startsWith('!--', pos)) {
        const close = text.indexOf('-->', pos + 3);
        if (close < 0) throw malformedXml();
        pos = close + 3;
      } else if (text.startsWith('![CDATA[', pos) && stack.length > 0) {
        const close = text.indexOf(']]>', pos + 8);
        if (close < 0) throw malformedXml();
        (stack.at(-1) as Frame).text += text.slice(pos + 8, close);
        pos = close + 3;
      } else {
        // <!DOCTYPE …> and every other declaration: no DTDs, so no entities to expand.
        throw malformedXml();
      }
    } else if (next === '/') {
      CLOSE_TAG.lastIndex = pos;
      const match = CLOSE_TAG.exec(text);
      const frame = stack.pop();
      if (!match || !frame || match[1] !== frame.rawName) throw malformedXml();
      pos = CLOSE_TAG.lastIndex;
      const value = valueOf(frame);
      const parent = stack.at(-1);
      if (parent) addChild(parent, frame.name, value);
      else result = { name: frame.name, value };
    } else {
      OPEN_TAG.lastIndex = pos;
      const match = OPEN_TAG.exec(text);
      if (!match || result !== undefined) throw malformedXml();
      pos = OPEN_TAG.lastIndex;
      if (++elements > MAX_ELEMENTS || stack.length >= MAX_DEPTH) throw malformedXml();
      const rawName = match[1] as string;
      const frame: Frame = { rawName, name: localName(rawName), children: undefined, text: '' };
      if (match[3] === '/') {
        const parent = stack.at(-1);
        if (parent) addChild(parent, frame.name, '');
        else result = { name: frame.name, value: '' };
      } else {
        stack.push(frame);
      }
    }
  }
  if (stack.length > 0 || result === undefined) throw malformedXml();
  return result;
}

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

function valueOf(frame: Frame): unknown {
  if (frame.children === undefined) return frame.text;
  if (!BLANK.test(frame.text)) frame.children['#text'] = frame.text;
  return frame.children;
}

function addChild(parent: Frame, name: string, value: unknown): void {
  parent.children ??= {};
  const existing = parent.children[name];
  if (existing === undefined) parent.children[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else parent.children[name] = [existing, value];
}

function decodeEntities(chunk: string): string {
  if (!chunk.includes('&')) return chunk;
  let checked = 0;
  const out = chunk.replace(
    ENTITY,
    (_m, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
      checked++;
      if (named !== undefined) return NAMED[named] as string;
      const code = dec !== undefined ? Number(dec) : parseInt(hex ?? '', 16);
      if (code > 0x10ffff || code === 0) throw malformedXml();
      return String.fromCodePoint(code);
    },
  );
  // Every `&` must have started one of those references (no HTML entities, no bare ampersands).
  if ((chunk.match(/&/g)?.length ?? 0) !== checked) throw malformedXml();
  return out;
}
