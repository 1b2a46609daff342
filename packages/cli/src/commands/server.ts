import type { Command } from 'commander';

// Placeholder until the server command lands; replaced by its owner.
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('(not available yet)')
    .action(() => {
      throw new Error('the server command is not available yet');
    });
}
