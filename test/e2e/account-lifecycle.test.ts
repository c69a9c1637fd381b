/**
 * The account lifecycle through the emulator and the real handlers: `account_delete` (reply, kick, refusal, the
 * in-process job, tombstones on the peer's reads, the group handed over), and the operator's `npm run admin`
 * commands against local mode — suspend / unsuspend (kick, 403, connect again) and remove-message (a tombstone that
 * history and a pending redelivery both show).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../admin/cli.js';
import { TestClient } from '../emulator/support.js';
import { msgData, startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack | undefined;
let folder: string | undefined;

afterEach(async () => {
  await t?.stop();
  t = undefined;
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

async function request(device: Device, frame: Record<string, unknown>) {
  device.client.send(frame);
  return device.client.next((f) => f['seq'] === frame['seq']);
}

/** `npm run admin -- …` against the test stack (its handlers' settings in a file, as npm start writes them). */
async function admin(...args: string[]): Promise<{ code: number; out: string }> {
  folder ??= await mkdtemp(join(tmpdir(), 'admin-'));
  const envFile = join(folder, 'admin-env.json');
  await writeFile(envFile, JSON.stringify(t!.stack.env));
  const lines: string[] = [];
  const code = await runAdmin([...args, '--env', envFile], (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

const refusalOf = async (userId: string) =>
  TestClient.refusal(`${t!.stack.url}/?token=${await t!.stack.mintToken(userId)}`);

describe('account_delete', () => {
  it('answers, kicks account_deleted, refuses new connections, and leaves tombstones and a handed-over group', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    for (const seq of [1, 2]) {
      alice.client.send(msgData('bob', seq, `secret ${seq}`));
      await alice.client.next((f) => f['type'] === 'msg_data_ack' && f['seq'] === seq);
    }
    const created = await request(alice, { action: 'group_create', seq: 3, group_name: 'g', member_ids: ['bob'] });
    const groupId = created['group_id'] as string;

    expect(await request(alice, { action: 'account_delete', seq: 4 })).toEqual({ type: 'account_delete', seq: 4 });
    expect(await alice.client.next((f) => f['type'] === 'kick')).toEqual({ type: 'kick', reason: 'account_deleted' });
    await alice.client.closed;
    expect((await refusalOf('alice')).status).toBe(403);

    await t.stack.deletionJobs.deletedAccount('alice');
    const history = await request(bob, {
      action: 'msg_list',
      seq: 5,
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(history['msg_list']).toEqual([
      expect.objectContaining({ msg_id: 2, from_user_id: 'alice', msg_data: '', deleted: true }),
      expect.objectContaining({ msg_id: 1, from_user_id: 'alice', msg_data: '', deleted: true }),
    ]);
    const info = await request(bob, { action: 'group_info', seq: 6, group_id: groupId });
    expect(info).toMatchObject({ owner_id: 'bob', member_count: 1, cur_user_id_list: ['bob'] });
  });
});

describe('npm run admin', () => {
  it('suspend kicks (suspended) and refuses connections until unsuspend', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    expect(await admin('suspend', 'alice')).toEqual({ code: 0, out: 'alice: suspended; 1 connection(s) kicked' });
    expect(await alice.client.next((f) => f['type'] === 'kick')).toEqual({ type: 'kick', reason: 'suspended' });
    await alice.client.closed;
    expect((await refusalOf('alice')).status).toBe(403);
    expect(await admin('unsuspend', 'alice')).toEqual({ code: 0, out: 'alice: suspension lifted' });
    await t.barrier(await t.connect('alice'));
  });

  it('remove-message tombstones a message for everyone: history and a pending redelivery show it deleted', async () => {
    t = await startTestStack({ ackTimeoutMs: 300, sweepIntervalMs: 100 });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    alice.client.send(msgData('bob', 1, 'offensive'));
    const first = await bob.client.next((f) => f['type'] === 'msg_data');
    expect(first).toMatchObject({ msg_id: 1, msg_data: 'offensive' });
    // bob does not ack: the delivery stays pending and the sweeper sends it again.
    expect(await admin('remove-message', '1', 'bob', 'alice', '1')).toEqual({
      code: 0,
      out: 'bob↔alice msg_id 1: removed',
    });
    const again = await bob.client.next((f) => f['type'] === 'msg_data' && f['deleted'] === true);
    expect(again).toMatchObject({ msg_id: 1, from_user_id: 'alice', msg_data: '', deleted: true });
    const history = await request(alice, {
      action: 'msg_by_ids',
      seq: 2,
      session_id: 'bob',
      session_type: 1,
      msg_ids: [1],
    });
    expect(history['msg_list']).toEqual([expect.objectContaining({ msg_id: 1, msg_data: '', deleted: true })]);
    expect(await admin('remove-message', '1', 'alice', 'bob', '1')).toMatchObject({ out: /was removed already/ });
    expect(await admin('remove-message', '2', 'g:nope', 'x')).toMatchObject({ code: 2, out: /usage/ });
  });
});
