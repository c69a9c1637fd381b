/**
 * What an `npm run admin -- <command>` command is: a name, its usage line, and a function of the admin context and
 * its arguments that returns what to print. Commands are registered in admin/commands.ts.
 */
import type { AdminContext } from './context.js';

export interface AdminCommand {
  /** The word after `npm run admin --`. */
  readonly name: string;
  /** Arguments, as the usage shows them (`<user>`). */
  readonly args: string;
  /** One line for the usage. */
  readonly summary: string;
  /** Runs the command; returns the lines to print. Throws AdminUsageError for wrong arguments. */
  run(context: AdminContext, args: readonly string[]): Promise<string>;
}

/** Wrong arguments: the usage is printed and the exit code is 2. */
export class AdminUsageError extends Error {
  override readonly name = 'AdminUsageError';
}

/** The one argument a command takes, or AdminUsageError. */
export function oneArgument(command: AdminCommand, args: readonly string[]): string {
  if (args.length !== 1 || !args[0])
    throw new AdminUsageError(`usage: npm run admin -- ${command.name} ${command.args}`);
  return args[0];
}
