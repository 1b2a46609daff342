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
    for (const command of createProgram().commands) {
      expect(result.stdout).toContain(command.name());
    }
    expect(result.stdout).toContain('s3://bucket/prefix?endpoint=URL');
  });

  it('rejects an unknown command with a hint and a non-zero exit', async () => {
    const result = await runCli(['no-such-command']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'no-such-command'");
  });
});
