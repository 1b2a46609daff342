import { runCli } from './fixtures/run-cli.js';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';

describe('bucketdb', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('lists every subcommand in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    const commands = (await createProgram()).commands;
    expect(commands.map((c) => c.name())).toEqual([
      'server',
      'sql',
      'kv',
      'cp',
      'sync',
      'ls',
      'rm',
      'cat',
      'lake',
      'events',
    ]);
    for (const command of commands) {
      expect(result.stdout).toContain(command.name());
    }
    expect(result.stdout).toContain('s3://bucket/prefix?endpoint=URL');
  });

  it('rejects an unknown command with a hint and a non-zero exit', async () => {
    const result = await runCli(['no-such-command']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'no-such-command'");
  });

  it('loads only the verb it runs', async () => {
    expect((await createProgram('cp')).commands.map((c) => c.name())).toEqual(['cp']);
    const events = (await createProgram('events')).commands;
    expect(events.map((c) => c.name())).toEqual(['events']);
    expect(events[0]?.commands.map((c) => c.name())).toContain('groups');
    expect((await createProgram('--help')).commands).toHaveLength(10);
  });
});
