/**
 * The SDK's presence against a fake server: subscribe sends the union of what the app watches and emits `presence`
 * for each status heard, frames of users not watched are dropped, a new connection subscribes again (and sets away
 * again), usersStat and setPresence send the contract's fields, bad input fails before anything is sent; and the
 * renewal before the server's expiry, on a timer the test moves (fake timers on PresenceSubscriptions alone).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ChatClient, PRESENCE_RENEW_MS, type UserStat } from '../../client/index.js';
import { PresenceSubscriptions } from '../../client/presence.js';
import { tokenFor } from './fake-history.js';
import { FakeServer, type FakeConnection, type Frame } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start() {
  const server = await FakeServer.start();
  servers.push(server);
  const client = new ChatClient({
    url: server.url,
    token: tokenFor('alice'),
    WebSocket,
    catchUp: false,
    reconnect: { initialDelayMs: 10, maxDelayMs: 10 },
  });
  clients.push(client);
  const heard: UserStat[] = [];
  client.on('presence', (stat) => heard.push(stat));
  await client.connect();
  return { server, client, connection: await server.nextConnection(), heard };
}

/** Answers the next `action` frame with `reply` and returns it without its seq. */
async function answer(connection: FakeConnection, action: string, reply: Frame): Promise<Frame> {
  const { seq, ...frame } = await connection.nextAction(action);
  connection.send({ type: action, seq, ...reply });
  return frame;
}

const stats = (...pairs: [string, string][]) => pairs.map(([user_id, status]) => ({ user_id, status }));

describe('presence in the SDK', () => {
  it('subscribes to the union, emits each status heard, drops frames of users not watched', async () => {
    const { client, connection, heard } = await start();
    const first = client.presence.subscribe(['bob', 'carol', 'bob']);
    expect(
      await answer(connection, 'presence_subscribe', {
        user_stat_list: stats(['bob', 'online'], ['carol', 'offline']),
      }),
    ).toEqual({
      action: 'presence_subscribe',
      user_ids: ['bob', 'carol'],
    });
    expect(await first).toEqual(stats(['bob', 'online'], ['carol', 'offline']));

    const second = client.presence.subscribe(['dave']);
    expect(
      (
        await answer(connection, 'presence_subscribe', {
          user_stat_list: stats(['bob', 'online'], ['carol', 'offline'], ['dave', 'away']),
        })
      )['user_ids'],
    ).toEqual(['bob', 'carol', 'dave']);
    await second;
    connection.send({ type: 'presence', user_id: 'zed', status: 'online' });
    connection.send({ type: 'presence', user_id: 'bob', status: 'away' });
    await vi.waitFor(() => expect(heard.at(-1)).toEqual({ user_id: 'bob', status: 'away' }));
    // Each status once: the second subscribe's unchanged bob and carol were not heard again.
    expect(heard).toEqual(stats(['bob', 'online'], ['carol', 'offline'], ['dave', 'away'], ['bob', 'away']));
    expect(client.presence.status('bob')).toBe('away');

    const unsubscribed = client.presence.unsubscribe(['carol', 'dave']);
    const resent = await answer(connection, 'presence_subscribe', { user_stat_list: stats(['bob', 'away']) });
    expect(resent['user_ids']).toEqual(['bob']);
    await unsubscribed;
    expect(client.presence.status('carol')).toBeUndefined();
  });

  it('subscribes again and sets away again on a new connection', async () => {
    const { server, client, connection } = await start();
    const set = client.setPresence('away');
    expect(await answer(connection, 'presence_set', { status: 'away' })).toEqual({
      action: 'presence_set',
      status: 'away',
    });
    await set;
    const sub = client.presence.subscribe(['bob']);
    await answer(connection, 'presence_subscribe', { user_stat_list: stats(['bob', 'online']) });
    await sub;

    connection.drop();
    const next = await server.nextConnection();
    expect(await answer(next, 'presence_set', { status: 'away' })).toMatchObject({ status: 'away' });
    expect(await answer(next, 'presence_subscribe', { user_stat_list: stats(['bob', 'offline']) })).toMatchObject({
      user_ids: ['bob'],
    });
    await vi.waitFor(() => expect(client.presence.status('bob')).toBe('offline'));
  });

  it('usersStat sends user_ids and resolves with the list; bad input throws before sending', async () => {
    const { client, connection } = await start();
    const stat = client.usersStat(['bob']);
    expect(await answer(connection, 'users_stat', { user_stat_list: stats(['bob', 'offline']) })).toEqual({
      action: 'users_stat',
      user_ids: ['bob'],
    });
    expect(await stat).toEqual(stats(['bob', 'offline']));
    await expect(client.usersStat([])).rejects.toThrow(RangeError);
    await expect(client.usersStat(['not an id'])).rejects.toThrow(TypeError);
    await expect(client.presence.subscribe(Array.from({ length: 101 }, (_, i) => `u${i}`))).rejects.toThrow(RangeError);
    await expect(client.setPresence('offline' as 'away')).rejects.toThrow(TypeError);
  });
});

describe('PresenceSubscriptions', () => {
  it('renews the subscription before the server expires it, and not while disconnected', async () => {
    vi.useFakeTimers();
    const sent: unknown[] = [];
    const presence = new PresenceSubscriptions({
      request: (async (action: string, fields: { user_ids?: string[] }) => {
        sent.push([action, fields]);
        return {
          type: action,
          user_stat_list: (fields.user_ids ?? []).map((user_id) => ({ user_id, status: 'online' })),
        };
      }) as never,
      isOpen: () => true,
      changed: () => undefined,
      failed: (error) => {
        throw error;
      },
    });
    await presence.subscribe(['bob']);
    await vi.advanceTimersByTimeAsync(PRESENCE_RENEW_MS - 1);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      ['presence_subscribe', { user_ids: ['bob'] }],
      ['presence_subscribe', { user_ids: ['bob'] }],
    ]);
    presence.lost();
    await vi.advanceTimersByTimeAsync(2 * PRESENCE_RENEW_MS);
    expect(sent).toHaveLength(2);

    // Everything unsubscribed: no empty subscribe (the server refuses one), at once or at renewal.
    presence.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(3);
    await presence.unsubscribe(['bob']);
    await vi.advanceTimersByTimeAsync(2 * PRESENCE_RENEW_MS);
    expect(sent).toHaveLength(3);
  });
});
