import { Command, CommanderError } from 'commander';
import { reportError } from './output.ts';
import { commandModules } from './commands/index.ts';

/** Builds the `cashloop` program from the command modules, one per business area. */
export function buildProgram(): Command {
  const program = new Command('cashloop')
    .description('cashloop: open order-to-cash — orders, credit, shipping, invoicing, payments, analytics')
    .version('0.2.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandModules) register(program);
  return program;
}

/** Entry point of the bin: runs the command and exits with the code of its outcome. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a usage error is invalid input.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportError(error, json);
  }
}
