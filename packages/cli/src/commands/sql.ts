import type { Command } from 'commander';

// Placeholder until the sql command lands; replaced by its owner.
export function registerSqlCommand(program: Command): void {
  program
    .command('sql')
    .description('(not available yet)')
    .action(() => {
      throw new Error('the sql command is not available yet');
    });
}
