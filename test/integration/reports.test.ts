/**
 * `report` on DynamoDB Local (docs/moderation.md): stored once per reporter and target with a snapshot of what was
 * reported, a repeat (whatever its reason) and two racing reports answer one id and write nothing new, the daily cap,
 * membership, and the event on the bus.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Report } from '../../core/domain/report.js';
import type { ExportJob, ExportReadyDetail, ModerationPublisher } from '../../core/ports/moderation.js';
import { createReportsHandler } from '../../lambdas/reports/handler.js';
import {
  createGroupAsAlice,
  createTestRuntime,
  msgData,
  requestAs,
  sendAndDeliver,
  type TestRuntime,
} from '../support/runtime.js';

class RecordingModeration implements ModerationPublisher {
  readonly reports: Report[] = [];
  readonly jobs: ExportJob[] = [];
  readonly ready: ExportReadyDetail[] = [];
  async publishReport(report: Report) {
    this.reports.push(report);
  }
  async startExport(job: ExportJob) {
    this.jobs.push(job);
  }
  async exportReady(detail: ExportReadyDetail) {
    this.ready.push(detail);
  }
}

let t: TestRuntime;
let bus: RecordingModeration;
let handler: ReturnType<typeof createReportsHandler>;

const send = (from: string, to: string, text: string, msgType = 1) =>
  sendAndDeliver(t.runtime, {
    userId: from,
    connectionId: `${from}-c`,
    body: msgData({ to_session_id: to, msg_data: text, msg_type: msgType }),
  });

async function report(userId: string, fields: Record<string, unknown>) {
  await requestAs(handler, userId, { action: 'report', seq: 1, ...fields });
  return t.gateway.framesTo(`${userId}-c`).at(-1) as Record<string, unknown>;
}

describe('report', () => {
  beforeEach(async () => {
    t = await createTestRuntime({ MAX_REPORTS_PER_DAY: '3' });
    bus = new RecordingModeration();
    handler = createReportsHandler({ ...t.runtime, moderation: bus });
  });

  it('stores a message report with its snapshot and publishes it; a repeat with another reason answers the same id and writes nothing', async () => {
    await send('mallory', 'bob', 'buy cheap pills');
    const first = await report('bob', {
      target: { session_id: 'mallory', session_type: 1, msg_id: 1 },
      reason: 'spam',
      text: 'again',
    });
    expect(first).toMatchObject({ type: 'report', seq: 1, report_id: expect.stringMatching(/^r_/) });
    const [stored] = await t.items('Reports');
    expect(stored).toMatchObject({
      report_id: first['report_id'],
      reporter_id: 'bob',
      reason: 'spam',
      text: 'again',
      status: 'open',
      target: { kind: 'message', session_id: 'mallory', msg_id: 1, user_id: 'mallory' },
      snapshot: [{ msg_id: 1, from_user_id: 'mallory', msg_data: 'buy cheap pills', msg_type: 1 }],
    });
    expect(bus.reports.map((r) => r.report_id)).toEqual([first['report_id']]);

    const rateRows = (await t.items('RateLimits')).length;
    const again = await report('bob', {
      target: { session_id: 'mallory', session_type: 1, msg_id: 1 },
      reason: 'abuse',
    });
    expect(again['report_id']).toBe(first['report_id']);
    expect(await t.items('Reports')).toEqual([stored]);
    expect(bus.reports).toHaveLength(1);
    // Nothing taken from the daily cap either: the repeat wrote no new window.
    expect((await t.items('RateLimits')).length).toBe(rateRows);
  });

  it('two racing reports of the same target by the same reporter are one item and one id', async () => {
    await send('mallory', 'bob', 'x');
    const target = { session_id: 'mallory', session_type: 1, msg_id: 1 };
    await Promise.all([
      requestAs(handler, 'bob', { action: 'report', target, reason: 'spam' }),
      requestAs(handler, 'bob', { action: 'report', target, reason: 'abuse' }),
    ]);
    const ids = t.gateway
      .framesTo('bob-c')
      .filter((f) => f.type === 'report')
      .map((f) => (f as Record<string, unknown>)['report_id']);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    expect(await t.items('Reports')).toHaveLength(1);
    expect(bus.reports).toHaveLength(1);
  });

  it('a user report keeps a bounded snapshot: the reported user’s newest one-to-one messages to the reporter', async () => {
    for (let i = 1; i <= 7; i++) await send('mallory', 'bob', `m${i}`);
    await send('bob', 'mallory', 'stop');
    const reply = await report('bob', { target: { user_id: 'mallory' }, reason: 'abuse' });
    const [stored] = await t.items('Reports');
    expect(stored!['report_id']).toBe(reply['report_id']);
    expect((stored!['snapshot'] as { msg_data: string }[]).map((m) => m.msg_data)).toEqual([
      'm7',
      'm6',
      'm5',
      'm4',
      'm3',
    ]);
  });

  it('caps reports a day per reporter (rate_limited, nothing stored); another reporter has their own cap', async () => {
    for (let i = 1; i <= 4; i++) await send('mallory', 'bob', `m${i}`);
    for (let i = 1; i <= 3; i++) {
      expect(
        await report('bob', { target: { session_id: 'mallory', session_type: 1, msg_id: i }, reason: 'spam' }),
      ).toMatchObject({ type: 'report' });
    }
    expect(
      await report('bob', { target: { session_id: 'mallory', session_type: 1, msg_id: 4 }, reason: 'spam' }),
    ).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    });
    expect(await t.items('Reports')).toHaveLength(3);
    expect(await report('carol', { target: { user_id: 'mallory' }, reason: 'spam' })).toMatchObject({ type: 'report' });
    // The next day is a new window.
    t.clock.advance(86_400_000);
    expect(
      await report('bob', { target: { session_id: 'mallory', session_type: 1, msg_id: 4 }, reason: 'spam' }),
    ).toMatchObject({ type: 'report' });
  });

  it('refuses a group message of a group the reporter is not in (not_member), an unknown message, and oneself', async () => {
    const groupId = await createGroupAsAlice(t, ['bob']);
    await send('alice', groupId, 'hello group', 17);
    expect(
      await report('eve', { target: { session_id: groupId, session_type: 2, msg_id: 1 }, reason: 'spam' }),
    ).toMatchObject({ code: 'not_member' });
    expect(
      await report('bob', { target: { session_id: groupId, session_type: 2, msg_id: 1 }, reason: 'spam' }),
    ).toMatchObject({ type: 'report' });
    expect(
      await report('bob', { target: { session_id: 'alice', session_type: 1, msg_id: 9 }, reason: 'spam' }),
    ).toMatchObject({ code: 'bad_request' });
    expect(await report('bob', { target: { user_id: 'bob' }, reason: 'spam' })).toMatchObject({ code: 'bad_request' });
    expect(await report('bob', { target: { user_id: 'alice' }, reason: 'nope' })).toMatchObject({
      code: 'bad_request',
    });
    expect(
      await report('bob', { target: { user_id: 'alice' }, reason: 'other', text: 'x'.repeat(1001) }),
    ).toMatchObject({ code: 'bad_request' });
    expect(await t.items('Reports')).toHaveLength(1);
  });
});

describe('account_export request', () => {
  beforeEach(async () => {
    t = await createTestRuntime();
    bus = new RecordingModeration();
  });

  const ask = async (moderation: ModerationPublisher) => {
    await requestAs(createReportsHandler({ ...t.runtime, moderation }), 'alice', { action: 'account_export', seq: 2 });
    return t.gateway.framesTo('alice-c').at(-1) as Record<string, unknown>;
  };

  it('claims one export a day: a second request answers the same id and only re-sends a written one', async () => {
    const first = await ask(bus);
    expect(first).toMatchObject({ type: 'account_export', export_id: expect.stringMatching(/^x_/) });
    expect(bus.jobs).toEqual([expect.objectContaining({ user_id: 'alice', export_id: first['export_id'] })]);
    expect((await ask(bus))['export_id']).toBe(first['export_id']);
    expect(bus.jobs).toHaveLength(1); // still being written: nothing more
    const [job] = bus.jobs;
    await t.runtime.exportClaims.markReady({ userId: 'alice', day: job!.day }, 'exports/alice/x.json', 1);
    expect((await ask(bus))['export_id']).toBe(first['export_id']);
    expect(bus.jobs[1]).toEqual({ ...job, resend: true });
  });

  it('a request whose job cannot be handed over is refused and leaves no claim behind', async () => {
    const failing: ModerationPublisher = {
      ...bus,
      publishReport: async () => undefined,
      exportReady: async () => undefined,
      startExport: async () => {
        throw new Error('bus down');
      },
    };
    expect(await ask(failing)).toMatchObject({ type: 'error', code: 'internal' });
    expect((await t.items('Sessions')).filter((r) => String(r['session_key']).startsWith('x#'))).toEqual([]);
    const retried = await ask(bus);
    expect(retried).toMatchObject({ type: 'account_export' });
    expect(bus.jobs).toHaveLength(1);
  });
});
