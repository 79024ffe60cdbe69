import type { Command } from 'commander';

export function registerKmeansCommand(program: Command): void {
  program.command('kmeans').description('k-means on a raw float32 matrix (not yet implemented)');
}
