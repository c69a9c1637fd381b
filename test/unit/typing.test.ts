/**
 * core/usecases/typing.ts on fakes: the order of the steps (a throttled frame costs its one write and nothing else),
 * who is posted to, and the frame each receiver gets. test/integration/typing.test.ts runs it on DynamoDB Local.
 */
import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../core/domain/frames.js';
import { forwardTyping, type TypingPorts } from '../../core/usecases/typing.js';

const GROUP = `g:${'a'.repeat(22)}`;

function fakePorts(options: { throttle?: boolean; blockedPair?: boolean; budget?: boolean; blocks?: string[] } = {}) {
  const calls: string[] = [];
  const posts: { connectionId: string; frame: ServerFrame }[] = [];
  const connections: Record<string, string[]> = { bob: ['b1', 'b2'], carol: ['c1'], alice: ['a1', 'a2'] };
  const ports: TypingPorts = {
    typingThrottle: { claim: async () => (calls.push('claim'), options.throttle ?? true) },
    rateLimits: {
      tryAcquire: async (budget, _user, _now, weight) => (calls.push(`${budget}:${weight}`), options.budget ?? true),
    },
    groups: { members: async () => (calls.push('members'), ['alice', 'bob', 'carol', 'dave']) },
    blocks: {
      isBlockedEitherWay: async () => (calls.push('pair'), options.blockedPair ?? false),
      blockersAmong: async () => (calls.push('blockers'), new Set(options.blocks ?? [])),
      list: async () => (calls.push('list'), { userIds: [], more: false }),
    },
    presence: {
      connectionsOf: async (users) => {
        calls.push(`presence:${[...users].join(',')}`);
        return new Map(users.filter((u) => connections[u]).map((u) => [u, connections[u]!]));
      },
    },
    gateway: {
      post: async (connectionId, frame) => (posts.push({ connectionId, frame }), 'delivered'),
      disconnect: async () => undefined,
    },
    clock: { now: () => 1_000_000 },
    config: { typingIntervalMs: 3000, fanoutConcurrency: 4, maxBlocksPerUser: 1000 },
  };
  return { ports, calls, posts };
}

describe('forwardTyping', () => {
  it('a throttled frame costs the throttle write and nothing else', async () => {
    const { ports, calls, posts } = fakePorts({ throttle: false });
    const outcome = await forwardTyping(
      ports,
      { userId: 'alice' },
      { session_id: GROUP, session_type: 2, state: 'start' },
    );
    expect(outcome).toEqual({ forwarded: false, dropped: 'throttled' });
    expect(calls).toEqual(['claim']);
    expect(posts).toEqual([]);
  });

  it("one-to-one: the pair head, the budget of one, the peer's connections; session_id is the typist", async () => {
    const { ports, calls, posts } = fakePorts();
    const outcome = await forwardTyping(
      ports,
      { userId: 'alice' },
      { session_id: 'bob', session_type: 1, state: 'stop' },
    );
    expect(outcome).toEqual({ forwarded: true, receivers: 1, posted: 2 });
    expect(calls).toEqual(['claim', 'pair', 'typing:1', 'presence:bob']);
    const frame = { type: 'typing', user_id: 'alice', session_id: 'alice', session_type: 1, state: 'stop' };
    expect(posts).toEqual([
      { connectionId: 'b1', frame },
      { connectionId: 'b2', frame },
    ]);
  });

  it('a blocked pair: nothing read past the head, nothing posted', async () => {
    const { ports, calls, posts } = fakePorts({ blockedPair: true });
    const outcome = await forwardTyping(
      ports,
      { userId: 'alice' },
      { session_id: 'bob', session_type: 1, state: 'start' },
    );
    expect(outcome).toEqual({ forwarded: false, dropped: 'blocked' });
    expect(calls).toEqual(['claim', 'pair']);
    expect(posts).toEqual([]);
  });

  it('a group: the members but the typist weigh on the budget; live ones get the group id; blockers are left out', async () => {
    const { ports, calls, posts } = fakePorts({ blocks: ['carol'] });
    const outcome = await forwardTyping(
      ports,
      { userId: 'alice' },
      { session_id: GROUP, session_type: 2, state: 'start' },
    );
    expect(outcome).toEqual({ forwarded: true, receivers: 3, posted: 2 });
    expect(calls.slice(0, 4)).toEqual(['claim', 'members', 'typing:3', 'presence:bob,carol,dave']);
    expect(posts.map((p) => p.connectionId)).toEqual(['b1', 'b2']);
    expect(posts[0]!.frame).toEqual({
      type: 'typing',
      user_id: 'alice',
      session_id: GROUP,
      session_type: 2,
      state: 'start',
    });
  });

  it('over the typing budget: no presence read, nothing posted', async () => {
    const { ports, calls, posts } = fakePorts({ budget: false });
    const outcome = await forwardTyping(
      ports,
      { userId: 'alice' },
      { session_id: GROUP, session_type: 2, state: 'start' },
    );
    expect(outcome).toEqual({ forwarded: false, dropped: 'over_budget' });
    expect(calls).toEqual(['claim', 'members', 'typing:3']);
    expect(posts).toEqual([]);
  });

  it('oneself, or a group one is not in: not_member', async () => {
    const { ports, calls } = fakePorts();
    await expect(
      forwardTyping(ports, { userId: 'alice' }, { session_id: 'alice', session_type: 1, state: 'start' }),
    ).rejects.toMatchObject({ code: 'not_member' });
    expect(calls).toEqual([]);
    await expect(
      forwardTyping(ports, { userId: 'erin' }, { session_id: GROUP, session_type: 2, state: 'start' }),
    ).rejects.toMatchObject({ code: 'not_member' });
  });
});
