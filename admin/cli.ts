/**
 * `npm run admin -- <command> [args] [--outputs <stack outputs file> | --env <settings file>]`: the operator's
 * commands (admin/commands.ts), against local mode by default or a deployed stack with --outputs (admin/context.ts).
 */
import { AdminUsageError } from './command.js';
import { ADMIN_COMMANDS } from './commands.js';
import { adminContext, takeTargetFlags } from './context.js';

export function usage(): string {
  const width = Math.max(...ADMIN_COMMANDS.map((c) => `${c.name} ${c.args}`.length));
  return [
    'usage: npm run admin -- <command> [args] [--outputs <stack outputs file> | --env <settings file>]',
    '',
    ...ADMIN_COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    '',
    'Local mode by default (the settings npm start wrote to .data/admin-env.json); --outputs for a deployed stack.',
  ].join('\n');
}

/** Runs one command line; returns the exit code. */
export async function runAdmin(argv: readonly string[], print: (line: string) => void = console.log): Promise<number> {
  const [name, ...rest] = argv;
  const command = ADMIN_COMMANDS.find((c) => c.name === name);
  if (!command) {
    print(usage());
    return name === undefined || name === '--help' || name === '-h' ? 0 : 2;
  }
  try {
    const { flags, rest: args } = takeTargetFlags(rest);
    print(await command.run(await adminContext(flags), args));
    return 0;
  } catch (error) {
    if (!(error instanceof AdminUsageError)) throw error;
    print(error.message);
    return 2;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await runAdmin(process.argv.slice(2));
}
