/**
 * Presence on DynamoDB Local (docs/protocol.md "Presence"): the Presence item's sets and its conditional `announced`,
 * the PresenceWatchers rows (replace semantics, expiry, the Limit), and the use-cases through the real handlers —
 * statuses at once, a change announced once to live subscribers only, blocked pairs reading offline and getting
 * nothing, a flapping connection announcing nothing, bad input refused with nothing stored.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { PresenceCheck } from '../../core/domain/presence.js';
import type { PresenceCheckQueue } from '../../core/ports/presence.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { checkPresence } from '../../core/usecases/presence.js';
import { createBlocksHandler } from '../../lambdas/blocks/handler.js';
import { createConnectHandler } from '../../lambdas/connect/handler.js';
import { createPresenceHandler } from '../../lambdas/presence/handler.js';
import { createTestRuntime, requestAs, type TestRuntime } from '../support/runtime.js';

type Frame = Record<string, unknown> & { type: string };
let t: TestRuntime;

/** The checks $connect and $disconnect queued, with their delays; run() runs them all now, as the worker would. */
class RecordingChecks implements PresenceCheckQueue {
  readonly queued: { check: PresenceCheck; delaySeconds: number }[] = [];
  async enqueue(check: PresenceCheck, delaySeconds: number): Promise<void> {
    this.queued.push({ check, delaySeconds });
  }
  async run(): Promise<void> {
    for (const { check } of this.queued.splice(0)) await checkPresence(t.runtime, check.userId);
  }
}
let checks: RecordingChecks;

beforeEach(async () => {
  t = await createTestRuntime({ PRESENCE_HOLDBACK_SECONDS: '10' });
  checks = new RecordingChecks();
});

function lifecycle(userId: string, connectionId: string, eventType: 'CONNECT' | 'DISCONNECT') {
  const handler = createConnectHandler({ ...t.runtime, presenceChecks: checks });
  return handler({
    requestContext: { connectionId, routeKey: `$${eventType.toLowerCase()}`, eventType, authorizer: { userId } },
  } as unknown as WebSocketEvent);
}
const connect = (userId: string, connectionId = `${userId}-c`) => lifecycle(userId, connectionId, 'CONNECT');
const disconnect = (userId: string, connectionId = `${userId}-c`) => lifecycle(userId, connectionId, 'DISCONNECT');

async function ask(user: string, frame: Record<string, unknown>): Promise<Frame> {
  await requestAs(createPresenceHandler(t.runtime), user, { seq: 1, ...frame });
  return t.gateway.framesTo(`${user}-c`).at(-1) as Frame;
}
const presenceFrames = (connectionId: string) =>
  t.gateway.framesTo(connectionId).filter((f) => f.type === 'presence') as Frame[];

describe('the Presence item', () => {
  it('keeps away connections in a set the removal clears, and computes the status from both sets', async () => {
    const added = await t.runtime.presence.add('bob', 'b1', 10);
    expect(added).toEqual({ connectionIds: ['b1'], awayIds: [], announced: 'offline' });
    await t.runtime.presence.add('bob', 'b2', 10);
    expect((await t.runtime.presence.setAway('bob', 'b1', true)).awayIds).toEqual(['b1']);
    // Not an open connection of bob's: left as it is.
    expect((await t.runtime.presence.setAway('bob', 'x9', true)).awayIds).toEqual(['b1']);
    expect(await ask('alice', { action: 'users_stat', user_ids: ['bob'] })).toMatchObject({
      user_stat_list: [{ user_id: 'bob', status: 'online' }],
    });
    await t.runtime.presence.setAway('bob', 'b2', true);
    expect(await ask('alice', { action: 'users_stat', user_ids: ['bob'] })).toMatchObject({
      user_stat_list: [{ user_id: 'bob', status: 'away' }],
    });
    const removed = await t.runtime.presence.remove('bob', 'b1');
    expect(removed).toMatchObject({ connectionIds: ['b2'], awayIds: ['b2'] });
  });

  it('moves `announced` only from the status it was: of two concurrent checks one wins', async () => {
    await t.runtime.presence.add('bob', 'b1', 10);
    const both = await Promise.all([
      t.runtime.presence.markAnnounced('bob', 'offline', 'online'),
      t.runtime.presence.markAnnounced('bob', 'offline', 'online'),
    ]);
    expect(both.sort()).toEqual([false, true]);
    expect(await t.runtime.presence.markAnnounced('bob', 'away', 'offline')).toBe(false);
    expect((await t.runtime.presence.stateOf('bob')).announced).toBe('online');
  });
});

describe('presence_subscribe', () => {
  it('replaces the connection subscription: rows written for ids added, deleted for ids dropped', async () => {
    await ask('alice', { action: 'presence_subscribe', user_ids: ['bob', 'carol', 'bob'] });
    const rowsOf = async () =>
      (await t.items('PresenceWatchers'))
        .filter((r) => r['watcher'] === 'alice-c')
        .map((r) => r['user_id'])
        .sort();
    expect(await rowsOf()).toEqual(['bob', 'carol']);
    const before = (await t.items('PresenceWatchers')).find((r) => r['user_id'] === 'carol');

    t.clock.advance(60_000);
    await ask('alice', { action: 'presence_subscribe', user_ids: ['carol', 'dave'] });
    expect(await rowsOf()).toEqual(['carol', 'dave']);
    // carol's row was kept, not rewritten: the same expiry as the first subscribe.
    const after = (await t.items('PresenceWatchers')).find((r) => r['user_id'] === 'carol');
    expect(after?.['expires_at']).toBe(before?.['expires_at']);
    const list = (await t.items('PresenceWatchers')).find((r) => r['user_id'] === 'conn#alice-c');
    expect(list).toMatchObject({ user_ids: ['carol', 'dave'] });
  });

  it('renews every row once the subscription is past half its life', async () => {
    await ask('alice', { action: 'presence_subscribe', user_ids: ['bob'] });
    const first = (await t.items('PresenceWatchers')).find((r) => r['user_id'] === 'bob')?.['expires_at'] as number;
    t.clock.advance(61 * 60_000);
    await ask('alice', { action: 'presence_subscribe', user_ids: ['bob'] });
    const renewed = (await t.items('PresenceWatchers')).find((r) => r['user_id'] === 'bob')?.['expires_at'];
    expect(renewed).toBe(first + 61 * 60);
  });

  it('replies with the statuses now; a blocked pair reads offline either way', async () => {
    await connect('bob');
    await connect('mallory');
    await requestAs(createBlocksHandler(t.runtime), 'mallory', { action: 'user_block', seq: 1, user_id: 'alice' });
    expect(await ask('alice', { action: 'presence_subscribe', user_ids: ['bob', 'mallory', 'zed'] })).toEqual({
      type: 'presence_subscribe',
      seq: 1,
      user_stat_list: [
        { user_id: 'bob', status: 'online' },
        { user_id: 'mallory', status: 'offline' },
        { user_id: 'zed', status: 'offline' },
      ],
    });
  });

  it.each([
    ['no ids', { user_ids: [] }],
    ['101 ids', { user_ids: Array.from({ length: 101 }, (_, i) => `u${i}`) }],
    ['a bad id', { user_ids: ['bob', 'not an id'] }],
    ['no list', {}],
  ])('refuses %s with bad_request and stores nothing', async (_, fields) => {
    expect(await ask('alice', { action: 'presence_subscribe', ...fields })).toMatchObject({ code: 'bad_request' });
    expect(await ask('alice', { action: 'users_stat', ...fields })).toMatchObject({ code: 'bad_request' });
    expect(await t.items('PresenceWatchers')).toEqual([]);
  });

  it('refuses a presence_set other than online or away, and stores nothing', async () => {
    await connect('alice');
    const before = await t.items('Presence');
    expect(await ask('alice', { action: 'presence_set', status: 'offline' })).toMatchObject({ code: 'bad_request' });
    expect(await t.items('Presence')).toEqual(before);
  });
});

describe('announcing a change', () => {
  beforeEach(async () => {
    for (const user of ['alice', 'carol', 'mallory']) {
      await connect(user);
      await ask(user, { action: 'presence_subscribe', user_ids: ['bob'] });
    }
    await requestAs(createBlocksHandler(t.runtime), 'bob', { action: 'user_block', seq: 1, user_id: 'mallory' });
    await checks.run();
  });

  it('announces a connect at once, an away, and an offline held back, each once, to unblocked subscribers', async () => {
    await connect('bob');
    expect(checks.queued.map((q) => q.delaySeconds)).toEqual([0]);
    await checks.run();
    await checks.run(); // a duplicate check (SQS standard) announces nothing
    expect(presenceFrames('alice-c')).toEqual([{ type: 'presence', user_id: 'bob', status: 'online' }]);
    expect(presenceFrames('carol-c')).toHaveLength(1);
    expect(presenceFrames('mallory-c')).toEqual([]);

    await requestAs(createPresenceHandler(t.runtime), 'bob', { action: 'presence_set', seq: 2, status: 'away' });
    expect(presenceFrames('alice-c').at(-1)).toMatchObject({ status: 'away' });

    await disconnect('bob');
    expect(checks.queued.map((q) => q.delaySeconds)).toEqual([10]);
    await checks.run();
    expect(presenceFrames('alice-c').map((f) => f['status'])).toEqual(['online', 'away', 'offline']);
    expect(presenceFrames('mallory-c')).toEqual([]);
  });

  it('announces nothing for a connection that closes and comes back before the held check runs', async () => {
    await connect('bob');
    await checks.run();
    await disconnect('bob');
    await connect('bob', 'bob-c2');
    // The reconnect finds `online` announced: no check of its own; the held offline check finds bob online.
    expect(checks.queued.map((q) => q.delaySeconds)).toEqual([10]);
    await checks.run();
    expect(presenceFrames('alice-c').map((f) => f['status'])).toEqual(['online']);
  });

  it('deletes the row of a subscriber that is gone, and skips expired rows', async () => {
    t.gateway.gone.add('carol-c');
    await connect('bob');
    await checks.run();
    const rows = await t.items('PresenceWatchers');
    expect(rows.filter((r) => r['user_id'] === 'bob').map((r) => r['watcher'])).toEqual(
      expect.not.arrayContaining(['carol-c']),
    );
    const { watchers } = await t.runtime.watchers.watchersOf('bob', Math.floor(t.clock.now() / 1000) + 3 * 3600, 10);
    expect(watchers).toEqual([]);
  });

  it('reads at most the Limit of subscribers and says there were more', async () => {
    const { watchers, more } = await t.runtime.watchers.watchersOf('bob', Math.floor(t.clock.now() / 1000), 2);
    expect(watchers).toHaveLength(2);
    expect(more).toBe(true);
  });
});

describe('presence_set announcements', () => {
  it("count their posts against the user's receivers budget: flipping away and back cannot fan out without bound", async () => {
    t = await createTestRuntime({ MEMBER_DELIVERIES_PER_SECOND: '5', MAX_GROUP_MEMBERS: '6' });
    for (const watcher of ['alice', 'carol', 'dave']) {
      await connect(watcher);
      await ask(watcher, { action: 'presence_subscribe', user_ids: ['bob'] });
    }
    await connect('bob');
    await checks.run();
    const heard = () => ['alice-c', 'carol-c', 'dave-c'].map((c) => presenceFrames(c).length);
    expect(heard()).toEqual([1, 1, 1]); // bob online

    // Within one second: the first flip's 3 posts fit the budget of 5; the next three flips' would not.
    for (const status of ['away', 'online', 'away', 'online']) await ask('bob', { action: 'presence_set', status });
    expect(heard()).toEqual([2, 2, 2]);
    expect((await t.runtime.presence.stateOf('bob')).announced).toBe('online');

    t.clock.advance(1_000);
    await ask('bob', { action: 'presence_set', status: 'away' });
    expect(heard()).toEqual([3, 3, 3]);
    expect(presenceFrames('alice-c').at(-1)).toMatchObject({ user_id: 'bob', status: 'away' });
  });
});

describe('presence_subscribe churn', () => {
  it('counts the rows it writes and deletes against a budget a minute: a client cannot churn rows without bound', async () => {
    const list = (from: number) => Array.from({ length: 100 }, (_, i) => `u${from + i}`);
    const listItem = async () =>
      (await t.items('PresenceWatchers')).find((r) => r['user_id'] === 'conn#alice-c')?.['user_ids'];
    // 100 rows, then 200 (100 put, 100 deleted) a swap: 900 rows in the minute.
    for (const from of [0, 100, 0, 100, 0]) {
      expect(await ask('alice', { action: 'presence_subscribe', user_ids: list(from) })).toMatchObject({
        type: 'presence_subscribe',
      });
    }
    expect(await ask('alice', { action: 'presence_subscribe', user_ids: list(100) })).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    });
    expect(await listItem()).toEqual(list(0));

    t.clock.advance(60_000);
    expect(await ask('alice', { action: 'presence_subscribe', user_ids: list(100) })).toMatchObject({
      type: 'presence_subscribe',
    });
    expect(await listItem()).toEqual(list(100));
  });
});
