import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';

describe('MemoryStore', () => {
  it('round-trips an object', async () => {
    const store = new MemoryStore();
    const { etag } = await store.put('a/b', 'hello', { contentType: 'text/plain', metadata: { x: '1' } });
    const got = await store.get('a/b');
    expect(new TextDecoder().decode(got.body)).toBe('hello');
    expect(got.etag).toBe(etag);
    expect(got.metadata).toEqual({ x: '1' });
  });

  it('keeps its own copy of a Buffer body', async () => {
    const store = new MemoryStore();
    const body = Buffer.from('original');
    await store.put('k', body);
    body.write('CHANGED!');
    expect(new TextDecoder().decode((await store.get('k')).body)).toBe('original');
  });
});
