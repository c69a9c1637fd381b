/**
 * The SDK's blocks against a fake server: block, unblock and blockList send the contract's fields (blockList follows
 * every page), the typed errors (BlockLimitError past the cap, BlockedError for a one-to-one send refused
 * `not_allowed`), and `blocked_sender` kept on received messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  BlockLimitError,
  BlockedError,
  ChatClient,
  ChatServerError,
  group,
  peer,
  type MsgDataFrame,
} from '../../client/index.js';
import { tokenFor } from './fake-history.js';
import { FakeServer, type FakeConnection, type Frame } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start() {
  const server = await FakeServer.start();
  servers.push(server);
  const client = new ChatClient({ url: server.url, token: tokenFor('alice'), WebSocket, catchUp: false });
  clients.push(client);
  const messages: MsgDataFrame[] = [];
  client.on('message', (m) => messages.push(m));
  await client.connect();
  return { client, connection: await server.nextConnection(), messages };
}

/** Answers the next `action` frame with `reply` (or an error frame) and returns it without its seq. */
async function answer(connection: FakeConnection, action: string, reply: Frame): Promise<Frame> {
  const { seq, ...frame } = await connection.nextAction(action);
  connection.send({ type: reply['code'] === undefined ? action : 'error', seq, ...reply });
  return frame;
}

describe('blocks in the SDK', () => {
  it('block and unblock send user_id; blockList follows every page', async () => {
    const { client, connection } = await start();
    const blocked = client.block('mallory');
    expect(await answer(connection, 'user_block', { user_id: 'mallory' })).toEqual({
      action: 'user_block',
      user_id: 'mallory',
    });
    await blocked;
    const unblocked = client.unblock('mallory');
    expect(await answer(connection, 'user_unblock', { user_id: 'mallory' })).toMatchObject({ user_id: 'mallory' });
    await unblocked;

    const ids: string[] = [];
    const listing = (async () => {
      for await (const id of client.blockList()) ids.push(id);
    })();
    expect(await answer(connection, 'block_list', { user_ids: ['a', 'b'], next_page_token: 'p2' })).toEqual({
      action: 'block_list',
    });
    expect(await answer(connection, 'block_list', { user_ids: ['c'] })).toEqual({
      action: 'block_list',
      page_token: 'p2',
    });
    await listing;
    expect(ids).toEqual(['a', 'b', 'c']);
    await expect(client.block('not a user id')).rejects.toThrow(TypeError);
  });

  it('BlockLimitError past the cap; BlockedError for a one-to-one send refused not_allowed, a plain error for a group', async () => {
    const { client, connection } = await start();
    const blocked = client.block('u1001');
    await answer(connection, 'user_block', { code: 'limit_exceeded', message: 'cap' });
    const limit = await blocked.catch((e: unknown) => e);
    expect(limit).toBeInstanceOf(BlockLimitError);
    expect(limit).toMatchObject({ name: 'BlockLimitError', code: 'limit_exceeded' });

    const sent = client.send({ to: peer('mallory'), msgData: 'hi' });
    await answer(connection, 'msg_data', { code: 'not_allowed', message: 'blocked' });
    const refused = await sent.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BlockedError);
    expect(refused).toBeInstanceOf(ChatServerError);
    expect(refused).toMatchObject({ code: 'not_allowed', message: 'not_allowed: blocked' });

    const toGroup = client.send({ to: group('g:AAAAAAAAAAAAAAAAAAAAAA'), msgData: 'hi' });
    await answer(connection, 'msg_data', { code: 'not_allowed', message: 'other rule' });
    expect(await toGroup.catch((e: unknown) => e)).not.toBeInstanceOf(BlockedError);
  });

  it('keeps blocked_sender on a received group message', async () => {
    const { connection, messages } = await start();
    const groupId = 'g:AAAAAAAAAAAAAAAAAAAAAA';
    connection.send({
      type: 'msg_data',
      from_user_id: 'mallory',
      to_session_id: groupId,
      msg_id: 1,
      create_time: 1,
      msg_type: 17,
      msg_data: 'x',
      blocked_sender: true,
    });
    await connection.nextAction('msg_data_ack');
    expect(messages[0]).toMatchObject({ from_user_id: 'mallory', blocked_sender: true });
  });
});
