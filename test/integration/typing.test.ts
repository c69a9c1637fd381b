/**
 * typing on DynamoDB Local (docs/protocol.md "Typing"): the throttle's conditional writes (one `start` per interval
 * and conversation, one `stop` after it, across Lambda instances), who gets the frame (the peer's or the other
 * members' live connections, session_id from their view; nothing across a blocked pair), the `typing` budget, the
 * refusals, and that nothing but RateLimits items is written. The manual clock stands still unless a test moves it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { registerConnection } from '../../core/usecases/connections.js';
import { forwardTyping } from '../../core/usecases/typing.js';
import { createBlocksHandler } from '../../lambdas/blocks/handler.js';
import { createTypingHandler } from '../../lambdas/typing/handler.js';
import { LIMIT_DEFAULTS } from '../../protocol/limits.js';
import { createGroupAsAlice, createTestRuntime, requestAs, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;

const INTERVAL = LIMIT_DEFAULTS.typingIntervalMs;
const typing = (userId: string, frame: Record<string, unknown>) =>
  requestAs(createTypingHandler(t.runtime), userId, { action: 'typing', ...frame });
const start = (userId: string, to: string, sessionType = 1) =>
  typing(userId, { session_id: to, session_type: sessionType, state: 'start' });
const stop = (userId: string, to: string, sessionType = 1) =>
  typing(userId, { session_id: to, session_type: sessionType, state: 'stop' });
/** Every frame posted since the last call, as "connection: frame". */
let seen = 0;
function posted(): string[] {
  const out = t.gateway.posts.slice(seen).map((p) => `${p.connectionId}: ${JSON.stringify(p.frame)}`);
  seen = t.gateway.posts.length;
  return out;
}
const typingFrame = (user: string, session: string, sessionType: number, state: string) =>
  JSON.stringify({ type: 'typing', user_id: user, session_id: session, session_type: sessionType, state });

async function connect(userId: string, connectionId = `${userId}-c`): Promise<void> {
  await registerConnection(t.runtime, { userId, connectionId });
}

beforeEach(async () => {
  t = await createTestRuntime();
  seen = 0;
  for (const user of ['alice', 'bob', 'carol']) await connect(user);
});

describe('typing one-to-one', () => {
  it("reaches the peer's live connections with the typist as session_id, and never the typist's own", async () => {
    await connect('bob', 'bob-phone');
    await connect('alice', 'alice-phone');
    await start('alice', 'bob');
    expect(posted().sort()).toEqual([
      `bob-c: ${typingFrame('alice', 'alice', 1, 'start')}`,
      `bob-phone: ${typingFrame('alice', 'alice', 1, 'start')}`,
    ]);
  });

  it('forwards one start per interval and one stop after it; a refused frame gets no reply', async () => {
    await start('alice', 'bob');
    t.clock.advance(INTERVAL - 1);
    await start('alice', 'bob'); // within the interval: dropped
    await stop('alice', 'bob');
    await stop('alice', 'bob'); // a second stop: dropped
    await start('alice', 'bob'); // still within the interval of the first start: dropped
    expect(posted()).toEqual([
      `bob-c: ${typingFrame('alice', 'alice', 1, 'start')}`,
      `bob-c: ${typingFrame('alice', 'alice', 1, 'stop')}`,
    ]);
    t.clock.advance(1);
    await start('alice', 'bob');
    expect(posted()).toEqual([`bob-c: ${typingFrame('alice', 'alice', 1, 'start')}`]);
    // The throttle is per user and conversation: bob's typing and alice's to carol are their own.
    await start('bob', 'alice');
    await start('alice', 'carol');
    expect(posted().sort()).toEqual([
      `alice-c: ${typingFrame('bob', 'bob', 1, 'start')}`,
      `carol-c: ${typingFrame('alice', 'alice', 1, 'start')}`,
    ]);
  });

  it('holds under racing frames (as on many Lambda instances): of six starts at once, one is forwarded', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        forwardTyping(t.runtime, { userId: 'alice' }, { session_id: 'bob', session_type: 1, state: 'start' }),
      ),
    );
    expect(outcomes.filter((o) => o.forwarded)).toHaveLength(1);
    expect(posted()).toHaveLength(1);
  });

  it('a stop without a start before it is not forwarded', async () => {
    await stop('alice', 'bob');
    expect(posted()).toEqual([]);
  });

  it('crosses no block, either way, and tells the typist nothing of it', async () => {
    await requestAs(createBlocksHandler(t.runtime), 'bob', { action: 'user_block', user_id: 'alice' });
    posted();
    await start('alice', 'bob');
    await start('bob', 'alice');
    expect(posted()).toEqual([]);
  });

  it('typing to oneself is not_member; a malformed frame bad_request; both with the seq', async () => {
    await typing('alice', { seq: 7, session_id: 'alice', session_type: 1, state: 'start' });
    await typing('alice', { seq: 8, session_id: 'bob', session_type: 1, state: 'typing' });
    await typing('alice', { seq: 9, session_id: 'bob', session_type: 3, state: 'start' });
    expect(t.gateway.framesTo('alice-c')).toMatchObject([
      { type: 'error', seq: 7, code: 'not_member' },
      { type: 'error', seq: 8, code: 'bad_request' },
      { type: 'error', seq: 9, code: 'bad_request' },
    ]);
    expect(t.gateway.framesTo('bob-c')).toEqual([]);
  });

  it('stores nothing but the throttle item and the budget window (RateLimits, with a TTL)', async () => {
    const before = await Promise.all(
      (['Messages', 'PendingDeliveries', 'Sessions', 'Conversations'] as const).map((n) => t.items(n)),
    );
    await start('alice', 'bob');
    await stop('alice', 'bob');
    expect(
      await Promise.all(
        (['Messages', 'PendingDeliveries', 'Sessions', 'Conversations'] as const).map((n) => t.items(n)),
      ),
    ).toEqual(before);
    const rows = await t.items('RateLimits');
    expect(rows.map((r) => String(r['bucket']).split('#')[0]).sort()).toEqual(['typing', 'typist']); // the budget's window, the throttle's item
    expect(rows.every((r) => typeof r['expires_at'] === 'number')).toBe(true);
  });
});

describe('typing in a group', () => {
  it('reaches the other members with the group id, not the typist, not a non-member', async () => {
    const groupId = await createGroupAsAlice(t, ['bob', 'carol']);
    await connect('dave');
    posted();
    await start('bob', groupId, 2);
    expect(posted().sort()).toEqual([
      `alice-c: ${typingFrame('bob', groupId, 2, 'start')}`,
      `carol-c: ${typingFrame('bob', groupId, 2, 'start')}`,
    ]);
    await typing('dave', { seq: 3, session_id: groupId, session_type: 2, state: 'start' });
    expect(posted()).toEqual([`dave-c: ${JSON.stringify(t.gateway.framesTo('dave-c').at(-1))}`]);
    expect(t.gateway.framesTo('dave-c').at(-1)).toMatchObject({ type: 'error', seq: 3, code: 'not_member' });
  });

  it('leaves out the members of a blocked pair, either way', async () => {
    const groupId = await createGroupAsAlice(t, ['bob', 'carol']);
    await requestAs(createBlocksHandler(t.runtime), 'carol', { action: 'user_block', user_id: 'bob' });
    posted();
    await start('bob', groupId, 2); // carol blocks bob: she gets nothing of his
    expect(posted()).toEqual([`alice-c: ${typingFrame('bob', groupId, 2, 'start')}`]);
    await start('carol', groupId, 2); // and bob nothing of hers
    expect(posted()).toEqual([`alice-c: ${typingFrame('carol', groupId, 2, 'start')}`]);
  });

  it("counts the receivers against the typist's typing budget a second; over it, dropped", async () => {
    t = await createTestRuntime({ MEMBER_DELIVERIES_PER_SECOND: '4', MAX_GROUP_MEMBERS: '4' });
    for (const user of ['alice', 'bob', 'carol', 'dave']) await connect(user);
    const groupId = await createGroupAsAlice(t, ['bob', 'carol', 'dave']);
    seen = t.gateway.posts.length;
    await start('alice', groupId, 2); // 3 receivers of a budget of 4
    expect(posted()).toHaveLength(3);
    await start('alice', 'bob'); // the 4th
    expect(posted()).toHaveLength(1);
    await start('alice', 'carol'); // a 5th in the same second: dropped
    expect(posted()).toEqual([]);
    t.clock.advance(1000);
    await start('alice', 'dave');
    expect(posted()).toHaveLength(1);
  });
});
