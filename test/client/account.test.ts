/**
 * The SDK's account lifecycle: `deleteAccount()` asks `account_delete` and resolves on its reply; the kicks that close
 * an account (`account_deleted`, `suspended`) close the client for good — reason `account_closed`, a KickedError
 * saying which — and it does not reconnect (the server would refuse it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KickedError } from '../../client/index.js';
import { cleanUp, makeClient, recordStates, startServer } from './harness.js';

afterEach(cleanUp);

describe('account lifecycle', () => {
  it.each([
    'account_deleted',
    'suspended',
  ] as const)('kick %s: closed with reason account_closed, a KickedError, no reconnect', async (reason) => {
    const server = await startServer();
    const client = makeClient(server);
    const states = recordStates(client);
    await client.connect();
    const connection = await server.nextConnection();
    const reported = client.waitFor('error');
    connection.send({ type: 'kick', reason });
    const error = await reported;
    expect(error).toBeInstanceOf(KickedError);
    expect((error as KickedError).reason).toBe(reason);
    expect(client.connection).toMatchObject({ state: 'closed', reason: 'account_closed' });
    expect(states).toEqual(['connecting', 'open', 'closed']);
    expect(server.upgrades).toHaveLength(1);
  });

  it('deleteAccount() sends account_delete and resolves on its reply; the kick that follows closes the client', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const deleting = client.deleteAccount();
    const frame = await connection.nextAction('account_delete');
    expect(frame).toEqual({ action: 'account_delete', seq: expect.any(Number) });
    connection.send({ type: 'account_delete', seq: frame['seq'] });
    await deleting;
    const closed = client.waitFor('state', (state) => state === 'closed');
    connection.send({ type: 'kick', reason: 'account_deleted' });
    await closed;
    expect(client.connection).toMatchObject({ state: 'closed', reason: 'account_closed' });
  });
});
