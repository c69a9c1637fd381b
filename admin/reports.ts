/**
 * The `reports` admin command (docs/moderation.md "Acting on reports"), for the `npm run admin` dispatcher:
 *   reports list [--after <report_id>] [--limit <n>]   a page of open reports (JSON lines; the last line says how to go on)
 *   reports resolve <report_id> [--note <text>]         marks one resolved
 * It runs with the operator's AWS credentials on the Reports table (REPORTS_TABLE, or the stack's output), never
 * through the WebSocket API: no client can reach it.
 */
import { parseArgs } from 'node:util';
import type { Clock } from '../core/ports/clock.js';
import type { ReportStore } from '../core/ports/moderation.js';
import { AdminUsageError, type AdminCommand } from './command.js';

export const REPORTS_USAGE = [
  'reports list [--after <report_id>] [--limit <n>]   open reports, oldest page first (default 25, at most 100)',
  'reports resolve <report_id> [--note <text>]         mark a report resolved',
].join('\n');

export interface ReportsCommandPorts {
  readonly reports: ReportStore;
  readonly clock: Clock;
  /** Where lines go (the dispatcher: stdout). */
  readonly print: (line: string) => void;
}

/** Thrown for arguments the command does not understand; the dispatcher prints it with REPORTS_USAGE. */
export class ReportsUsageError extends Error {
  override readonly name = 'ReportsUsageError';
}

/** Runs `reports …` with the arguments after the command's name; resolves with the process exit code. */
export async function reportsCommand(ports: ReportsCommandPorts, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { after: { type: 'string' }, limit: { type: 'string' }, note: { type: 'string' } },
  });
  const [sub, reportId] = positionals;
  if (sub === 'list') return listOpen(ports, values.after, values.limit);
  if (sub === 'resolve' && reportId) return resolve(ports, reportId, values.note ?? '');
  throw new ReportsUsageError(`reports: expected "list" or "resolve <report_id>"\n${REPORTS_USAGE}`);
}

async function listOpen(ports: ReportsCommandPorts, after: string | undefined, limitArg: string | undefined) {
  const limit = limitArg === undefined ? 25 : Number(limitArg);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ReportsUsageError('--limit: 1 to 100');
  const page = await ports.reports.listOpen({ limit, ...(after === undefined ? {} : { after }) });
  for (const report of page.reports) ports.print(JSON.stringify(report));
  ports.print(page.next === undefined ? '# no more open reports' : `# more: reports list --after ${page.next}`);
  return 0;
}

async function resolve(ports: ReportsCommandPorts, reportId: string, note: string) {
  const done = await ports.reports.resolve(reportId, note, Math.floor(ports.clock.now() / 1000));
  ports.print(done ? `resolved ${reportId}` : `no report ${reportId}`);
  return done ? 0 : 1;
}

/** `reports …` as a command of the `npm run admin` dispatcher (admin/commands.ts). */
export const reportsAdminCommand: AdminCommand = {
  name: 'reports',
  args: 'list [--after <report_id>] [--limit <n>] | resolve <report_id> [--note <text>]',
  summary: 'open reports, a page at a time, and marking one resolved (docs/moderation.md)',
  async run({ runtime }, args) {
    const lines: string[] = [];
    try {
      await reportsCommand({ reports: runtime.reports, clock: runtime.clock, print: (l) => lines.push(l) }, args);
    } catch (error) {
      if (error instanceof ReportsUsageError) throw new AdminUsageError(error.message);
      throw error;
    }
    return lines.join('\n');
  },
};
