/**
 * The outbox against a fake message path (AutoAck): sends are paced to the server's rate, retried on `rate_limited`
 * and `internal` with the same client_msg_id, kept in order per conversation, and only a refusal a retry cannot fix
 * rejects a send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChatServerError, peer } from '../../client/index.js';
import { AutoAck } from './fake-server.js';
import { cleanUp, makeClient, range, startServer } from './harness.js';

afterEach(cleanUp);

describe('pacing and retries', () => {
  it('paces 49 sends queued while offline to the server rate: all stored once, in order, none rejected', async () => {
    const path = new AutoAck({ ratePerSecond: 20 });
    const server = await startServer({ onFrame: path.onFrame });
    const client = makeClient(server);
    const sends = range(1, 49).map((i) => client.send({ to: peer('bob'), msgData: `m${i}` }));
    await client.connect();
    const acks = await Promise.all(sends);
    expect(acks.map((ack) => ack.msg_id)).toEqual(range(1, 49));
    expect(path.stored.map((m) => m.msgData)).toEqual(range(1, 49).map((i) => `m${i}`));
  });

  it('Promise.all of 30 sends while open: every one acked, in order', async () => {
    const path = new AutoAck({ ratePerSecond: 20 });
    const server = await startServer({ onFrame: path.onFrame });
    const client = makeClient(server);
    await client.connect();
    const acks = await Promise.all(range(1, 30).map((i) => client.send({ to: peer('carol'), msgData: `c${i}` })));
    expect(acks.map((ack) => ack.msg_id)).toEqual(range(1, 30));
    expect(path.stored.map((m) => m.msgData)).toEqual(range(1, 30).map((i) => `c${i}`));
  });

  it('retries rate_limited and internal with the same client_msg_id, keeping the conversation in order', async () => {
    let refusals = ['rate_limited', 'internal'];
    const path = new AutoAck({ refuse: (frame) => (frame['msg_data'] === 'two' ? refusals.shift() : undefined) });
    const server = await startServer({ onFrame: path.onFrame });
    const client = makeClient(server, { sendRetry: { initialDelayMs: 10, jitter: 0 } });
    const retries: string[] = [];
    client.on('send_retry', (retry) => retries.push(`${retry.conversation.id}:${retry.error.code}`));
    await client.connect();
    const acks = await Promise.all(['one', 'two', 'three'].map((msgData) => client.send({ to: peer('bob'), msgData })));
    expect(acks.map((ack) => ack.msg_id)).toEqual([1, 2, 3]);
    expect(path.stored.map((m) => m.msgData)).toEqual(['one', 'two', 'three']);
    const two = path.answers.filter((a) => a.clientMsgId === acks[1]!.client_msg_id).map((a) => a.answer);
    expect(two).toEqual(['rate_limited', 'internal', 2]);
    expect(retries).toEqual(['bob:rate_limited', 'bob:internal']);
    refusals = [];
  });

  it('rejects a send the server refuses for good, and goes on with the next one of the conversation', async () => {
    const path = new AutoAck({ refuse: (frame) => (frame['msg_data'] === 'bad' ? 'too_large' : undefined) });
    const server = await startServer({ onFrame: path.onFrame });
    const client = makeClient(server);
    await client.connect();
    const [bad, good] = [
      client.send({ to: peer('bob'), msgData: 'bad' }),
      client.send({ to: peer('bob'), msgData: 'good' }),
    ];
    const error = await bad.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatServerError);
    expect((error as ChatServerError).code).toBe('too_large');
    await expect(good).resolves.toMatchObject({ msg_id: 1 });
  });
});

describe('bounded retries', () => {
  for (const code of ['rate_limited', 'internal'] as const) {
    it(`a send refused ${code} every time is transmitted maxSendAttempts times, then rejects with that code; the conversation goes on`, async () => {
      const path = new AutoAck({ refuse: (frame) => (frame['msg_data'] === 'doomed' ? code : undefined) });
      const server = await startServer({ onFrame: path.onFrame });
      const client = makeClient(server, { maxSendAttempts: 3, sendRetry: { initialDelayMs: 1, jitter: 0 } });
      await client.connect();
      const connection = await server.nextConnection();
      const doomed = client.send({ to: peer('bob'), msgData: 'doomed' });
      const next = client.send({ to: peer('bob'), msgData: 'next' });
      // Either the send rejects after its third transmission, or a fourth goes out (retried without bound).
      const fourth = connection.nextFrame((f) => f['msg_data'] === 'doomed' && path.refused(code) >= 3);
      const outcome = await Promise.race([doomed.catch((error: unknown) => error), fourth.then(() => 'fourth')]);
      expect(outcome).toBeInstanceOf(ChatServerError);
      expect((outcome as ChatServerError).code).toBe(code);
      expect(path.refused(code)).toBe(3);
      await expect(next).resolves.toMatchObject({ msg_id: 1 });
      expect(client.pendingSends).toBe(0);
    });
  }
});
