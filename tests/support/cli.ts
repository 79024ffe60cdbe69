import { Command } from 'commander';

/**
 * Runs `shoal` subcommands in process, as `npx shoal …` would, with stdout and stderr captured. `register` adds the
 * commands under test (e.g. registerValueCommands). Commander errors throw instead of exiting.
 */
export async function runCli(
  register: (program: Command) => void,
  args: string[],
): Promise<{ out: string; err: string }> {
  const program = new Command('shoal').exitOverride();
  register(program);
  let out = '';
  let err = '';
  const w = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = jest
    .spyOn(process.stderr, 'write')
    .mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
  return { out, err };
}
