/** The chaos run as markdown: the report `npm run chaos` writes to chaos/results/latest.md. */
import { ratesFor } from './faults.js';
import type { ChaosOptions } from './context.js';
import { failedFigures } from './harness.js';
import type { ChaosResult } from './report.js';

/** Where the run happened, for the report's header. */
export interface RunPlace {
  readonly startedAt: Date;
  readonly machine: string;
}

/**
 * The run as markdown (chaos/results/latest.md, written by `npm run chaos`): what was asked, where it ran, the verdict,
 * every figure with the must-be-0 ones marked, and where the Lambda crashes were injected.
 */
export function renderReport(result: ChaosResult, place: RunPlace): string {
  const o = result.options;
  const failed = failedFigures(result);
  const lines = [
    '# Chaos run: teamtalk-serverless in local mode',
    '',
    `Run ${place.startedAt.toISOString()} in ${Math.round(result.durationMs / 1000)} s by \`npm run chaos\` ` +
      '(chaos/run.ts; what it does: README, "Reliability"). Loopback only: DynamoDB Local, the API Gateway emulator ' +
      'and the SDK clients in one process.',
    '',
    `Machine: ${place.machine}.`,
    '',
    '## Settings',
    '',
    ...table(['setting', 'value'], settingRows(o)),
    '',
    '## Verdict',
    '',
    failed.length === 0
      ? '**Every must-be-0 figure is 0.**'
      : `**FAILED:** ${failed.map((f) => `${f.label} = ${f.value}`).join('; ')}.`,
    '',
    '## Figures',
    '',
    ...table(
      ['figure', 'value', 'must be'],
      result.figures.map((f) => [f.label, f.value, f.mustBeZero ? (f.value === 0 ? '0: ok' : '0: **FAIL**') : '']),
    ),
  ];
  if (result.crashPoints.size > 0) {
    const points = [...result.crashPoints].sort((a, b) => b[1] - a[1]);
    lines.push('', '## Lambda crashes by point', '', ...table(['route port.method:before|after', 'crashes'], points));
  }
  if (result.violations.length > 0) lines.push('', '## Violations', '', ...result.violations.map((v) => `- ${v}`));
  return `${lines.join('\n')}\n`;
}

/** A markdown table; the first column left-aligned, the others right-aligned. */
function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const cell = (v: string | number) => String(v).replaceAll('|', '\\|');
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function settingRows(o: ChaosOptions): (string | number)[][] {
  const rates = Object.entries(ratesFor(o.faultRate, o.rates)).map(([kind, rate]) => `${kind} ${+rate.toFixed(4)}`);
  return [
    ['seed', o.seed],
    ['users × devices', `${o.users} × ${o.devicesPerUser}`],
    ['groups × members', `${o.groups} × ${o.groupSize}`],
    ['messages', o.messages],
    ['sends started per second, at most', o.ratePerSecond],
    ['send phase cap, s', o.maxSendPhaseMs / 1000],
    ['share of sends to groups', o.groupShare],
    ['random disconnects per minute', o.disconnectsPerMinute],
    ['fault rate', o.faultRate],
    ['fault rates per call, by kind', rates.join(', ')],
  ];
}
