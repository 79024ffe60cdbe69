import type { Command } from 'commander';

export function registerValueCommands(program: Command): void {
  program.command('value').description('customer value models (not yet implemented)');
}
