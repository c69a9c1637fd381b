/**
 * The fixed monthly cost the docs state is the template's: each variant of bench/fixed-cost.ts is
 * synthesized as `cdk synth` makes it, its alarms (and the metrics they read), dashboards, KMS keys and readable
 * secrets are counted and priced with bench/prices.ts, and docs/deploy.md's table must hold exactly that row; the
 * README and docs/architecture.md must state the default's and `monitoring=minimal`'s figures. Adding an alarm
 * without updating the docs fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  FIXED_COST_VARIANTS,
  fixedCostRow,
  fixedMonthlyCost,
  synthesizedTemplate,
  type FixedCost,
} from '../../bench/fixed-cost.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const CDK_CONTEXT = (JSON.parse(read('cdk.json')) as { context: Record<string, unknown> }).context;

const costs = new Map<string, FixedCost>(
  FIXED_COST_VARIANTS.map((v) => [v.name, fixedMonthlyCost(synthesizedTemplate(v.context, CDK_CONTEXT))]),
);
const dollars = (name: string) => `$${costs.get(name)!.total.toFixed(2)}`;
const [DEFAULT, WITH_EMAIL, MINIMAL] = FIXED_COST_VARIANTS.map((v) => v.name);

describe('fixed monthly cost, from the synthesized template', () => {
  it('counts what an idle deployment pays for: alarm metrics, the dashboard, the alarm key, the push secrets', () => {
    expect(costs.get(DEFAULT!)).toMatchObject({ dashboards: 1, kmsKeys: 0, secrets: 0 });
    expect(costs.get(DEFAULT!)!.alarmMetrics).toBeGreaterThan(costs.get(DEFAULT!)!.alarms);
    expect(costs.get(WITH_EMAIL!)!.kmsKeys).toBe(1);
    expect(costs.get(MINIMAL!)).toMatchObject({ dashboards: 0 });
    expect(costs.get(MINIMAL!)!.total).toBeLessThan(costs.get(DEFAULT!)!.total / 2);
    expect(costs.get(FIXED_COST_VARIANTS[4]!.name)!.secrets).toBe(3);
  });

  it.each(FIXED_COST_VARIANTS.map((v) => v.name))('docs/deploy.md states it for %s', (name) => {
    expect(read('docs/deploy.md')).toContain(fixedCostRow(name, costs.get(name)!));
  });

  it('the README and docs/architecture.md state the default and the minimal figure', () => {
    for (const doc of ['README.md', 'docs/architecture.md']) {
      expect(read(doc), doc).toContain(`${dollars(DEFAULT!)} a month`);
      expect(read(doc), doc).toContain(`${dollars(MINIMAL!)} with \`monitoring=minimal\``);
    }
  });
});
