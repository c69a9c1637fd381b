/**
 * Holes (msg_ids missing below messages that are there) and paged replies, on the Synchronizer with a fake read side
 * and a clock the test moves: a hole is asked for again after growing delays, not on every catch-up; its live frame
 * is taken whenever it comes; it is dropped for good once a message above it is older than the idempotency window;
 * holes survive a restart in the sync state; `has_more` and `remaining_msg_ids` are followed.
 */
import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_WINDOW_SECONDS, type MsgDataFrame } from '../../client/frames.js';
import { HOLE_RETRY_DELAYS_MS } from '../../client/held.js';
import { Synchronizer, type CatchUpOptions, type SyncState, type SyncTransport } from '../../client/sync.js';
import { FakeHistory } from './fake-history.js';
import type { Frame } from './fake-server.js';
import { range } from './harness.js';

/** The Synchronizer of user `history.userId` with a clock that only the test moves. */
function syncer(history: FakeHistory, options: CatchUpOptions = {}, state?: SyncState) {
  const clock = { now: history.now * 1000 };
  const delivered: { id: number; live: boolean }[] = [];
  const sync = new Synchronizer(
    options,
    (frame: MsgDataFrame, source) => delivered.push({ id: frame.msg_id, live: source === 'live' }),
    state,
    () => clock.now,
  );
  const ask = (fields: object, action: string) => Promise.resolve(history.answer({ action, ...fields }) as never);
  const transport: SyncTransport = {
    recentSessions: (fields) => ask(fields, 'recent_sessions'),
    msgList: (fields) => ask(fields, 'msg_list'),
    msgByIds: (fields) => ask(fields, 'msg_by_ids'),
  };
  const run = () =>
    sync.run(
      transport,
      history.userId,
      () => true,
      (error) => {
        throw error;
      },
    );
  /** Moves both clocks: the client's and the server's. */
  const advance = (ms: number) => {
    clock.now += ms;
    history.tick(Math.round(ms / 1000));
  };
  return { sync, run, advance, delivered, clock };
}

const askedHoles = (history: FakeHistory): number[][] =>
  history.requestsOf('msg_by_ids').map((f: Frame) => f['msg_ids'] as number[]);

describe('holes', () => {
  it('are asked for again after 1 min, 5 min, 30 min, 3 h, 12 h — not on every catch-up', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    history.skip('alice'); // 3: numbered, not stored (yet)
    history.add('alice', 1);
    const { run, advance } = syncer(history);
    await run();
    expect(askedHoles(history)).toEqual([]);

    const askedAt: number[] = [];
    let elapsed = 0;
    // A catch-up every 30 s for 17 hours: the hole is asked for on the first catch-up after each delay.
    for (let step = 0; step < (17 * 3600) / 30; step++) {
      advance(30_000);
      elapsed += 30_000;
      const before = askedHoles(history).length;
      await run();
      if (askedHoles(history).length > before) askedAt.push(elapsed);
    }
    const expected: number[] = [];
    let at = 0;
    for (const delay of [...HOLE_RETRY_DELAYS_MS]) {
      at += delay;
      expected.push(Math.ceil(at / 30_000) * 30_000);
    }
    expect(askedAt).toEqual(expected.filter((t) => t <= 17 * 3600 * 1000));
    expect(askedHoles(history).every((ids) => ids.length === 1 && ids[0] === 3)).toBe(true);
  });

  it('a hole stored late is fetched by the next due ask, once, and not live', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    history.skip('alice');
    history.add('alice', 1);
    const { run, advance, delivered } = syncer(history);
    await run();
    history.fill('alice', 3);
    advance(HOLE_RETRY_DELAYS_MS[0]);
    expect(await run()).toMatchObject({ messages: 1 });
    expect(delivered).toEqual([...[1, 2, 4].map((id) => ({ id, live: false })), { id: 3, live: false }]);
    advance(HOLE_RETRY_DELAYS_MS[1]);
    await run();
    expect(askedHoles(history)).toEqual([[3]]);
  });

  it('takes the live frame of a hole, however late, and then stops asking for it', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    history.skip('alice');
    history.add('alice', 1);
    const { sync, run, advance, delivered } = syncer(history);
    await run();
    advance(40 * 3600 * 1000);
    const late = history.fill('alice', 3);
    sync.receive(history.frameOf('alice', late) as unknown as MsgDataFrame, 'bob');
    expect(delivered.at(-1)).toEqual({ id: 3, live: true });
    await run();
    expect(askedHoles(history).flat()).not.toContain(3);
    expect(sync.state().holes).toBeUndefined();
  });

  it('is dropped for good once a message above it was created more than the idempotency window ago', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    history.skip('alice'); // 3
    history.add('alice', 1); // 4, created now
    const { sync, run, advance } = syncer(history);
    await run();
    advance(IDEMPOTENCY_WINDOW_SECONDS * 1000 - 60_000);
    await run();
    expect(sync.state().holes?.['1:alice']?.map((h) => h.msgId)).toEqual([3]);
    const asks = askedHoles(history).length;
    advance(120_000); // 4 is now older than 48 h: no resend can store 3 any more.
    await run();
    expect(sync.state().holes).toBeUndefined();
    advance(HOLE_RETRY_DELAYS_MS.at(-1)!);
    await run();
    expect(askedHoles(history)).toHaveLength(asks);
  });

  it('survive a restart in the sync state, with their schedule', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    history.skip('alice');
    history.add('alice', 1);
    const first = syncer(history);
    await first.run();
    const saved = JSON.parse(JSON.stringify(first.sync.state())) as SyncState;
    expect(saved.holes?.['1:alice']).toEqual([
      { msgId: 3, aboveTime: expect.any(Number), attempts: 0, nextAskAt: first.clock.now + HOLE_RETRY_DELAYS_MS[0] },
    ]);

    history.fill('alice', 3);
    const second = syncer(history, {}, saved);
    second.advance(HOLE_RETRY_DELAYS_MS[0]);
    expect(await second.run()).toMatchObject({ messages: 1 });
    expect(second.delivered).toEqual([{ id: 3, live: false }]);
  });
});

describe('paged replies', () => {
  it('msg_list: follows has_more through short pages (replies kept under 128 KB) to the mark', async () => {
    const history = new FakeHistory('bob');
    history.maxPerReply = 7;
    history.add('alice', 40);
    const { run, delivered } = syncer(history, {}, { lastSyncTime: 0, latestMsgIds: { '1:alice': 5 } });
    expect(await run()).toMatchObject({ messages: 35, requests: 1 + 5 });
    expect(delivered.map((d) => d.id)).toEqual(range(6, 40));
    expect(history.requestsOf('msg_list').map((f) => f['msg_id_begin'])).toEqual([40, 33, 26, 19, 12]);
  });

  it('msg_list: a short page with has_more: false ends the scan', async () => {
    const history = new FakeHistory('bob');
    history.maxPerReply = 100;
    history.add('alice', 30);
    const { run, delivered } = syncer(history, { initialMessagesPerSession: 1_000 });
    expect(await run()).toMatchObject({ messages: 30, requests: 2 });
    expect(delivered).toHaveLength(30);
  });

  it('msg_by_ids: asks again for remaining_msg_ids', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 1);
    for (let i = 0; i < 5; i++) history.skip('alice'); // 2–6
    history.add('alice', 1); // 7
    const { run, advance, delivered } = syncer(history);
    await run();
    for (const id of [2, 3, 4, 5, 6]) history.fill('alice', id);
    history.maxPerReply = 2;
    advance(HOLE_RETRY_DELAYS_MS[0]);
    expect(await run()).toMatchObject({ messages: 5 });
    expect(askedHoles(history)).toEqual([[2, 3, 4, 5, 6], [2, 3, 4], [2]]);
    expect(
      delivered
        .slice(2)
        .map((d) => d.id)
        .sort(),
    ).toEqual([2, 3, 4, 5, 6]);
  });
});

describe('a new device', () => {
  it('replays at most initialMessagesPerSession of each conversation in its first catch-up, then everything missed', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 250);
    history.add('carol', 20);
    const { run, delivered } = syncer(history);
    expect(await run()).toMatchObject({ messages: 100 + 20, requests: 1 + 1 + 1 });
    expect(delivered.every((d) => !d.live)).toBe(true);
    history.add('alice', 150);
    history.add('dave', 150); // a conversation new to this (no longer new) device: everything up to the per-session cap
    expect(await run()).toMatchObject({ messages: 150 + 150 });
  });
});
