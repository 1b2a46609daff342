import { KvError } from './errors.js';

/** Turns values into bodies with a content type, and back. The content type is stored with the object. */
export interface Codec<T> {
  readonly name: string;
  /** Throws `KvError('InvalidValue')` for a value it cannot represent or a content type that does not fit. */
  encode(value: T, contentType?: string): { body: Uint8Array; contentType: string };
  /** Throws `KvError('Corrupt')` for bytes it cannot read. */
  decode(body: Uint8Array, contentType: string | undefined): T;
}

/** What `JSON.parse` returns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** What the `auto` codec stores: bytes, text, or JSON. */
export type KvValue = Uint8Array | JsonValue;

export const OCTET_STREAM = 'application/octet-stream';
export const TEXT_PLAIN = 'text/plain; charset=utf-8';
export const APPLICATION_JSON = 'application/json';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\\\x00-\\x1f\\x7f]|\\\\[\\x20-\\x7e])*"';
/** RFC 9110 media type: `type/subtype` and `; name=value` parameters; no control characters. */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);

/**
 * Throws `InvalidArgument` for a content type that is not a media type: it is sent as an HTTP
 * header, so CR/LF (header injection) and other control characters must never reach the store.
 */
export function checkContentType(key: string, contentType: unknown): void {
  if (typeof contentType !== 'string' || contentType.length > 256 || !MEDIA_TYPE.test(contentType)) {
    throw new KvError(
      'InvalidArgument',
      `contentType must be a media type like text/html, got ${JSON.stringify(contentType)}`,
      {
        key,
      },
    );
  }
}

const isJsonType = (type: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type);
const isTextType = (type: string) => /^text\//i.test(type);

export const bytesCodec: Codec<Uint8Array> = {
  name: 'bytes',
  encode(value, contentType = OCTET_STREAM) {
    if (!(value instanceof Uint8Array)) throw invalid(`the bytes codec stores Uint8Array values, not ${kind(value)}`);
    return { body: value, contentType };
  },
  // Plain Uint8Array whatever the backend returns (FileStore gives Buffers), so values compare
  // and serialize the same everywhere. A view, not a copy.
  decode: (body) =>
    Object.getPrototypeOf(body) === Uint8Array.prototype
      ? body
      : new Uint8Array(body.buffer, body.byteOffset, body.length),
};

export const textCodec: Codec<string> = {
  name: 'text',
  encode(value, contentType = TEXT_PLAIN) {
    if (typeof value !== 'string') throw invalid(`the text codec stores strings, not ${kind(value)}`);
    if (!value.isWellFormed()) throw invalid('the string is not valid Unicode (it contains a lone surrogate)');
    return { body: encoder.encode(value), contentType };
  },
  decode(body) {
    try {
      return decoder.decode(body);
    } catch (cause) {
      throw new KvError('Corrupt', 'a stored text value is not valid UTF-8', { cause });
    }
  },
};

export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode(value, contentType = APPLICATION_JSON) {
    if (!isJsonType(contentType)) throw invalid(`a JSON value needs a JSON content type, not ${contentType}`);
    return { body: encoder.encode(strictStringify(value)), contentType };
  },
  decode(body) {
    try {
      return JSON.parse(decoder.decode(body)) as unknown;
    } catch (cause) {
      throw new KvError('Corrupt', 'a stored JSON value does not parse', { cause });
    }
  },
};

/**
 * Bytes, strings and JSON side by side: the kind is chosen from the value when writing and from
 * the stored content type when reading, so objects written by other S3 tools read back sensibly.
 */
export const autoCodec: Codec<KvValue> = {
  name: 'auto',
  encode(value, contentType) {
    if (value instanceof Uint8Array) {
      if (contentType !== undefined && (isJsonType(contentType) || isTextType(contentType))) {
        throw invalid(`bytes stored as ${contentType} would read back as ${isTextType(contentType) ? 'text' : 'JSON'}`);
      }
      return bytesCodec.encode(value, contentType);
    }
    if (typeof value === 'string') {
      if (contentType !== undefined && !isTextType(contentType)) {
        throw invalid(`a string needs a text/* content type, not ${contentType}`);
      }
      return textCodec.encode(value, contentType);
    }
    return jsonCodec.encode(value, contentType);
  },
  decode(body, contentType) {
    if (contentType !== undefined && isJsonType(contentType)) return jsonCodec.decode(body, contentType) as JsonValue;
    if (contentType !== undefined && isTextType(contentType)) return textCodec.decode(body, contentType);
    return bytesCodec.decode(body, contentType);
  },
};

export const CODECS = { auto: autoCodec, bytes: bytesCodec, text: textCodec, json: jsonCodec } as const;
export type CodecName = keyof typeof CODECS;

/**
 * JSON.stringify that refuses what it would otherwise change silently (functions, symbols,
 * NaN/Infinity, Map/Set/class instances) or throw about vaguely (BigInt, cycles).
 */
export function strictStringify(value: unknown): string {
  let text: string | undefined;
  try {
    // A function, not an arrow: `this` is the holder, to tell an array's undefined (→ null) apart.
    text = JSON.stringify(value, function (this: unknown, name, item: unknown) {
      if (item === undefined && Array.isArray(this)) throw invalid(`undefined at [${name}] is not JSON`);
      checkJson(item, name);
      return item;
    });
  } catch (cause) {
    if (cause instanceof KvError) throw cause;
    throw invalid(`the value is not JSON: ${(cause as Error).message.split('\n')[0]}`, cause);
  }
  if (text === undefined) throw invalid(`${kind(value)} is not a JSON value`);
  return text;
}

function checkJson(item: unknown, name: string): void {
  const at = name === '' ? '' : ` at ${JSON.stringify(name)}`;
  switch (typeof item) {
    case 'bigint':
    case 'function':
    case 'symbol':
      throw invalid(`${typeof item}${at} is not JSON`);
    case 'number':
      if (!Number.isFinite(item)) throw invalid(`${item}${at} is not JSON (it would become null)`);
      return;
    case 'object': {
      if (item === null || Array.isArray(item)) return;
      const proto = Object.getPrototypeOf(item) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw invalid(`${kind(item)}${at} is not a plain object (it would not round-trip through JSON)`);
      }
    }
  }
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

function invalid(message: string, cause?: unknown): KvError {
  return new KvError('InvalidValue', message, cause === undefined ? {} : { cause });
}
