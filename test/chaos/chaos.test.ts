/**
 * The short chaos run inside `npm test` (the full one is `npm run chaos`): 6 users × 2 devices, 200 messages
 * one-to-one and in a group (all of them, however long a loaded machine takes), random disconnects, and every kind of fault injected at a few percent, on the
 * run's shared DynamoDB Local, with reused client_msg_ids, worst-case 4 KB messages and tokens that expire. Nothing may
 * be lost, duplicated after the SDK, acked without being stored, or dropped for its size.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { FAULT_KINDS } from '../../chaos/faults.js';
import { failedFigures, formatResult, runChaos } from '../../chaos/harness.js';
import { renderReport } from '../../chaos/markdown.js';

describe('chaos (short run)', () => {
  it('under injected faults and disconnects: 0 lost, 0 duplicated, 0 acks for unstored messages', async () => {
    const result = await runChaos({
      dynamoEndpoint: inject('dynamoEndpoint'),
      tablePrefix: `chaos${randomUUID().slice(0, 8)}_`,
      seed: 7,
      users: 6,
      devicesPerUser: 2,
      groups: 1,
      groupSize: 4,
      messages: 200,
      ratePerSecond: 15,
      // Sized by count, not time: every message is sent however slow the machine (the cap is a hang guard only).
      maxSendPhaseMs: 600_000,
      groupShare: 0.25,
      // The rarer paths too: reused client_msg_ids, replies that must be cut to fit, tokens that expire.
      reuseShare: 0.05,
      oversizedShare: 0.03,
      tokenTtlSeconds: 15,
      faultRate: 0.05,
      disconnectsPerMinute: 40,
      settleTimeoutMs: 30_000,
    });
    const table = formatResult(result);
    expect(
      failedFigures(result).map((f) => `${f.label}: ${f.value}`),
      table,
    ).toEqual([]);
    expect(result.sent, table).toBe(200);
    expect(result.acked + result.refusedAsRequired, table).toBe(result.sent);
    for (const kind of FAULT_KINDS)
      expect(result.faults.get(kind) ?? 0, `${kind} injected\n${table}`).toBeGreaterThan(0);
    for (const label of [
      'reused keys with other content refused client_msg_id_reused',
      'worst-case 4 KB messages (24 KB of JSON each)',
      'connections kicked (token expired)',
    ]) {
      expect(result.figures.find((f) => f.label === label)?.value, `${label}\n${table}`).toBeGreaterThan(0);
    }
    // The report `npm run chaos` writes holds every figure and the verdict.
    const report = renderReport(result, { startedAt: new Date(), machine: 'this one' });
    for (const f of result.figures) expect(report).toContain(`| ${f.label} | ${f.value} |`);
    expect(report).toContain('**Every must-be-0 figure is 0.**');
  }, 600_000);
});
