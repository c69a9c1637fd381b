/** The push sender's use-case against fake providers and stores: what is sent to whom, retries, gone tokens, mutes. */
import { describe, expect, it } from 'vitest';
import { noThrottle } from '../support/fakes.js';
import {
  collapseIdOf,
  fitPayload,
  pushContent,
  truncateUtf8,
  type PushContent,
} from '../../core/domain/push-content.js';
import type { PushProvider, SendOutcome } from '../../core/ports/push.js';
import { retryAfterMs } from '../../core/push-providers/http.js';
import { sendPushes, type PushSenderPorts } from '../../core/usecases/send-pushes.js';
import type { DeviceToken, UndeliveredMessageDetail } from '../../core/domain/push.js';

const single: UndeliveredMessageDetail = {
  reason: 'offline',
  receivers: ['bob'],
  from_user_id: 'alice',
  session_type: 1,
  session_id: 'alice',
  msg_id: 7,
  msg_type: 1,
  create_time: 1_790_000_000,
};
const group: UndeliveredMessageDetail = {
  ...single,
  receivers: ['bob', 'carol', 'dave'],
  session_type: 2,
  session_id: 'g1',
  msg_type: 17,
};

/** A provider that answers from a script (then 'sent') and records each push. */
class FakeProvider implements PushProvider {
  readonly sends: { token: string; content: PushContent }[] = [];
  constructor(
    readonly name: string,
    private readonly script: (SendOutcome | Error)[] = [],
  ) {}
  async send(token: string, content: PushContent): Promise<SendOutcome> {
    this.sends.push({ token, content });
    const next = this.script.shift() ?? { kind: 'sent' };
    if (next instanceof Error) throw next;
    return next;
  }
}

function setUp(
  options: {
    tokens?: Record<string, DeviceToken[]>;
    muted?: string[];
    fcm?: FakeProvider;
    apns?: FakeProvider;
    webpush?: FakeProvider;
    maxAttempts?: number;
  } = {},
) {
  const tokens = new Map(Object.entries(options.tokens ?? { bob: [{ token: 'bob-phone', platform: 'android' }] }));
  const removed: string[] = [];
  const waits: number[] = [];
  const providers = {
    fcm: options.fcm ?? new FakeProvider('fcm'),
    apns: options.apns ?? new FakeProvider('apns'),
    webpush: options.webpush ?? new FakeProvider('webpush'),
  };
  const ports: PushSenderPorts = {
    deviceTokens: {
      tokensOf: async (userId) => tokens.get(userId) ?? [],
      unregister: async (userId, token) => {
        removed.push(`${userId}:${token}`);
        tokens.set(
          userId,
          (tokens.get(userId) ?? []).filter((t) => t.token !== token),
        );
      },
    },
    mutes: { mutedAmong: async (_group, userIds) => new Set(userIds.filter((u) => options.muted?.includes(u))) },
    unreadTotal: async (userId) => (userId === 'bob' ? 3 : 1),
    providers,
    sleep: async (ms) => void waits.push(ms),
    random: () => 0,
    config: {
      maxAttempts: options.maxAttempts ?? 3,
      maxRetryWaitMs: 10_000,
      concurrency: 4,
      collapseWindowMs: 0,
      senderBudgetPerMinute: 1000,
    },
    throttle: noThrottle,
    now: () => Date.now(),
  };
  return { ports, providers, removed, waits, tokens };
}

describe('sendPushes', () => {
  it('sends one push per device through the platform provider, generic text and the badge, never the body it was not given', async () => {
    const { ports, providers } = setUp({
      tokens: {
        bob: [
          { token: 'a1', platform: 'android' },
          { token: 'i1', platform: 'ios' },
          { token: 'w1', platform: 'web' },
          { token: 'x1', platform: 'windows' },
        ],
      },
    });
    const tally = await sendPushes(ports, single);
    expect(tally).toEqual({ sent: 3, failed: 0, tokensRemoved: 0, muted: 0, skipped: 1, collapsed: 0, overBudget: 0 });
    for (const p of [providers.fcm, providers.apns, providers.webpush]) {
      expect(p.sends).toHaveLength(1);
      expect(p.sends[0]!.content).toMatchObject({
        title: 'alice',
        body: 'New message from alice',
        bodyIsMessage: false,
        badge: 3,
      });
    }
    expect(providers.fcm.sends[0]!.token).toBe('a1');
  });

  it('shows the body only when the event carries it', async () => {
    const { ports, providers } = setUp();
    await sendPushes(ports, { ...single, msg_data: 'lunch at 12?' });
    expect(providers.fcm.sends[0]!.content).toMatchObject({ body: 'lunch at 12?', bodyIsMessage: true });
  });

  it('leaves out the group members who muted it, and counts them', async () => {
    const tokens = {
      bob: [{ token: 'b', platform: 'android' }],
      carol: [{ token: 'c', platform: 'android' }],
      dave: [{ token: 'd', platform: 'android' }],
    };
    const { ports, providers } = setUp({ tokens, muted: ['carol'] });
    const tally = await sendPushes(ports, group);
    expect(providers.fcm.sends.map((s) => s.token).sort()).toEqual(['b', 'd']);
    expect(tally.muted).toBe(1);
    expect(providers.fcm.sends[0]!.content.title).toBe('alice in g1');
  });

  it('gives every push of a conversation the same collapse id, and other conversations another', async () => {
    const { ports, providers } = setUp();
    await sendPushes(ports, single);
    await sendPushes(ports, { ...single, msg_id: 8 });
    await sendPushes(ports, { ...single, from_user_id: 'erin', session_id: 'erin' });
    const ids = providers.fcm.sends.map((s) => s.content.collapseId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[0]).toBe(collapseIdOf(1, 'alice'));
    expect(ids[0]!.length).toBeLessThanOrEqual(32);
  });

  it('waits as Retry-After says, then backs off exponentially, then gives up after maxAttempts', async () => {
    const fcm = new FakeProvider('fcm', [{ kind: 'retry', reason: '429', afterMs: 3000 }, { kind: 'sent' }]);
    const first = setUp({ fcm });
    expect((await sendPushes(first.ports, single)).sent).toBe(1);
    expect(first.waits).toEqual([3000]);

    const failing = new FakeProvider('fcm', [
      { kind: 'retry', reason: '503' },
      new Error('socket hang up'),
      { kind: 'retry', reason: '503' },
    ]);
    const second = setUp({ fcm: failing });
    expect(await sendPushes(second.ports, single)).toMatchObject({ sent: 0, failed: 1 });
    expect(failing.sends).toHaveLength(3);
    expect(second.waits).toEqual([250, 500]); // 500 ms × 2^(try-1), jitter at its low end
  });

  it('gives a push up at once when Retry-After is longer than it may wait', async () => {
    const fcm = new FakeProvider('fcm', [{ kind: 'retry', reason: '429', afterMs: 60_000 }]);
    const { ports, waits } = setUp({ fcm });
    expect((await sendPushes(ports, single)).failed).toBe(1);
    expect(waits).toEqual([]);
    expect(fcm.sends).toHaveLength(1);
  });

  it('removes a token the provider calls gone, at the first failure, and keeps the others', async () => {
    const apns = new FakeProvider('apns', [{ kind: 'gone', reason: 'Unregistered' }]);
    const { ports, removed, tokens } = setUp({
      apns,
      tokens: {
        bob: [
          { token: 'dead', platform: 'ios' },
          { token: 'alive', platform: 'android' },
        ],
      },
    });
    expect(await sendPushes(ports, single)).toMatchObject({ sent: 1, tokensRemoved: 1, failed: 0 });
    expect(removed).toEqual(['bob:dead']);
    expect(tokens.get('bob')!.map((t) => t.token)).toEqual(['alive']);
  });

  it('fails the whole event before any push when a read fails (so a redelivery sends no duplicates)', async () => {
    const { ports, providers } = setUp({
      tokens: { bob: [{ token: 'b', platform: 'android' }], carol: [{ token: 'c', platform: 'android' }] },
    });
    const failing: PushSenderPorts = {
      ...ports,
      unreadTotal: async (u) => (u === 'carol' ? Promise.reject(new Error('throttled')) : 1),
    };
    await expect(sendPushes(failing, { ...group, receivers: ['bob', 'carol'] })).rejects.toThrow('throttled');
    expect(providers.fcm.sends).toHaveLength(0);
  });
});

describe('push content', () => {
  it('cuts a long body at a code point so the payload fits, and never cuts the generic line', () => {
    const content = pushContent({ ...single, msg_data: '😀'.repeat(3000) }, 1);
    const payload = fitPayload(content, 4096, (body) =>
      JSON.stringify({ aps: { alert: { title: content.title, body } } }),
    );
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(4096);
    const body = (JSON.parse(payload) as { aps: { alert: { body: string } } }).aps.alert.body;
    expect(body.endsWith('…')).toBe(true);
    expect(body).not.toContain('\uFFFD');
    expect(Buffer.byteLength(payload)).toBeGreaterThan(4000);
    const escaped = pushContent({ ...single, msg_data: '\u0001'.repeat(4000) }, 1);
    expect(Buffer.byteLength(fitPayload(escaped, 1000, (b) => JSON.stringify({ b })))).toBeLessThanOrEqual(1000);
    expect(() => fitPayload(pushContent(single, 1), 10, (b) => JSON.stringify({ b }))).toThrow(RangeError);
  });

  it('truncates UTF-8 between code points', () => {
    expect(truncateUtf8('aé😀b', 3)).toBe('aé');
    expect(truncateUtf8('aé😀b', 6)).toBe('aé');
    expect(truncateUtf8('aé😀b', 7)).toBe('aé😀');
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('5', 0)).toBe(5000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null, 0)).toBeUndefined();
    expect(retryAfterMs('soon', 0)).toBeUndefined();
  });
});
