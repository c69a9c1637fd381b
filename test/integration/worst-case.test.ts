/**
 * What one frame can cost at the largest input the limits allow, counted on DynamoDB Local (write and read units as
 * DynamoDB reports them) and on the recording gateway (@connections posts), for every route — and from those and the
 * default rates, the most one user can cost in an hour. A route whose worst case grows past its stated bound fails
 * here. The stated bounds are the table in README.md ("What one user can cost"), checked against this one.
 *
 * Group figures are measured with GROUP_MEMBERS members of one connection each (a tenth of the cap, to keep `npm
 * test` quick; `npm run test:deep` measures the full 1,000) and stated per member and per connection.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../protocol/limits.js';
import { PRICES } from '../../bench/prices.js';
import { CapacityMeter } from '../../core/store/consumed-capacity.js';
import { registerConnection } from '../../core/usecases/connections.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { ROUTE_FUNCTIONS, type RouteFunctionId } from '../../lambdas/route-handlers.js';
import { createTestRuntime, msgData, type TestRuntime } from '../support/runtime.js';

const GROUP_MEMBERS = process.env['TEST_DEEP'] ? 1000 : 100;
const CONNECTIONS = LIMIT_DEFAULTS.maxConnectionsPerUser;
/** 4096 bytes of UTF-8: the largest msg_data (its item is about 4.4 KB). */
const BIG = 'x'.repeat(LIMIT_DEFAULTS.maxMsgBytes);

interface Cost {
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly posts: number;
}

let t: TestRuntime;
const meter = new CapacityMeter();
const measured = new Map<string, Cost>();

async function call(
  fn: RouteFunctionId,
  userId: string,
  connectionId: string,
  frame: Record<string, unknown>,
): Promise<Cost> {
  meter.reset();
  const postsBefore = t.gateway.posts.length;
  await ROUTE_FUNCTIONS[fn].create(t.runtime)({
    body: JSON.stringify(frame),
    requestContext: { connectionId, routeKey: String(frame['action']), eventType: 'MESSAGE', authorizer: { userId } },
  } as unknown as WebSocketEvent);
  const { writeUnits, readUnits } = meter.totals();
  return { writeUnits, readUnits, posts: t.gateway.posts.length - postsBefore };
}

async function connectAll(userId: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${userId}-c${i}`);
  for (const connectionId of ids) await registerConnection(t.runtime, { userId, connectionId });
  return ids;
}

function lastReply(connectionId: string): Record<string, unknown> {
  return t.gateway.framesTo(connectionId).at(-1) as unknown as Record<string, unknown>;
}

beforeAll(async () => {
  t = await createTestRuntime({ MAX_GROUPS_OWNED: '1000' }, { capacityMeter: meter });
  await connectAll('alice', CONNECTIONS);
  await connectAll('bob', CONNECTIONS);
  // Members for the group routes: one connection each.
  for (let i = 0; i < GROUP_MEMBERS; i++)
    await registerConnection(t.runtime, { userId: `m${i}`, connectionId: `m${i}-c0` });
}, 600_000);

afterAll(() => {
  const rows = [...measured].map(
    ([route, c]) =>
      `${route.padEnd(58)} ${String(c.writeUnits).padStart(7)} W ${String(c.readUnits).padStart(7)} R ${String(c.posts).padStart(6)} posts`,
  );
  console.info(`[worst case per frame, groups of ${GROUP_MEMBERS}]\n${rows.join('\n')}`);
});

/** The stated bound of each route, as a function of the group's members M and their connections C. */
const BOUNDS: Record<string, (m: number, c: number) => Cost> = {
  // rate 1, counter 1, claim 1, message 5 (4.4 KB), session rows 2, index 4, marks 2, pending 2C−1; queries 2.
  'msg_data, single chat (4 KB, both users at the connection cap)': (_m, c) => ({
    writeUnits: 16 + 2 * c - 1,
    readUnits: 2,
    posts: 2 * c,
  }),
  // rate, counter, claim, message 5, marker 2, sender mark, index 2M + mark, pending M·C; membership, member count
  // (½, eventually consistent), members, presence, the sender's blockers (1: a strongly consistent Query, which
  // DynamoDB Local counts as 0 when empty).
  'msg_data, group (4 KB, first message of the day)': (m, c) => ({
    writeUnits: 12 + 2 * m + m * c,
    readUnits: 3.5 + m + Math.ceil(m / 50),
    posts: 1 + m * c,
  }),
  'msg_data_ack, 100 ids': () => ({ writeUnits: 200, readUnits: 100, posts: 0 }),
  // Reads: their rate-limit write (the read budget) and the reads.
  'msg_list, 100 messages of 4 KB': () => ({ writeUnits: 1, readUnits: 120, posts: 1 }),
  'msg_by_ids, 100 messages of 4 KB': () => ({ writeUnits: 1, readUnits: 110, posts: 1 }),
  'recent_sessions, a page (100 sessions)': () => ({ writeUnits: 1, readUnits: 420, posts: 1 }),
  'unread_cnt, a page (100 sessions)': () => ({ writeUnits: 1, readUnits: 420, posts: 1 }),
  'msg_read_ack (both users at the connection cap)': (_m, c) => ({ writeUnits: 2, readUnits: 6, posts: 2 * c }),
  'group_create, M members': (m, c) => ({
    writeUnits: 8 + 4 * m,
    readUnits: 2 + m + Math.ceil(m / 50),
    posts: 1 + m * c,
  }),
  'group_change_member, remove M − 1 members': (m, c) => ({
    writeUnits: 8 + 6 * m,
    readUnits: 4 + m + Math.ceil(m / 50),
    posts: 1 + m * c,
  }),
  'group_list, a page (100 groups)': () => ({ writeUnits: 1, readUnits: 60, posts: 1 }),
  'group_info, M members': (m) => ({ writeUnits: 1, readUnits: 2 + Math.ceil(m / 50), posts: 1 }),
  'device_token (1,024 characters, the user at its cap)': () => ({ writeUnits: 10, readUnits: 6, posts: 1 }),
  // rate 1; a transaction of 4 small items (the blocker's row, the reverse row, the cap's counter, the pair's head):
  // 2 units each.
  'user_block (or user_unblock)': () => ({ writeUnits: 9, readUnits: 0, posts: 1 }),
  // The throttle's item and the typing budget; the pair's head and the peer's Presence item; no reply.
  'typing, single chat (both users at the connection cap)': (_m, c) => ({ writeUnits: 2, readUnits: 2, posts: c }),
  // Writes as above; the members (a Query), their Presence items, the typist's two block indexes (Queries).
  'typing, group of M': (m, c) => ({ writeUnits: 2, readUnits: 3 + m + Math.ceil(m / 50), posts: (m - 1) * c }),
};

function expectWithin(route: string, cost: Cost, m = GROUP_MEMBERS, c = 1): void {
  measured.set(route, cost);
  const bound = BOUNDS[route]!(m, c);
  expect(cost.writeUnits, `${route}: write units`).toBeLessThanOrEqual(bound.writeUnits);
  expect(cost.readUnits, `${route}: read units`).toBeLessThanOrEqual(bound.readUnits);
  expect(cost.posts, `${route}: posts`).toBeLessThanOrEqual(bound.posts);
}

describe('worst case of one frame per route, at the largest input the limits allow', () => {
  it('msg_data', async () => {
    const single = await call(
      'send',
      'alice',
      'alice-c0',
      JSON.parse(msgData({ to_session_id: 'bob', msg_data: BIG, client_msg_id: 'w-1' })) as Record<string, unknown>,
    );
    expectWithin('msg_data, single chat (4 KB, both users at the connection cap)', single, 0, CONNECTIONS);

    const members = Array.from({ length: GROUP_MEMBERS - 1 }, (_, i) => `m${i + 1}`);
    await call('groups', 'm0', 'm0-c0', { action: 'group_create', group_name: 'big', member_ids: members });
    const groupId = lastReply('m0-c0')['group_id'] as string;
    const group = await call(
      'send',
      'm0',
      'm0-c0',
      JSON.parse(msgData({ to_session_id: groupId, msg_type: 17, msg_data: BIG })) as Record<string, unknown>,
    );
    expectWithin('msg_data, group (4 KB, first message of the day)', group);
  }, 300_000);

  it('msg_data_ack, msg_list, msg_by_ids', async () => {
    for (let i = 0; i < 100; i++) {
      if (i % LIMIT_DEFAULTS.rateLimitPerSecond === 0) t.clock.advance(1000); // within alice's rate
      await call(
        'send',
        'alice',
        'alice-c0',
        JSON.parse(msgData({ to_session_id: 'bob', msg_data: BIG })) as Record<string, unknown>,
      );
    }
    expect(lastReply('alice-c0')).toMatchObject({ type: 'msg_data_ack', msg_id: 101 });
    const ids = Array.from({ length: 100 }, (_, i) => i + 2);
    expectWithin(
      'msg_data_ack, 100 ids',
      await call('ack', 'bob', 'bob-c0', {
        action: 'msg_data_ack',
        msg_ids: ids,
        session_id: 'alice',
        session_type: 1,
      }),
    );
    expectWithin(
      'msg_list, 100 messages of 4 KB',
      await call('sync', 'bob', 'bob-c0', {
        action: 'msg_list',
        session_id: 'alice',
        session_type: 1,
        msg_id_begin: 0,
        msg_cnt: 100,
      }),
    );
    expectWithin(
      'msg_by_ids, 100 messages of 4 KB',
      await call('sync', 'bob', 'bob-c0', { action: 'msg_by_ids', session_id: 'alice', session_type: 1, msg_ids: ids }),
    );
    expectWithin(
      'msg_read_ack (both users at the connection cap)',
      await call('sync', 'bob', 'bob-c0', { action: 'msg_read_ack', session_id: 'alice', session_type: 1, msg_id: 50 }),
      0,
      CONNECTIONS,
    );
  }, 300_000);

  it('recent_sessions and unread_cnt', async () => {
    for (let i = 0; i < 110; i++)
      await call(
        'send',
        `p${i}`,
        `p${i}-c`,
        JSON.parse(msgData({ to_session_id: 'carol', msg_data: BIG })) as Record<string, unknown>,
      );
    expectWithin(
      'recent_sessions, a page (100 sessions)',
      await call('sync', 'carol', 'carol-c', { action: 'recent_sessions', latest_update_time: 0 }),
    );
    expectWithin('unread_cnt, a page (100 sessions)', await call('sync', 'carol', 'carol-c', { action: 'unread_cnt' }));
  }, 300_000);

  it('group routes and device tokens', async () => {
    const members = Array.from({ length: GROUP_MEMBERS - 1 }, (_, i) => `m${i + 1}`);
    expectWithin(
      'group_create, M members',
      await call('groups', 'm0', 'm0-c0', { action: 'group_create', group_name: 'second', member_ids: members }),
    );
    const groupId = lastReply('m0-c0')['group_id'] as string;
    const typing = { action: 'typing', state: 'start' };
    expectWithin(
      'typing, group of M',
      await call('typing', 'm0', 'm0-c0', { ...typing, session_id: groupId, session_type: 2 }),
    );
    expectWithin(
      'typing, single chat (both users at the connection cap)',
      await call('typing', 'alice', 'alice-c0', { ...typing, session_id: 'bob', session_type: 1 }),
      GROUP_MEMBERS,
      CONNECTIONS,
    );
    expectWithin(
      'group_info, M members',
      await call('groups', 'm1', 'm1-c0', { action: 'group_info', group_id: groupId }),
    );
    t.clock.advance(60_000); // a new minute of the member-change budget
    expectWithin(
      'group_change_member, remove M − 1 members',
      await call('groups', 'm0', 'm0-c0', {
        action: 'group_change_member',
        group_id: groupId,
        change_type: 'del',
        member_ids: members,
      }),
    );
    expectWithin('group_list, a page (100 groups)', await call('groups', 'm1', 'm1-c0', { action: 'group_list' }));
    for (let i = 0; i < LIMIT_DEFAULTS.maxDeviceTokensPerUser; i++) {
      t.clock.advance(1000);
      await call('devices', 'dave', 'dave-c', {
        action: 'device_token',
        token: `${'t'.repeat(1020)}${i}`,
        platform: 'android',
      });
    }
    t.clock.advance(1000);
    expectWithin(
      'device_token (1,024 characters, the user at its cap)',
      await call('devices', 'dave', 'dave-c', { action: 'device_token', token: 'u'.repeat(1024), platform: 'android' }),
    );
    expectWithin(
      'user_block (or user_unblock)',
      await call('blocks', 'dave', 'dave-c', { action: 'user_block', user_id: `u${'x'.repeat(127)}` }),
    );
    expect(lastReply('dave-c')).toMatchObject({ type: 'user_block' });
  }, 300_000);
});

describe('the most one user can cost in an hour, at the defaults', () => {
  /** $ of one frame: its DynamoDB units, its posts and the frame itself (API Gateway), one Lambda request. */
  const dollars = (c: Cost) =>
    c.writeUnits * PRICES.dynamodb.perWriteUnit +
    c.readUnits * PRICES.dynamodb.perReadUnit +
    (c.posts + 1) * PRICES.apiGateway.perMessage +
    PRICES.lambda.perRequest;

  const perHour = (perSecond: number) => perSecond * 3600;
  const groupMessage = (m: number) =>
    dollars(BOUNDS['msg_data, group (4 KB, first message of the day)']!(m, CONNECTIONS));
  /** Group messages a user may send an hour: the msg_data rate, or the member deliveries (m − 1 a message), whichever binds. */
  const groupMessagesPerHour = (m: number) =>
    perHour(
      Math.min(LIMIT_DEFAULTS.rateLimitPerSecond, Math.floor(LIMIT_DEFAULTS.memberDeliveriesPerSecond / (m - 1))),
    );

  it('the member-delivery budget cuts the most one user can spend through groups by an order of magnitude', () => {
    const before = groupMessage(LIMIT_DEFAULTS.maxGroupMembers) * perHour(LIMIT_DEFAULTS.rateLimitPerSecond);
    const worst = Math.max(
      ...Array.from(
        { length: LIMIT_DEFAULTS.maxGroupMembers - 1 },
        (_, i) => groupMessage(i + 2) * groupMessagesPerHour(i + 2),
      ),
    );
    expect(worst * 10).toBeLessThan(before);
  });

  it('is the table README.md publishes', () => {
    const m = LIMIT_DEFAULTS.maxGroupMembers;
    const c = CONNECTIONS;
    // The group size at which the member-delivery budget lets one user spend the most.
    const worstSize = Array.from({ length: m - 1 }, (_, i) => i + 2).reduce((a, b) =>
      groupMessage(b) * groupMessagesPerHour(b) > groupMessage(a) * groupMessagesPerHour(a) ? b : a,
    );
    const lines = [
      [
        'msg_data to a single chat',
        dollars(BOUNDS['msg_data, single chat (4 KB, both users at the connection cap)']!(0, c)),
        perHour(LIMIT_DEFAULTS.rateLimitPerSecond),
      ],
      [
        'msg_data to a full group (members at the connection cap; member-delivery budget)',
        groupMessage(m),
        groupMessagesPerHour(m),
      ],
      [
        `msg_data to a group of ${worstSize}, the costliest size under the member-delivery budget`,
        groupMessage(worstSize),
        groupMessagesPerHour(worstSize),
      ],
      [
        'reads (recent_sessions or unread_cnt page, the most costly)',
        dollars(BOUNDS['recent_sessions, a page (100 sessions)']!(0, c)),
        perHour(LIMIT_DEFAULTS.readRateLimitPerSecond),
      ],
      [
        'group_create / group_change_member (member budget)',
        dollars(BOUNDS['group_create, M members']!(m, c)) / m,
        LIMIT_DEFAULTS.groupMemberChangesPerMinute * 60,
      ],
      [
        'other writing requests (msg_read_ack, the most costly)',
        dollars(BOUNDS['msg_read_ack (both users at the connection cap)']!(0, c)),
        perHour(LIMIT_DEFAULTS.writeRateLimitPerSecond),
      ],
      [
        'typing to a full group (members at the connection cap; typing budget: one such frame a second)',
        dollars(BOUNDS['typing, group of M']!(m, c)),
        perHour(Math.floor(LIMIT_DEFAULTS.memberDeliveriesPerSecond / (m - 1))),
      ],
      [
        'user_block / user_unblock (write budget; a transaction of 4 items)',
        dollars(BOUNDS['user_block (or user_unblock)']!(0, c)),
        perHour(LIMIT_DEFAULTS.writeRateLimitPerSecond),
      ],
      [
        'attachment_upload of the largest picture (S3 PUT; the upload kept a day)',
        s3Upload(LIMIT_DEFAULTS.maxImageBytes),
        perHour(LIMIT_DEFAULTS.writeRateLimitPerSecond),
      ],
    ].map(
      ([what, perFrame, frames]) =>
        `| ${what as string} | $${(perFrame as number).toFixed(6)} | ${(frames as number).toLocaleString('en-US')} | $${((perFrame as number) * (frames as number)).toFixed(2)} |`,
    );
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const line of [...lines, s3StorageLine()])
      expect(readme, `README.md lacks the line:\n${line}`).toContain(line);
  });

  /** $ of one attachment_upload: its frame (a write-budget write, 2 messages, a Lambda request), the PUT, a day of storage. */
  const s3Upload = (bytes: number) =>
    dollars({ writeUnits: 1, readUnits: 0, posts: 1 }) +
    PRICES.s3.perPutRequest +
    ((bytes / 1024 ** 3) * PRICES.s3.perGbMonth) / 30;

  /** The quota, stored: what it costs a month, and an hour. */
  function s3StorageLine(): string {
    const gib = LIMIT_DEFAULTS.maxAttachmentBytesPerUser / 1024 ** 3;
    const perMonth = gib * PRICES.s3.perGbMonth;
    return `| S3 storage of attachments (the ${gib} GiB quota, kept for ever; at most twice it with a retention) | $${perMonth.toFixed(2)} a month | the quota | $${(perMonth / 730).toFixed(4)} |`;
  }
});
