/** The `reports` admin command on DynamoDB Local: lists open reports in pages, resolves one, refuses bad arguments. */
import { describe, expect, it } from 'vitest';
import { AdminUsageError } from '../../admin/command.js';
import type { AdminContext } from '../../admin/context.js';
import { ADMIN_COMMANDS } from '../../admin/commands.js';
import { reportsAdminCommand, reportsCommand, ReportsUsageError } from '../../admin/reports.js';
import type { Report } from '../../core/domain/report.js';
import { createTestRuntime } from '../support/runtime.js';

const report = (i: number): Report => ({
  report_id: `r_${i}`,
  reporter_id: `u${i}`,
  target: { kind: 'user', user_id: 'mallory' },
  reason: 'spam',
  created_at: 1_790_000_000 + i,
  status: 'open',
  snapshot: [],
});

describe('reports admin command', () => {
  it('pages through the open reports and resolves one, which then leaves the list', async () => {
    const t = await createTestRuntime();
    for (let i = 1; i <= 3; i++) await t.runtime.reports.create(report(i));
    const lines: string[] = [];
    const ports = { reports: t.runtime.reports, clock: t.clock, print: (l: string) => lines.push(l) };

    const seen: string[] = [];
    let args = ['list', '--limit', '2'];
    for (;;) {
      lines.length = 0;
      expect(await reportsCommand(ports, args)).toBe(0);
      seen.push(...lines.filter((l) => !l.startsWith('#')).map((l) => (JSON.parse(l) as Report).report_id));
      const more = lines.at(-1)!.match(/--after (\S+)/);
      if (!more) break;
      args = ['list', '--limit', '2', '--after', more[1]!];
    }
    expect(seen.sort()).toEqual(['r_1', 'r_2', 'r_3']);

    expect(await reportsCommand(ports, ['resolve', 'r_2', '--note', 'message removed'])).toBe(0);
    expect(await t.runtime.reports.get('r_2')).toMatchObject({ status: 'resolved', resolution: 'message removed' });
    lines.length = 0;
    await reportsCommand(ports, ['list', '--limit', '100']);
    expect(
      lines
        .filter((l) => !l.startsWith('#'))
        .map((l) => (JSON.parse(l) as Report).report_id)
        .sort(),
    ).toEqual(['r_1', 'r_3']);

    expect(await reportsCommand(ports, ['resolve', 'r_nope'])).toBe(1);
    await expect(reportsCommand(ports, ['frobnicate'])).rejects.toBeInstanceOf(ReportsUsageError);
    await expect(reportsCommand(ports, ['list', '--limit', '0'])).rejects.toBeInstanceOf(ReportsUsageError);
  });

  it('is a command of npm run admin: it lists through the runtime the dispatcher builds, and bad arguments are usage errors', async () => {
    expect(ADMIN_COMMANDS).toContain(reportsAdminCommand);
    const t = await createTestRuntime();
    await t.runtime.reports.create(report(7));
    const context = { target: 'local', runtime: t.runtime, env: {} } as unknown as AdminContext;
    const out = await reportsAdminCommand.run(context, ['list']);
    expect(out.split('\n').map((l) => (l.startsWith('#') ? l : (JSON.parse(l) as Report).report_id))).toEqual([
      'r_7',
      '# no more open reports',
    ]);
    await expect(reportsAdminCommand.run(context, ['frobnicate'])).rejects.toBeInstanceOf(AdminUsageError);
  });
});
