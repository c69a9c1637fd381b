/**
 * Per-user limits through the emulator and the real handlers (contract: "Limits"): at most 10 open connections per
 * user (the oldest is kicked and closed), and group caps refused `limit_exceeded` with nothing changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack | undefined;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('connections per user', () => {
  it('the 11th connection of a user is accepted and the oldest gets kick (too_many_connections) and is closed', async () => {
    t = await startTestStack({ env: { MAX_CONNECTIONS_PER_USER: '3' } });
    const devices: Device[] = [];
    for (let i = 0; i < 3; i++) devices.push(await t.connect('alice'));
    const newest = await t.connect('alice');

    expect(await devices[0]!.client.next((f) => f['type'] === 'kick')).toEqual({
      type: 'kick',
      reason: 'too_many_connections',
    });
    expect(await devices[0]!.client.closed).toMatchObject({ code: expect.any(Number) });
    // The others, the newest included, still work; the kicked connection's row is gone.
    for (const device of [...devices.slice(1), newest]) await t.barrier(device);
    const rows = t.stack.emulator.connections().map((c) => c.connectionId);
    expect(rows).not.toContain(devices[0]!.connectionId);
    expect(rows).toContain(newest.connectionId);
  });
});

describe('group caps', () => {
  it('a group past its member cap, or a user past its owned-groups cap: limit_exceeded, nothing created', async () => {
    t = await startTestStack({ env: { MAX_GROUP_MEMBERS: '3', MAX_GROUPS_OWNED: '1' } });
    const alice = await t.connect('alice');
    const request = async (frame: Record<string, unknown>) => {
      alice.client.send(frame);
      return alice.client.next((f) => f['seq'] === frame['seq']);
    };
    expect(
      await request({ action: 'group_create', seq: 1, group_name: 'big', member_ids: ['b', 'c', 'd'] }),
    ).toMatchObject({ type: 'error', code: 'limit_exceeded' });
    const created = await request({ action: 'group_create', seq: 2, group_name: 'ok', member_ids: ['b'] });
    expect(created).toMatchObject({ type: 'group_create' });
    expect(await request({ action: 'group_create', seq: 3, group_name: 'second', member_ids: ['b'] })).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
    });
    expect(
      await request({
        action: 'group_change_member',
        seq: 4,
        group_id: created['group_id'],
        change_type: 'add',
        member_ids: ['c', 'd'],
      }),
    ).toMatchObject({ type: 'error', code: 'limit_exceeded' });
    expect(await request({ action: 'group_list', seq: 5 })).toMatchObject({
      group_list: [{ group_id: created['group_id'], group_name: 'ok' }],
    });
  });
});
