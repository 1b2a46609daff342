import { compareKeys, seededRandom } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { isKvError } from './errors.js';
import { randomKey } from './fixtures/random-keys.js';
import { decodeKey, encodeKey, encodeKeyPrefix, inclusiveStartAfter } from './key-codec.js';
import { KvPaths } from './paths.js';

const SEEDS = [1, 2, 3, 42, 1234];

describe('key encoding', () => {
  it('keeps ordinary keys readable', () => {
    expect(encodeKey('users/alice')).toBe('!users/!alice');
    expect(encodeKey('a b\n')).toBe('!a `b J');
    expect(encodeKey('a/')).toBe('!a/!');
    expect(encodeKey('..')).toBe('!..');
    expect(encodeKey('\uffff')).toBe('!\ufffdF');
  });

  it('never produces what S3 listings or path handling choke on', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const encoded = encodeKey(randomKey(random, 12));
      expect(encoded).not.toMatch(/[\u0000-\u001f\ufffe\uffff]|\u{10ffff}/u);
      // Every path segment starts with "!": none is empty, "." or "..", and none ends the key.
      for (const segment of encoded.split('/')) expect(segment.startsWith('!')).toBe(true);
    }
  });

  it.each(SEEDS)('round-trips random unicode keys (seed %i)', (seed) => {
    const random = seededRandom(seed);
    for (let i = 0; i < 1000; i++) {
      const key = randomKey(random, 12);
      expect(decodeKey(encodeKey(key))).toBe(key);
    }
  });

  it.each(SEEDS)('preserves code-point order and prefixes (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const keys = Array.from({ length: 400 }, () => randomKey(random, 6));
    const byKey = [...keys].sort(compareKeys);
    const byEncoding = [...keys].sort((a, b) => compareKeys(encodeKey(a), encodeKey(b)));
    expect(byEncoding).toEqual(byKey);
    for (let i = 0; i < 400; i++) {
      const a = keys[i] as string;
      const b = keys[(i * 7 + 3) % keys.length] as string;
      expect(encodeKey(b).startsWith(encodeKeyPrefix(a))).toBe(b.startsWith(a));
    }
  });

  it.each(SEEDS)('puts no encoded key strictly between an inclusive start bound and its key (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const encoded = Array.from({ length: 400 }, () => encodeKey(randomKey(random, 5)));
    for (const start of encoded.slice(0, 50)) {
      const bound = inclusiveStartAfter(start);
      expect(compareKeys(bound, start)).toBeLessThan(0);
      for (const other of encoded) {
        const between = compareKeys(other, bound) > 0 && compareKeys(other, start) < 0;
        expect(between ? other : undefined).toBeUndefined();
      }
    }
  });

  it('leaves 1008 bytes for an encoded key without prefixes: 1007 of plain UTF-8', () => {
    expect(new KvPaths('', 'ordered').maxEncodedKeyBytes).toBe(1008);
    // A store taking longer keys does not raise it (keys stay portable to S3); a shorter one lowers it.
    expect(new KvPaths('', 'ordered', 2048).maxEncodedKeyBytes).toBe(1008);
    expect(new KvPaths('app', 'hashed', 1014).maxEncodedKeyBytes).toBe(1008 - 4 - 10);
  });

  it('rejects empty and ill-formed keys with InvalidKey', () => {
    for (const bad of ['', 'a\ud800', '\udc00b']) {
      let caught: unknown;
      try {
        encodeKey(bad);
      } catch (error) {
        caught = error;
      }
      expect(isKvError(caught, 'InvalidKey')).toBe(true);
    }
  });

  it('refuses to decode foreign object names', () => {
    for (const foreign of ['plain', '!a/b', '!a ', '!a z', '!\ufffd', '!\ufffdX', '!\u0001', '!']) {
      expect(decodeKey(foreign)).toBeUndefined();
    }
  });
});
