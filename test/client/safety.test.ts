/**
 * The SDK's report() and exportAccount() against the fake server: the frames they send, the typed results, the
 * refusals before anything is sent, the ready frame arriving before or after the reply, and the timeout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatServerError, ExportTimeoutError, group, peer } from '../../client/index.js';
import type { FakeConnection, Frame } from './fake-server.js';
import { cleanUp, makeClient, startServer } from './harness.js';

afterEach(() => {
  vi.useRealTimers();
  return cleanUp();
});

async function connected() {
  const server = await startServer();
  const client = makeClient(server);
  await client.connect();
  return { client, connection: await server.nextConnection() };
}

async function answer(connection: FakeConnection, action: string, reply: Frame, before: Frame[] = []): Promise<Frame> {
  const { seq, ...frame } = await connection.nextAction(action);
  for (const f of before) connection.send(f);
  connection.send({ type: action, seq, ...reply });
  return frame;
}

describe('report()', () => {
  it('sends the target of a message or a user and resolves with the report id', async () => {
    const { client, connection } = await connected();
    const first = client.report({
      conversation: group('g:AAAAAAAAAAAAAAAAAAAAAA'),
      msgId: 7,
      reason: 'spam',
      text: 'ads',
    });
    expect(await answer(connection, 'report', { report_id: 'r_1' })).toEqual({
      action: 'report',
      target: { session_id: 'g:AAAAAAAAAAAAAAAAAAAAAA', session_type: 2, msg_id: 7 },
      reason: 'spam',
      text: 'ads',
    });
    expect(await first).toBe('r_1');
    const second = client.report({ userId: 'mallory', reason: 'abuse' });
    expect(await answer(connection, 'report', { report_id: 'r_2' })).toEqual({
      action: 'report',
      target: { user_id: 'mallory' },
      reason: 'abuse',
    });
    expect(await second).toBe('r_2');
  });

  it('refuses a bad reason or too long a text before sending; a server refusal is a ChatServerError', async () => {
    const { client, connection } = await connected();
    await expect(client.report({ userId: 'm', reason: 'rude' as 'spam' })).rejects.toBeInstanceOf(TypeError);
    await expect(client.report({ userId: 'm', reason: 'other', text: 'x'.repeat(1001) })).rejects.toBeInstanceOf(
      TypeError,
    );
    const refused = client.report({ conversation: peer('bob'), msgId: 1, reason: 'spam' });
    const { seq } = await connection.nextAction('report');
    connection.send({ type: 'error', seq, code: 'not_member', message: 'no' });
    await expect(refused).rejects.toMatchObject({ constructor: ChatServerError, code: 'not_member' });
  });
});

describe('exportAccount()', () => {
  it('resolves with the id and a ready promise, whether the frame comes before or after the reply', async () => {
    const { client, connection } = await connected();
    const ready = { type: 'account_export_ready', export_id: 'x_1', url: 'https://s3/x', expires_at: 1_790_000_000 };
    const early = client.exportAccount();
    await answer(connection, 'account_export', { export_id: 'x_1' }, [ready]);
    const request = await early;
    expect(request.exportId).toBe('x_1');
    expect(await request.ready).toEqual(ready);

    const events: unknown[] = [];
    client.on('account_export_ready', (f) => events.push(f));
    const late = client.exportAccount();
    await answer(connection, 'account_export', { export_id: 'x_1' });
    const second = await late;
    connection.send({ ...ready, url: 'https://s3/y' });
    expect((await second.ready).url).toBe('https://s3/y');
    expect(events).toHaveLength(1);
  });

  it('rejects ready with ExportTimeoutError when no frame comes in time', async () => {
    const { client, connection } = await connected();
    const pending = client.exportAccount({ timeoutMs: 1000 });
    await answer(connection, 'account_export', { export_id: 'x_2' });
    vi.useFakeTimers();
    const { ready } = await pending;
    const outcome = expect(ready).rejects.toBeInstanceOf(ExportTimeoutError);
    await vi.advanceTimersByTimeAsync(1000);
    await outcome;
  });
});
