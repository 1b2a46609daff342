import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs tasks on one key one at a time in call order, and other keys alongside', async () => {
    const locks = new KeyedMutex();
    const log: string[] = [];
    const task = (key: string, name: string) =>
      locks.run(key, async () => {
        log.push(`start ${name}`);
        await tick();
        await tick();
        log.push(`end ${name}`);
      });
    await Promise.all([task('a', 'a1'), task('a', 'a2'), task('b', 'b1')]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('keeps running after a failed task and forgets idle keys', async () => {
    const locks = new KeyedMutex();
    const failed = locks.run('k', async () => {
      throw new Error('boom');
    });
    const next = locks.run('k', async () => 'after');
    expect(locks.size).toBe(1);
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('after');
    expect(locks.size).toBe(0);
  });

  it('releases once however often release is called', async () => {
    const locks = new KeyedMutex();
    const release = await locks.acquire('k');
    const waiting = locks.acquire('k');
    release();
    release();
    const second = await waiting;
    let third = false;
    void locks.acquire('k').then(() => {
      third = true;
    });
    await tick();
    expect(third).toBe(false);
    second();
    await tick();
    expect(third).toBe(true);
  });
});
