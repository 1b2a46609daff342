import type { Command } from 'commander';

// Placeholder until the kv command lands; replaced by its owner.
export function registerKvCommand(program: Command): void {
  program
    .command('kv')
    .description('(not available yet)')
    .action(() => {
      throw new Error('the kv command is not available yet');
    });
}
