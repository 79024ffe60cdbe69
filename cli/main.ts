import { Command } from 'commander';
import { registerKmeansCommand } from './kmeans';
import { registerOperateCommands } from './operate';
import { registerValueCommands } from './value';

const program = new Command('shoal').description('Shoal command-line tools').showHelpAfterError();
registerKmeansCommand(program);
registerValueCommands(program);
registerOperateCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
