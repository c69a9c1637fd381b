/**
 * Delivery acks in bulk: the msg_ids of one conversation delivered within the ack window go out as one
 * `msg_data_ack` with `msg_ids`, a full hundred at once, and a server that refuses `msg_ids` (one that predates it)
 * gets them one by one. The window runs on fake timers, so nothing here depends on how fast frames arrive.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MsgDataFrame } from '../../client/index.js';
import type { Frame } from './fake-server.js';
import { cleanUp, makeClient, range, startServer } from './harness.js';

afterEach(() => {
  vi.useRealTimers();
  return cleanUp();
});

function delivery(msgId: number, from = 'bob'): Frame {
  return {
    type: 'msg_data',
    from_user_id: from,
    to_session_id: 'alice',
    msg_id: msgId,
    create_time: 1,
    msg_type: 1,
    msg_data: `#${msgId}`,
  };
}

/** Waits, without a clock, until `check` holds: setImmediate is not faked, so frames keep arriving meanwhile. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

/** A connected client whose timers (the ack window among them) only run when the test advances them. */
async function connectedWithFakeTimers() {
  const server = await startServer();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  const client = makeClient(server, { ackBatchMs: 50 });
  await client.connect();
  const connection = await server.nextConnection();
  const received: MsgDataFrame[] = [];
  client.on('message', (m) => received.push(m));
  /** Sends deliveries and waits until the client has them all. */
  const deliver = async (frames: Frame[]) => {
    const expected = received.length + frames.length;
    for (const frame of frames) connection.send(frame);
    await until(() => received.length === expected);
  };
  const acks = () =>
    connection.frames.filter((f) => f['action'] === 'msg_data_ack').map(({ seq: _seq, ...rest }) => rest);
  const errors: Error[] = [];
  client.on('error', (error) => errors.push(error));
  return { client, connection, deliver, acks, errors };
}

describe('bulk delivery acks', () => {
  it('ack the deliveries of each conversation within the window in one frame, a single one with msg_id', async () => {
    const { connection, deliver, acks } = await connectedWithFakeTimers();
    await deliver([delivery(1), delivery(2), delivery(3), delivery(7, 'carol'), delivery(4)]);
    expect(acks()).toEqual([]);
    vi.advanceTimersByTime(50);
    await connection.nextAction('msg_data_ack');
    await until(() => acks().length === 2);
    expect(acks()).toEqual([
      { action: 'msg_data_ack', msg_ids: [1, 2, 3, 4], session_id: 'bob', session_type: 1 },
      { action: 'msg_data_ack', msg_id: 7, session_id: 'carol', session_type: 1 },
    ]);
  });

  it('close() sends the acks still gathering before the socket closes', async () => {
    const { client, deliver, acks } = await connectedWithFakeTimers();
    await deliver([delivery(1), delivery(2)]);
    expect(acks()).toEqual([]);
    client.close();
    await until(() => acks().length === 1);
    expect(acks()).toEqual([{ action: 'msg_data_ack', msg_ids: [1, 2], session_id: 'bob', session_type: 1 }]);
  });

  it('flush a conversation at 100 ids without waiting for the window', async () => {
    const { deliver, acks } = await connectedWithFakeTimers();
    await deliver(range(1, 150).map((id) => delivery(id)));
    await until(() => acks().length === 1);
    expect(acks()[0]).toEqual({ action: 'msg_data_ack', msg_ids: range(1, 100), session_id: 'bob', session_type: 1 });
    vi.advanceTimersByTime(50);
    await until(() => acks().length === 2);
    expect(acks()[1]).toMatchObject({ msg_ids: range(101, 150) });
  });

  it('a server without msg_ids refuses the bulk ack (bad_request): its ids are acked one by one, then every ack is single', async () => {
    const { connection, deliver, acks, errors } = await connectedWithFakeTimers();
    await deliver([delivery(1), delivery(2)]);
    vi.advanceTimersByTime(50);
    const bulk = await connection.nextAction('msg_data_ack');
    expect(Number.isInteger(bulk['seq'])).toBe(true);
    connection.send({ type: 'error', seq: bulk['seq'], code: 'bad_request', message: 'msg_id: expected number' });
    await until(() => acks().length === 3);
    await deliver([delivery(3), delivery(4)]);
    await until(() => acks().length === 5);
    expect(
      acks()
        .slice(1)
        .map((a) => a['msg_id']),
    ).toEqual([1, 2, 3, 4]);
    expect(errors).toEqual([]);
  });
});
