/**
 * Reports and account exports end to end through the emulator, on DynamoDB Local and the local S3: a report reaches
 * the bus; an export runs in-process, holds every message of the fixture (sent and received, one-to-one and group)
 * and the user's rows, its URL answers 200 with that JSON, a second request the same day answers the same export_id
 * (and a fresh URL, no second export), and a user with no open connection gets the push hook's notice instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../emulator/support.js';
import { msgData, startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack | undefined;
let seq = 1;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function ask(device: Device, frame: Frame): Promise<Frame> {
  const s = seq++;
  device.client.send({ ...frame, seq: s });
  return device.client.next(
    (f) => f['seq'] === s && (f['type'] === frame['action'] || f['type'] === 'error' || f['type'] === 'msg_data_ack'),
  );
}

interface ExportDocument {
  user_id: string;
  export_id: string;
  rows: { session_key: string }[];
  groups: { group_name: string }[];
  conversations: { session_type: number; session_id: string; messages: { msg_id: number; msg_data: string }[] }[];
  message_count: number;
  truncated: boolean;
}

describe('report and account_export end to end', () => {
  it('a report is answered with its id and reaches the bus', async () => {
    t = await startTestStack();
    const mallory = await t.connect('mallory');
    const bob = await t.connect('bob');
    expect(await ask(mallory, msgData('bob', seq++, 'spam spam'))).toMatchObject({ type: 'msg_data_ack', msg_id: 1 });
    const reply = await ask(bob, {
      action: 'report',
      target: { session_id: 'mallory', session_type: 1, msg_id: 1 },
      reason: 'spam',
    });
    expect(reply).toMatchObject({ type: 'report', report_id: expect.stringMatching(/^r_/) });
    expect(t.stack.moderation.reports).toEqual([
      expect.objectContaining({ report_id: reply['report_id'], reporter_id: 'bob', reason: 'spam' }),
    ]);
  });

  it('exports every message of the user, downloads as JSON, and is one export a day', async () => {
    // The fixture sends 25 messages from alice back to back: raise the per-second budget so how fast the machine runs
    // them cannot make one rate_limited (the budget has tests of its own).
    t = await startTestStack({ env: { RATE_LIMIT_PER_SECOND: '1000' } });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const sent: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const [from, to] = i % 3 === 0 ? [bob, 'alice'] : [alice, 'bob'];
      sent.push(`pair ${i}`);
      expect(await ask(from, msgData(to, seq++, `pair ${i}`))).toMatchObject({ type: 'msg_data_ack', msg_id: i });
    }
    const group = await ask(alice, { action: 'group_create', group_name: 'friends', member_ids: ['bob', 'carol'] });
    const groupId = String(group['group_id']);
    for (let i = 1; i <= 5; i++) {
      const from = i % 2 === 0 ? bob : alice;
      expect(await ask(from, msgData(groupId, seq++, `group ${i}`, { msg_type: 17 }))).toMatchObject({ msg_id: i });
    }

    const reply = await ask(alice, { action: 'account_export' });
    expect(reply).toMatchObject({ type: 'account_export', export_id: expect.stringMatching(/^x_/) });
    const ready = await alice.client.next((f) => f['type'] === 'account_export_ready', 60_000);
    expect(ready).toMatchObject({ export_id: reply['export_id'], url: expect.stringMatching(/^http/) });
    expect(Number(ready['expires_at'])).toBeGreaterThan(Date.now() / 1000);

    const response = await fetch(String(ready['url']));
    expect(response.status).toBe(200);
    const document = (await response.json()) as ExportDocument;
    expect(document).toMatchObject({
      user_id: 'alice',
      export_id: reply['export_id'],
      message_count: 35,
      truncated: false,
    });
    const pair = document.conversations.find((c) => c.session_type === 1 && c.session_id === 'bob')!;
    expect(pair.messages.map((m) => m.msg_data)).toEqual(sent);
    const inGroup = document.conversations.find((c) => c.session_type === 2 && c.session_id === groupId)!;
    expect(inGroup.messages.map((m) => m.msg_id)).toEqual([1, 2, 3, 4, 5]);
    expect(document.groups).toEqual([expect.objectContaining({ group_name: 'friends', owner_id: 'alice' })]);
    expect(document.rows.map((r) => r.session_key)).toEqual(expect.arrayContaining(['1#bob', `2#${groupId}`]));

    // The same day: the same export_id, a fresh URL for the same object, no second export.
    const again = await ask(alice, { action: 'account_export' });
    expect(again['export_id']).toBe(reply['export_id']);
    const readyAgain = await alice.client.next((f) => f['type'] === 'account_export_ready', 60_000);
    expect(readyAgain['export_id']).toBe(reply['export_id']);
    expect((await fetch(String(readyAgain['url']))).status).toBe(200);
  });

  it('a user with no open connection gets a push through the push hook, without the URL', async () => {
    t = await startTestStack({ push: { sleep: async () => undefined } });
    const erin = await t.connect('erin');
    expect(await ask(erin, { action: 'device_token', token: 'erin-fcm', platform: 'android' })).toMatchObject({
      type: 'device_token',
    });
    await erin.client.close();
    const day = Math.floor(Date.now() / 86_400_000);
    await t.stack.moderation.startExport({ user_id: 'erin', export_id: 'x_offline', day });
    await t.stack.moderation.drain();
    expect(t.stack.moderation.exportsReady).toEqual([
      { user_id: 'erin', export_id: 'x_offline', expires_at: expect.any(Number) },
    ]);
    const push = t.stack.push!;
    await push.settled();
    expect(push.fcm.sent.map((r) => r.token)).toEqual(['erin-fcm']);
    expect(JSON.stringify(push.fcm.sent)).toContain('x_offline');
    expect(JSON.stringify(push.fcm.sent)).not.toContain('http');
  });
});
